/**
 * Prepared statements on the same connections Prisma uses (its libsql connection, its pg pool),
 * for the paths where Prisma's own cost per query dominates: one SQL text for both databases,
 * written with `?` placeholders (numbered for PostgreSQL here) and quoted identifiers.
 */
import type { Client, InValue } from "@libsql/client";
import type pg from "pg";
import type { StatementCounter } from "./single-connection-libsql.js";

export type SqlValue = string | number | boolean | null | Date;
export type SqlRow = Record<string, unknown>;

export interface SqlStatement {
  sql: string;
  args: SqlValue[];
}

export interface SqlClient {
  readonly dialect: "sqlite" | "postgresql";
  query(sql: string, args?: SqlValue[]): Promise<SqlRow[]>;
  /** Several INSERTs (no RETURNING) as one transaction: all or nothing. */
  insertAll(statements: SqlStatement[]): Promise<void>;
}

export function sqliteSqlClient(client: () => Client): SqlClient {
  return {
    dialect: "sqlite",
    async query(sql, args = []) {
      const { columns, rows } = await client().execute({ sql, args: args.map(sqliteValue) });
      return rows.map((row) => {
        const named: SqlRow = {};
        for (let index = 0; index < columns.length; index += 1) named[columns[index]!] = row[index];
        return named;
      });
    },
    async insertAll(statements) {
      if (!statements.length) return;
      await client().batch(
        statements.map((s) => ({ sql: s.sql, args: s.args.map(sqliteValue) })),
        "write",
      );
    },
  };
}

/**
 * Statements are named, so each connection parses and plans a text once and then only binds
 * and executes it. Names are kept for the first `PREPARED_TEXTS` texts (a bound on what each
 * connection holds); any beyond are sent unnamed.
 */
export function postgresSqlClient(pool: pg.Pool): SqlClient {
  const texts = new Map<string, { name: string; text: string }>();
  const prepared = (sql: string, values: SqlValue[]): pg.QueryConfig => {
    let known = texts.get(sql);
    if (!known) {
      known = { name: `ae_${texts.size + 1}`, text: numbered(sql) };
      if (texts.size >= PREPARED_TEXTS) return { text: known.text, values };
      texts.set(sql, known);
    }
    return { name: known.name, text: known.text, values };
  };
  return {
    dialect: "postgresql",
    async query(sql, args = []) {
      return (await pool.query(prepared(sql, args))).rows as SqlRow[];
    },
    // One statement, each INSERT but the last a data-modifying WITH: atomic in one round trip, without BEGIN and COMMIT.
    async insertAll(statements) {
      const last = statements.length - 1;
      if (last < 0) return;
      const sql =
        last === 0
          ? statements[0]!.sql
          : `WITH ${statements
              .slice(0, last)
              .map((statement, index) => `"insert_${index}" AS (${statement.sql})`)
              .join(", ")} ${statements[last]!.sql}`;
      await pool.query(
        prepared(
          sql,
          statements.flatMap((statement) => statement.args),
        ),
      );
    },
  };
}

/** Distinct statement texts prepared by name on each PostgreSQL connection. */
const PREPARED_TEXTS = 500;

const TRANSACTION_CONTROL = /^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|SET|DEALLOCATE)\b/i;

/**
 * The pool Prisma and the prepared statements share, counting what they send: every query of
 * the clients it lends (`pool.query` too goes through one), transaction control aside. Timestamps are read as UTC,
 * which is how Prisma writes them into `timestamp(3)` columns.
 */
export function countedPool(pool: pg.Pool, counter: StatementCounter): pg.Pool {
  const count = (query: unknown) => {
    const text = typeof query === "string" ? query : ((query as { text?: string } | undefined)?.text ?? "");
    if (!TRANSACTION_CONTROL.test(text)) counter.statements += 1;
  };
  pool.on("connect", (client) => {
    const clientQuery = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => (
      count(args[0]),
      clientQuery(...args)
    );
  });
  return pool;
}

/** How Prisma stores a DateTime in SQLite (text, milliseconds, `+00:00`), so comparisons and reads agree with its rows. */
export function sqliteTime(date: Date): string {
  return date.toISOString().replace("Z", "+00:00");
}

/**
 * A stored time as a Date: Prisma's SQLite text (`2026-12-01T19:44:00.123+00:00`), PostgreSQL's
 * `timestamp(3)` text (`2026-12-01 19:44:00.123`, UTC) or its JSON (`2026-12-01T19:44:00.12`, UTC).
 * Read field by field: a page holds tens of these, and building a string for `Date` to parse costs twice as much.
 */
export function parseStoredTime(text: string): Date {
  const separator = text.charCodeAt(10);
  if (
    text.charCodeAt(4) === DASH &&
    text.charCodeAt(7) === DASH &&
    (separator === 0x54 || separator === 0x20) &&
    text.charCodeAt(13) === COLON
  ) {
    const year = digitsAt(text, 0, 4);
    const month = digitsAt(text, 5, 2);
    const day = digitsAt(text, 8, 2);
    const hours = digitsAt(text, 11, 2);
    const minutes = digitsAt(text, 14, 2);
    const seconds = digitsAt(text, 17, 2);
    let end = 19;
    let millis = 0;
    if (text.charCodeAt(end) === DOT) {
      let digits = 0;
      for (end += 1; isDigit(text.charCodeAt(end)); end += 1, digits += 1)
        if (digits < 3) millis = millis * 10 + text.charCodeAt(end) - ZERO;
      millis *= 10 ** Math.max(0, 3 - digits);
      if (!digits) millis = Number.NaN;
    }
    const zone = end === text.length ? "" : text.slice(end);
    const utc = zone === "" || zone === "Z" || zone === "+00:00";
    if (utc && year >= 1000 && text.charCodeAt(16) === COLON && !Number.isNaN(hours + minutes + seconds + millis + month + day))
      return new Date(Date.UTC(year, month - 1, day, hours, minutes, seconds, millis));
  }
  return new Date(/(?:z|[+-]\d\d:?\d\d)$/i.test(text) ? text : `${text.replace(" ", "T")}Z`);
}

const [DASH, COLON, DOT, ZERO] = [0x2d, 0x3a, 0x2e, 0x30];

function isDigit(code: number): boolean {
  return code >= ZERO && code <= ZERO + 9;
}

/** The number in `count` decimal digits from `start`; NaN when one is not a digit. */
function digitsAt(text: string, start: number, count: number): number {
  let value = 0;
  for (let index = start; index < start + count; index += 1) {
    const code = text.charCodeAt(index);
    if (!isDigit(code)) return Number.NaN;
    value = value * 10 + code - ZERO;
  }
  return value;
}

function sqliteValue(value: SqlValue): InValue {
  if (value instanceof Date) return sqliteTime(value);
  if (typeof value === "boolean") return value ? 1 : 0;
  return value;
}

/** `?` placeholders as PostgreSQL's `$1, $2, ...` (the SQL texts here hold no `?` inside strings). */
function numbered(sql: string): string {
  let index = 0;
  return sql.replace(/\?/g, () => `$${++index}`);
}
