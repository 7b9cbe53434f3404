import { PrismaLibSQL } from "@prisma/adapter-libsql";
import { createClient, type Client, type Config, type InStatement, type Transaction, type TransactionMode } from "@libsql/client";

/** Per-connection settings: write-ahead logging, one fsync per checkpoint, and waiting on a held lock. */
const PRAGMAS = ["PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL", "PRAGMA busy_timeout = 5000", "PRAGMA foreign_keys = ON"];

/**
 * Prisma's libsql adapter, on one SQLite connection for the life of the service.
 *
 * @libsql/client 0.8 hands its connection to each interactive transaction and opens a new one
 * for everything after, never closing the old one: every transaction leaked a connection and
 * the new ones ran without the PRAGMAs above. The adapter already runs one statement or one
 * transaction at a time (its mutex), so a transaction can simply run on the same connection.
 */
export class SingleConnectionLibSQL extends PrismaLibSQL {
  override createClient(config: Config): Client {
    const client = createClient(config);
    const ready = (async () => {
      for (const pragma of PRAGMAS) await client.execute(pragma);
    })();
    const run = async <T>(work: () => Promise<T>) => {
      await ready;
      return work();
    };
    const wrapper: Client = Object.create(client) as Client;
    Object.assign(wrapper, {
      execute: (statement: InStatement) => run(() => client.execute(statement)),
      batch: (statements: InStatement[], mode?: TransactionMode) => run(() => client.batch(statements, mode)),
      executeMultiple: (sql: string) => run(() => client.executeMultiple(sql)),
      transaction: (mode: TransactionMode = "deferred") => run(() => transactionOn(client, mode)),
      close: () => client.close(),
    });
    return wrapper;
  }
}

/** An interactive transaction on the client's own connection. */
async function transactionOn(client: Client, mode: TransactionMode): Promise<Transaction> {
  await client.execute(mode === "write" ? "BEGIN IMMEDIATE" : mode === "read" ? "BEGIN TRANSACTION READONLY" : "BEGIN DEFERRED");
  let open = true;
  const end = async (statement: string) => {
    if (!open) return;
    open = false;
    await client.execute(statement);
  };
  return {
    execute: (statement: InStatement) => client.execute(statement),
    batch: async (statements: InStatement[]) => {
      const results = [];
      for (const statement of statements) results.push(await client.execute(statement));
      return results;
    },
    executeMultiple: (sql: string) => client.executeMultiple(sql),
    commit: () => end("COMMIT"),
    rollback: () => end("ROLLBACK"),
    close: () => void end("ROLLBACK").catch(() => undefined),
    get closed() {
      return !open;
    },
  } as Transaction;
}
