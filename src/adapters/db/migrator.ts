import { mkdir, readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createClient } from "@libsql/client";
import pg from "pg";
import type { DatabaseSettings } from "./prisma-database.js";

const PRISMA_DIR = fileURLToPath(new URL("../../../prisma/", import.meta.url));
const LEDGER = "_entrypoint_migrations";

/**
 * Applies the committed migrations (prisma/migrations for SQLite, prisma/postgresql/migrations
 * for PostgreSQL) in name order, each in its own transaction together with its ledger row, so
 * a failed migration leaves nothing half-applied. A SQLite file's directory is created first.
 * Returns the names it applied.
 */
export async function applyMigrations({ url, provider }: Pick<DatabaseSettings, "url" | "provider">): Promise<string[]> {
  if (provider === "sqlite") await mkdir(path.dirname(url.slice("file:".length)), { recursive: true });
  const dir = provider === "postgresql" ? path.join(PRISMA_DIR, "postgresql", "migrations") : path.join(PRISMA_DIR, "migrations");
  const names = (await readdir(dir, { withFileTypes: true }))
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  const runner = provider === "postgresql" ? await postgresRunner(url) : sqliteRunner(url);
  try {
    await runner.exec(`CREATE TABLE IF NOT EXISTS ${LEDGER} (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)`);
    const applied = new Set(await runner.appliedNames());
    const pending = names.filter((name) => !applied.has(name));
    for (const name of pending) {
      const sql = await readFile(path.join(dir, name, "migration.sql"), "utf8");
      const ledgerRow = `INSERT INTO ${LEDGER} (name, applied_at) VALUES ('${name.replace(/'/g, "''")}', '${new Date().toISOString()}');`;
      await runner.exec(`BEGIN;\n${sql}\n${ledgerRow}\nCOMMIT;`).catch(async (error: unknown) => {
        await runner.exec("ROLLBACK").catch(() => undefined);
        throw new Error(`migration ${name} failed: ${(error as Error).message}`, { cause: error });
      });
    }
    return pending;
  } finally {
    await runner.close();
  }
}

interface Runner {
  exec(sql: string): Promise<void>;
  appliedNames(): Promise<string[]>;
  close(): Promise<void>;
}

function sqliteRunner(url: string): Runner {
  const client = createClient({ url });
  return {
    exec: async (sql) => void (await client.executeMultiple(sql)),
    appliedNames: async () => (await client.execute(`SELECT name FROM ${LEDGER}`)).rows.map((r) => String(r.name)),
    close: async () => client.close(),
  };
}

async function postgresRunner(url: string): Promise<Runner> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return {
    exec: async (sql) => void (await client.query(sql)),
    appliedNames: async () => (await client.query<{ name: string }>(`SELECT name FROM ${LEDGER}`)).rows.map((r) => r.name),
    close: () => client.end(),
  };
}
