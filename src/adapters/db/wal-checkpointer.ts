import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

/** The shared counter's slots: writes committed, and whether the worker should end. */
const WRITES = 0;
const STOP = 1;

/**
 * SQLite's automatic checkpoint runs inside whichever commit crosses the threshold, on the
 * service's one connection, so that commit (and the event loop, libsql being synchronous) waits
 * for the WAL to be copied and synced: the p99 spikes of busy writers. Here a worker thread runs
 * passive checkpoints (which never block readers or writers) on its own connection, soon after
 * each write, and the connection's own automatic checkpoint only fires when the WAL outgrows a
 * much larger bound: under writes that never pause, a passive checkpoint cannot finish and let
 * the WAL restart, so that bound keeps the file from growing without end.
 *
 * Why soon and small: each checkpoint ends with an fsync, and on ext4 a large fsync stalls the
 * other writes to the disk, the service's commits among them. Open-loop submissions at 620/s
 * (group commits, about 25 WAL pages each): p99 9-22 ms checkpointing at most every 30 ms,
 * 13-97 ms every 300 ms, 30-59 ms every second. The worker sleeps until the service writes
 * (a shared counter it waits on), so an idle service wakes nothing.
 */
const WORKER_SOURCE = `
const { workerData } = require("node:worker_threads");
const Database = require(workerData.module);
const signal = new Int32Array(workerData.signal);
const database = new Database(workerData.path);
database.prepare("PRAGMA busy_timeout = 1000").all();
const checkpoint = database.prepare("PRAGMA wal_checkpoint(PASSIVE)");
const stopping = () => Atomics.load(signal, ${STOP}) !== 0;
let seen = 0;
for (;;) {
  Atomics.wait(signal, ${WRITES}, seen);
  seen = Atomics.load(signal, ${WRITES});
  try { checkpoint.all(); } catch { /* the next write tries again */ }
  if (stopping()) break;
  Atomics.wait(signal, ${STOP}, 0, workerData.intervalMs);
}
database.close();
`;

/** The connection's own checkpoints: only past 16k pages (64 MiB), and a WAL file cut back to 64 MiB after it restarts. */
export const BACKSTOP_CHECKPOINT = ["PRAGMA wal_autocheckpoint = 16384", "PRAGMA journal_size_limit = 67108864"];

export interface WalCheckpointer {
  /** The service committed a write: a checkpoint follows within `intervalMs`. */
  written(): void;
  /** Runs a last checkpoint and ends the worker. */
  stop(): Promise<void>;
}

/** `onFailure`: the worker could not run (the connection should checkpoint by itself again). */
export function startWalCheckpointer(path: string, onFailure: (error: unknown) => void, intervalMs = 30): WalCheckpointer {
  const signal = new Int32Array(new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT));
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { path, intervalMs, signal: signal.buffer, module: createRequire(import.meta.url).resolve("libsql") },
  });
  worker.unref();
  worker.once("error", onFailure);
  const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
  let stopped: Promise<void> | undefined;
  return {
    written() {
      Atomics.add(signal, WRITES, 1);
      Atomics.notify(signal, WRITES);
    },
    stop() {
      worker.ref(); // the last checkpoint finishes even if nothing else keeps the process alive
      if (!stopped) {
        Atomics.store(signal, STOP, 1);
        Atomics.notify(signal, STOP);
        this.written();
        stopped = exited;
      }
      return stopped;
    },
  };
}
