import { PrismaLibSQL } from "@prisma/adapter-libsql";
import type { Client, Config, InStatement, Transaction, TransactionMode } from "@libsql/client";
import { openLibsqlConnection, pathOf } from "./libsql-connection.js";
import { Mutex } from "../../lib/mutex.js";
import { BACKSTOP_CHECKPOINT, startWalCheckpointer, type WalCheckpointer } from "./wal-checkpointer.js";

/** Per-connection settings: write-ahead logging, one fsync per checkpoint, and waiting on a held lock. */
const PRAGMAS = ["PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL", "PRAGMA busy_timeout = 5000", "PRAGMA foreign_keys = ON"];

/** A statement that changes rows outside a transaction (Prisma's single writes). */
const WRITE = /^\s*(INSERT|UPDATE|DELETE|REPLACE)\b/i;

/** Counts the SQL statements sent (not BEGIN/COMMIT), for the tests that keep hot paths short. */
export interface StatementCounter {
  statements: number;
}

/**
 * Prisma's libsql adapter, on one SQLite connection for the life of the service, shared with the
 * service's own prepared statements.
 *
 * @libsql/client 0.8 hands its connection to each interactive transaction and opens a new one
 * for everything after, never closing the old one: every transaction leaked a connection and
 * the new ones ran without the PRAGMAs above. Here transactions (interactive ones and batches)
 * take one lock on the one connection, whoever starts them, so two never overlap. Single
 * statements take no lock, as Prisma's own outside a transaction never did: code inside a
 * transaction may still read through the service's other stores without waiting on itself.
 */
export class SingleConnectionLibSQL extends PrismaLibSQL {
  private open: Client | undefined;
  private checkpointer: WalCheckpointer | undefined;

  constructor(
    private readonly config: Config,
    private readonly counter: StatementCounter,
  ) {
    super(config);
  }

  /** The one connection, opened on first use by Prisma or by the service's own statements. */
  connection(): Client {
    if (!this.open || this.open.closed) this.open = this.openConnection(this.config);
    return this.open;
  }

  override createClient(): Client {
    return this.connection();
  }

  /** Stops the checkpoint worker (after a last checkpoint); the connection itself closes with Prisma. */
  async end(): Promise<void> {
    await this.checkpointer?.stop();
  }

  private openConnection(config: Config): Client {
    const client = openLibsqlConnection(config.url);
    const lock = new Mutex();
    const counter = this.counter;
    // A database file gets its checkpoints from a worker thread (see wal-checkpointer.ts).
    const onDisk = config.url.startsWith("file:") && !config.url.includes(":memory:");
    const ready = (async () => {
      for (const pragma of PRAGMAS) await client.execute(pragma);
      if (!onDisk) return;
      for (const pragma of BACKSTOP_CHECKPOINT) await client.execute(pragma);
      this.checkpointer ??= startWalCheckpointer(
        pathOf(config.url),
        () => void client.execute("PRAGMA wal_autocheckpoint = 1000").catch(() => undefined),
      );
    })();
    const locked = async <T>(work: () => Promise<T>) => {
      await ready;
      return lock.run(work);
    };
    const written = () => this.checkpointer?.written();
    const wrapper: Client = Object.create(client) as Client;
    Object.assign(wrapper, {
      execute: async (statement: InStatement) => {
        await ready;
        counter.statements++;
        const result = await client.execute(statement);
        if (WRITE.test(typeof statement === "string" ? statement : statement.sql)) written();
        return result;
      },
      batch: (statements: InStatement[], mode?: TransactionMode) =>
        locked(async () => {
          counter.statements += statements.length;
          const results = await client.batch(statements, mode);
          written();
          return results;
        }),
      executeMultiple: async (sql: string) => (await ready, client.executeMultiple(sql)),
      transaction: async (mode: TransactionMode = "deferred") => {
        await ready;
        const release = await lock.acquire();
        try {
          return await transactionOn(client, mode, counter, () => (release(), written()));
        } catch (error) {
          release();
          throw error;
        }
      },
      close: () => client.close(),
    });
    return wrapper;
  }
}

/** An interactive transaction on the client's own connection, holding the lock until it ends. */
async function transactionOn(client: Client, mode: TransactionMode, counter: StatementCounter, release: () => void): Promise<Transaction> {
  await client.execute(mode === "write" ? "BEGIN IMMEDIATE" : mode === "read" ? "BEGIN TRANSACTION READONLY" : "BEGIN DEFERRED");
  let open = true;
  const end = async (statement: string) => {
    if (!open) return;
    open = false;
    try {
      await client.execute(statement);
    } finally {
      release();
    }
  };
  return {
    execute: (statement: InStatement) => (counter.statements++, client.execute(statement)),
    batch: async (statements: InStatement[]) => {
      const results = [];
      for (const statement of statements) results.push(await (counter.statements++, client.execute(statement)));
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
