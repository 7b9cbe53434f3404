/**
 * What the database and its driver allow on their own, from connections of their own: the
 * service's figures cannot beat these on this machine.
 */
import { createClient } from "@libsql/client";
import express from "express";
import pg from "pg";
import { openLoop, type LoadResult } from "./load.js";
import { listen } from "./service.js";

const TABLE = `"BenchCommitFloor"`;
const ROW = "x".repeat(2000);

/**
 * The open loop's floor: one committed INSERT of a submission-sized row per request, on a
 * scratch table of the service's database. The service's tail cannot be shorter than its database's commit tail.
 */
export async function databaseOpenLoop(databaseUrl: string, options: { perSecond: number; seconds: number }): Promise<LoadResult> {
  const database = connect(databaseUrl);
  try {
    await database.execute(`CREATE TABLE IF NOT EXISTS ${TABLE} ("uid" TEXT PRIMARY KEY, "body" TEXT NOT NULL)`);
    return await openLoop(options, async () => (await database.insert(crypto.randomUUID(), ROW), true));
  } finally {
    await database.execute(`DROP TABLE IF EXISTS ${TABLE}`).catch(() => undefined);
    await database.close();
  }
}

/**
 * The registry read's floor: a bare Express route that runs the list's query (one prepared
 * statement, the same SQL) through the driver and answers the same envelope, with no
 * authentication, validation, logging or presenters: what the stack allows per request. It is
 * served as the service serves its app, so the two differ only in what the service does.
 */
export async function driverReadRoute(databaseUrl: string, organizationUid: string) {
  const database = connect(databaseUrl);
  const query = `SELECT "uid", "createdAt", "name", "description", "organizationUid" FROM "Project" WHERE "organizationUid" = ? ORDER BY "createdAt", "uid" LIMIT 1001`;
  const app = express();
  app.post("/floor", express.json(), async (request, response) => {
    const rows = await database.select(query, [(request.body as { f_organization_uid: string }).f_organization_uid]);
    const data = rows.map((row) => ({
      uid: row.uid,
      created_time: row.createdAt,
      name: row.name,
      description: row.description,
      f_organization_uid: row.organizationUid,
    }));
    response.json({ detail: "Metadatas retrieved successfully", data });
  });
  const { server, port } = await listen(app, "service");
  const body = JSON.stringify({ f_organization_uid: organizationUid });
  return {
    port,
    request: () => ({ method: "POST", path: "/floor", body, headers: { "Content-Type": "application/json" } }),
    close: async () => {
      await new Promise((resolve) => server.close(resolve));
      await database.close();
    },
  };
}

interface FloorConnection {
  execute(sql: string): Promise<unknown>;
  insert(uid: string, body: string): Promise<unknown>;
  /** A read by prepared statement, `?` placeholders. */
  select(sql: string, args: string[]): Promise<Array<Record<string, unknown>>>;
  close(): Promise<void>;
}

/** A connection of the floor's own, set as the service sets its own (PostgreSQL: a prepared statement; SQLite: WAL, synchronous NORMAL). */
function connect(url: string): FloorConnection {
  if (url.startsWith("postgres")) {
    const pool = new pg.Pool({ connectionString: url, max: 16 });
    const insert = `INSERT INTO ${TABLE} ("uid", "body") VALUES ($1, $2)`;
    return {
      execute: (sql) => pool.query(sql),
      insert: (uid, body) => pool.query({ name: "floor_insert", text: insert, values: [uid, body] }),
      select: async (sql, args) => {
        let n = 0;
        return (await pool.query({ name: "floor_select", text: sql.replace(/\?/g, () => `$${(n += 1)}`), values: args })).rows;
      },
      close: () => pool.end(),
    };
  }
  const client = createClient({ url });
  const ready = (async () => {
    for (const pragma of ["PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL", "PRAGMA busy_timeout = 5000"])
      await client.execute(pragma);
  })();
  return {
    execute: async (sql) => (await ready, client.execute(sql)),
    insert: async (uid, body) => (
      await ready,
      client.execute({ sql: `INSERT INTO ${TABLE} ("uid", "body") VALUES (?, ?)`, args: [uid, body] })
    ),
    select: async (sql, args) => {
      await ready;
      const { columns, rows } = await client.execute({ sql, args });
      return rows.map((row) => Object.fromEntries(columns.map((column, index) => [column, row[index]])));
    },
    close: async () => client.close(),
  };
}
