/** `task download model|dataset|logs <uid>`: streamed to a file (never held in memory), with a progress bar on a terminal. */
import { createWriteStream } from "node:fs";
import { rename, unlink } from "node:fs/promises";
import path from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream } from "node:stream/web";
import { CliError, EXIT, type ApiClient } from "./api-client.js";
import { Progress } from "./output.js";

const FILE_DOWNLOAD_KEY = "TTiue1sygXrsm0YS";
const LOG_DOWNLOAD_KEY = "Lg7dWnQ2xR5tYp8k";

/** What each kind downloads: a model's or dataset's file by its uid, a task's logs as a tar.gz of its steps. */
const TARGETS: Record<string, (uid: string) => { key: string; body: Record<string, unknown> }> = {
  model: (uid) => ({ key: FILE_DOWNLOAD_KEY, body: { uid } }),
  dataset: (uid) => ({ key: FILE_DOWNLOAD_KEY, body: { uid } }),
  logs: (uid) => ({ key: LOG_DOWNLOAD_KEY, body: { task_uid: uid, format: "tar.gz" } }),
};
export const DOWNLOAD_KINDS = Object.keys(TARGETS);

export interface DownloadIo {
  out(text: string): void;
  err(text: string): void;
  /** Standard error is a terminal: draw the progress bar. */
  errIsTerminal: boolean;
}

/** Writes to `<destination>.part` and renames it when complete, so a cut download never looks finished. */
export async function download(
  api: ApiClient,
  kind: string | undefined,
  uid: string,
  to: string | undefined,
  io: DownloadIo,
): Promise<number> {
  const target = TARGETS[kind ?? ""];
  if (!target) throw new CliError(`download needs a kind: ${DOWNLOAD_KINDS.join(", ")}`, EXIT.usage);
  const { key, body } = target(uid);
  const opened = await api.open(key, body);
  const destination = path.resolve(to ?? safeName(opened.filename, `${uid}.${kind}`));
  const partial = `${destination}.part`;
  const progress = new Progress(io.err, io.errIsTerminal, path.basename(destination), opened.size);
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      progress.add(chunk.length);
      done(null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(opened.body as ReadableStream<Uint8Array>), counter, createWriteStream(partial, { mode: 0o600 }));
    await rename(partial, destination);
  } catch (error) {
    progress.abandon();
    await unlink(partial).catch(() => undefined);
    throw new CliError(`download of ${uid} failed: ${(error as Error).message}`, EXIT.unavailable);
  }
  progress.done(destination);
  io.out(`${destination}\n`);
  return EXIT.ok;
}

/** The service's file name, reduced to a plain name in the current directory. */
function safeName(name: string | undefined, fallback: string): string {
  const base = path.basename(name ?? "").replace(/[^\w.@+-]/g, "_");
  return base && base !== "." && base !== ".." ? base : fallback;
}
