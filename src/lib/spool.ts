import { createWriteStream } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";

export interface Spooled {
  path: string;
  size: number;
  /** Removes the file and its directory (safe to call twice). */
  remove(): Promise<void>;
}

/** Writes a stream to a fresh temporary file (streamed, never held in memory); a failed stream leaves nothing. */
export async function spoolToTemporaryFile(stream: Readable, prefix: string): Promise<Spooled> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  const remove = () => rm(dir, { recursive: true, force: true });
  const file = path.join(dir, "spool");
  try {
    await pipeline(stream, createWriteStream(file));
    return { path: file, size: (await stat(file)).size, remove };
  } catch (error) {
    await remove();
    throw error;
  }
}
