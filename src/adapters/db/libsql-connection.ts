/**
 * @libsql/client's local client, rebuilt on the same native `libsql` database with its prepared
 * statements kept. The client prepared every statement on each call and read its columns twice
 * (a quarter of a submission's CPU went there); here a statement is prepared once per text, its
 * columns read once, and rows come back as plain arrays (all Prisma's adapter and the service's
 * own statements read). Values are converted as the client converts them (`intMode` "number").
 */
import Database from "libsql";
import {
  LibsqlError,
  type Client,
  type InArgs,
  type InStatement,
  type InValue,
  type ResultSet,
  type TransactionMode,
} from "@libsql/client";

/** Distinct statement texts kept prepared; the service sends far fewer, so this only bounds a runaway. */
const CACHE_SIZE = 1000;
const MIN_INTEGER = -9223372036854775808n;
const MAX_INTEGER = 9223372036854775807n;

type Statement = ReturnType<Database.Database["prepare"]>;

interface Prepared {
  statement: Statement;
  returnsData: boolean;
  columns: string[];
  columnTypes: string[];
}

export function openLibsqlConnection(url: string): Client {
  const database = new Database(pathOf(url));
  const cache = new Map<string, Prepared>();
  let closed = false;

  const prepared = (sql: string): Prepared => {
    const known = cache.get(sql);
    if (known) return known;
    const statement = database.prepare(sql);
    statement.safeIntegers(true);
    let returnsData = true;
    try {
      statement.raw(true);
    } catch {
      returnsData = false; // raw() refuses a statement that returns no rows
    }
    const described = returnsData ? statement.columns() : [];
    const entry = { statement, returnsData, columns: described.map((c) => c.name), columnTypes: described.map((c) => c.type ?? "") };
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
    cache.set(sql, entry);
    return entry;
  };

  const run = (input: InStatement): ResultSet => {
    const sql = typeof input === "string" ? input : input.sql;
    const args = typeof input === "string" ? [] : argsOf(input.args);
    try {
      const { statement, returnsData, columns, columnTypes } = prepared(sql);
      if (returnsData) {
        const rows = (statement.all(args) as unknown[][]).map((row) => row.map(valueFromSql));
        return resultSet(columns, columnTypes, rows as unknown as ResultSet["rows"], 0, undefined);
      }
      const info = statement.run(args);
      return resultSet([], [], [], info.changes, BigInt(info.lastInsertRowid));
    } catch (error) {
      throw error instanceof Database.SqliteError ? new LibsqlError(error.message, error.code, undefined, error) : error;
    }
  };

  const client = {
    protocol: "file",
    get closed() {
      return closed;
    },
    execute: async (input: InStatement | string, args?: InValue[]) => run(typeof input === "string" && args ? { sql: input, args } : input),
    batch: async (statements: InStatement[], mode: TransactionMode = "deferred") => {
      run(beginOf(mode));
      try {
        const results = statements.map((statement) => run(statement));
        run("COMMIT");
        return results;
      } finally {
        if (database.inTransaction) run("ROLLBACK");
      }
    },
    executeMultiple: async (sql: string) => {
      cache.clear(); // schema changes: statements are prepared again, against the new schema
      try {
        database.exec(sql);
      } finally {
        if (database.inTransaction) database.exec("ROLLBACK");
      }
    },
    transaction: () => {
      throw new Error("transactions run through SingleConnectionLibSQL, on its one lock");
    },
    migrate: () => {
      throw new Error("not supported on a local connection");
    },
    sync: async () => undefined,
    close: () => {
      if (closed) return;
      closed = true;
      cache.clear();
      database.close();
    },
  };
  return client as unknown as Client;
}

/** `file:path`, `file:///abs/path` and `file::memory:` as the native driver wants them. */
export function pathOf(url: string): string {
  const rest = url.replace(/^file:/, "").replace(/\?.*$/, "");
  return rest.startsWith("//") ? rest.slice(2) : rest;
}

function beginOf(mode: TransactionMode): string {
  return mode === "write" ? "BEGIN IMMEDIATE" : mode === "read" ? "BEGIN TRANSACTION READONLY" : "BEGIN DEFERRED";
}

function argsOf(args: InArgs | undefined): unknown[] | Record<string, unknown> {
  if (args === undefined) return [];
  if (Array.isArray(args)) return args.map(valueToSql);
  const named: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(args))
    named[name[0] === "@" || name[0] === "$" || name[0] === ":" ? name.slice(1) : name] = valueToSql(value);
  return named;
}

function valueToSql(value: InValue): unknown {
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new RangeError("Only finite numbers (not Infinity or NaN) can be passed as arguments");
    return value;
  }
  if (typeof value === "bigint") {
    if (value < MIN_INTEGER || value > MAX_INTEGER)
      throw new RangeError("bigint is too large to be represented as a 64-bit integer and passed as argument");
    return value;
  }
  if (typeof value === "boolean") return value ? 1 : 0;
  if (value instanceof ArrayBuffer) return Buffer.from(value);
  if (value instanceof Date) return value.valueOf();
  if (value === undefined) throw new TypeError("undefined cannot be passed as argument to the database");
  return value;
}

function valueFromSql(value: unknown): unknown {
  if (typeof value === "bigint") {
    if (value < BigInt(Number.MIN_SAFE_INTEGER) || value > BigInt(Number.MAX_SAFE_INTEGER))
      throw new RangeError("Received integer which cannot be safely represented as a JavaScript number");
    return Number(value);
  }
  if (value instanceof Buffer) return value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength);
  return value;
}

function resultSet(
  columns: string[],
  columnTypes: string[],
  rows: ResultSet["rows"],
  rowsAffected: number,
  lastInsertRowid: bigint | undefined,
): ResultSet {
  return {
    columns,
    columnTypes,
    rows,
    rowsAffected,
    lastInsertRowid,
    toJSON: () => ({ columns, columnTypes, rows, rowsAffected, lastInsertRowid: lastInsertRowid?.toString() ?? null }),
  };
}
