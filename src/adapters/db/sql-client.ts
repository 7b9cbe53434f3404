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
  /** Several writes as one transaction: all or nothing. */
  batch(statements: SqlStatement[]): Promise<void>;
}

export function sqliteSqlClient(client: () => Client): SqlClient {
  return {
    dialect: "sqlite",
    async query(sql, args = []) {
      const result = await client().execute({ sql, args: args.map(sqliteValue) });
      return result.rows.map((row) => Object.fromEntries(result.columns.map((column, index) => [column, row[index]])));
    },
    async batch(statements) {
      await client().batch(
        statements.map((s) => ({ sql: s.sql, args: s.args.map(sqliteValue) })),
        "write",
      );
    },
  };
}

export function postgresSqlClient(pool: pg.Pool): SqlClient {
  return {
    dialect: "postgresql",
    async query(sql, args = []) {
      return (await pool.query({ text: numbered(sql), values: args })).rows as SqlRow[];
    },
    async batch(statements) {
      const connection = await pool.connect();
      try {
        await connection.query("BEGIN");
        for (const statement of statements) await connection.query({ text: numbered(statement.sql), values: statement.args });
        await connection.query("COMMIT");
      } catch (error) {
        await connection.query("ROLLBACK").catch(() => undefined);
        throw error;
      } finally {
        connection.release();
      }
    },
  };
}

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
