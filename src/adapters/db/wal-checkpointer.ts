import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

/**
 * SQLite's automatic checkpoint runs inside whichever commit crosses the threshold, on the
 * service's one connection, so that commit (and the event loop, libsql being synchronous) waits
 * for the WAL to be copied and synced: the p99 spikes of busy writers. Here a worker thread runs
 * passive checkpoints (which never block readers or writers) on its own connection every 100 ms,
 * and the connection's own automatic checkpoint only fires when the WAL outgrows a much larger
 * bound: under writes that never pause, a passive checkpoint cannot finish and let the WAL
 * restart, so that bound keeps the file from growing without end.
 *
 * Why so often: the WAL restarts from its start only after a checkpoint has caught up, so the
 * longer between checkpoints, the further the WAL grows under steady writes, and a commit
 * stalled 15-50 ms each time it grew into new space (measured: open-loop submissions at 450/s,
 * p99 27 ms checkpointing every second, 7 ms every 100 ms). On an idle database a checkpoint
 * finds nothing to copy and costs next to nothing.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { createClient } = require(workerData.module);
const client = createClient({ url: workerData.url });
let busy = false;
const checkpoint = async () => {
  if (busy) return;
  busy = true;
  try { await client.execute("PRAGMA wal_checkpoint(PASSIVE)"); } catch { /* the next tick tries again */ }
  busy = false;
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on("message", async () => {
  clearInterval(timer);
  await checkpoint();
  client.close();
  parentPort.close();
});
`;

/** The connection's own checkpoints: only past 16k pages (64 MiB), and a WAL file cut back to 64 MiB after it restarts. */
export const BACKSTOP_CHECKPOINT = ["PRAGMA wal_autocheckpoint = 16384", "PRAGMA journal_size_limit = 67108864"];

/** `onFailure`: the worker could not run (the connection should checkpoint by itself again). */
export function startWalCheckpointer(url: string, onFailure: () => void, intervalMs = 100): { stop(): Promise<void> } {
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { url, intervalMs, module: createRequire(import.meta.url).resolve("@libsql/client") },
  });
  worker.unref();
  worker.once("error", onFailure);
  let stopped: Promise<void> | undefined;
  return {
    stop() {
      worker.ref(); // the last checkpoint finishes even if nothing else keeps the process alive
      stopped ??= new Promise<void>((resolve) => {
        worker.once("exit", () => resolve());
        worker.postMessage("stop");
      });
      return stopped;
    },
  };
}
