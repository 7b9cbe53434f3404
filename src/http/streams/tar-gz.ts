import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { PassThrough, Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";

/**
 * A .tar.gz of named streams, produced as a stream. A tar header needs each entry's size, so
 * each source is first spooled to a temporary file (streamed, never held in memory). Destroying
 * the result (a client that leaves) stops the work and removes the spool and every source.
 */
export function tarGz(entries: Array<{ name: string; stream: Readable }>): Readable {
  const out = new PassThrough();
  pipeline(Readable.from(tarBlocks(entries)), createGzip(), out).catch(() => undefined); // a failure destroys `out`, which its reader sees
  return out;
}

async function* tarBlocks(entries: Array<{ name: string; stream: Readable }>): AsyncGenerator<Buffer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "argo-entrypoint-tar-"));
  try {
    for (const [index, entry] of entries.entries()) {
      const spool = path.join(dir, String(index));
      await pipeline(entry.stream, createWriteStream(spool));
      const { size } = await stat(spool);
      yield header(entry.name, size);
      yield* createReadStream(spool);
      yield Buffer.alloc((512 - (size % 512)) % 512);
      await rm(spool, { force: true });
    }
    yield Buffer.alloc(1024); // two empty blocks end the archive
  } finally {
    for (const entry of entries) entry.stream.destroy();
    await rm(dir, { recursive: true, force: true });
  }
}

/** A ustar header for a regular file owned by nobody, mode 0644. */
function header(name: string, size: number): Buffer {
  const block = Buffer.alloc(512);
  const field = (value: string, offset: number, length: number) => block.write(value, offset, length, "utf8");
  const octal = (value: number, offset: number, length: number) => field(value.toString(8).padStart(length - 1, "0") + "\0", offset, length);
  field(name.slice(0, 100), 0, 100);
  octal(0o644, 100, 8);
  octal(0, 108, 8);
  octal(0, 116, 8);
  octal(size, 124, 12);
  octal(Math.floor(Date.now() / 1000), 136, 12);
  block.fill(" ", 148, 156); // checksum field counts as spaces while summing
  field("0", 156, 1);
  field("ustar\0", 257, 6);
  field("00", 263, 2);
  let checksum = 0;
  for (const byte of block) checksum += byte;
  octal(checksum, 148, 7);
  block[155] = 0x20;
  return block;
}
