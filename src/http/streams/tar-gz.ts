import { createReadStream } from "node:fs";
import { PassThrough, Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { spoolToTemporaryFile, type Spooled } from "../../lib/spool.js";

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
  let spool: Spooled | undefined;
  try {
    for (const entry of entries) {
      spool = await spoolToTemporaryFile(entry.stream, "argo-entrypoint-tar-");
      yield header(entry.name, spool.size);
      yield* createReadStream(spool.path);
      yield Buffer.alloc((512 - (spool.size % 512)) % 512);
      await spool.remove();
    }
    yield Buffer.alloc(1024); // two empty blocks end the archive
  } finally {
    for (const entry of entries) entry.stream.destroy();
    await spool?.remove();
  }
}

/** A ustar header for a regular file owned by nobody, mode 0644. */
function header(name: string, size: number): Buffer {
  const block = Buffer.alloc(512);
  const field = (value: string, offset: number, length: number) => block.write(value, offset, length, "utf8");
  const octal = (value: number, offset: number, length: number) =>
    field(value.toString(8).padStart(length - 1, "0") + "\0", offset, length);
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
