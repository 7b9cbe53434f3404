import { describe, expect, test } from "@jest/globals";
import type pg from "pg";
import { postgresSqlClient } from "../../src/adapters/db/sql-client.js";

/** A pool that records what it is asked to run. */
function recordingPool() {
  const sent: pg.QueryConfig[] = [];
  const pool = { query: async (config: pg.QueryConfig) => (sent.push(config), { rows: [] }) };
  return { pool: pool as unknown as pg.Pool, sent };
}

describe("PostgreSQL statements", () => {
  test("When one text is run twice and another once, then each text keeps one name and is numbered for PostgreSQL", async () => {
    const { pool, sent } = recordingPool();
    const sql = postgresSqlClient(pool);
    await sql.query(`SELECT "uid" FROM "Task" WHERE "uid" = ? AND "status" = ?`, ["a", "init"]);
    await sql.query(`SELECT "uid" FROM "Task" WHERE "uid" = ? AND "status" = ?`, ["b", "init"]);
    await sql.query(`SELECT "uid" FROM "Model" WHERE "uid" = ?`, ["c"]);
    expect(sent.map((s) => s.text)).toEqual([
      `SELECT "uid" FROM "Task" WHERE "uid" = $1 AND "status" = $2`,
      `SELECT "uid" FROM "Task" WHERE "uid" = $1 AND "status" = $2`,
      `SELECT "uid" FROM "Model" WHERE "uid" = $1`,
    ]);
    expect(sent[0]!.name).toBeDefined();
    expect(sent[1]!.name).toBe(sent[0]!.name);
    expect(sent[2]!.name).not.toBe(sent[0]!.name);
  });

  test("When more distinct texts than the bound are run, then the ones past it are sent unnamed", async () => {
    const { pool, sent } = recordingPool();
    const sql = postgresSqlClient(pool);
    for (let i = 0; i < 510; i += 1) await sql.query(`SELECT ${i}`);
    expect(sent.filter((s) => s.name !== undefined)).toHaveLength(500);
    expect(sent.at(-1)!.name).toBeUndefined();
  });

  test("When rows of several tables are inserted together, then they go as one statement of chained INSERTs, arguments in order", async () => {
    const { pool, sent } = recordingPool();
    const sql = postgresSqlClient(pool);
    await sql.insertAll([
      { sql: `INSERT INTO "Task" ("uid") VALUES (?)`, args: ["t"] },
      { sql: `INSERT INTO "TaskStep" ("taskUid", "name") VALUES (?, ?), (?, ?)`, args: ["t", "a", "t", "b"] },
      { sql: `INSERT INTO "AuditEvent" ("uid") VALUES (?)`, args: ["e"] },
    ]);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.text).toBe(
      `WITH "insert_0" AS (INSERT INTO "Task" ("uid") VALUES ($1)), "insert_1" AS (INSERT INTO "TaskStep" ("taskUid", "name") VALUES ($2, $3), ($4, $5)) INSERT INTO "AuditEvent" ("uid") VALUES ($6)`,
    );
    expect(sent[0]!.values).toEqual(["t", "t", "a", "t", "b", "e"]);
  });
});
