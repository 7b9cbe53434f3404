/**
 * The database on its own at the open loop's rate: one committed INSERT of a submission-sized
 * row per request, on a scratch table of the service's database, from a connection of its own.
 * The service's tail latency cannot be shorter than its database's commit tail on this machine.
 */
import { createClient } from "@libsql/client";
import pg from "pg";
import { openLoop, type LoadResult } from "./load.js";

const TABLE = `"BenchCommitFloor"`;
const ROW = "x".repeat(2000);

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

interface FloorConnection {
  execute(sql: string): Promise<unknown>;
  insert(uid: string, body: string): Promise<unknown>;
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
    close: async () => client.close(),
  };
}
