import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { PassThrough, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";

/**
 * A .tar.gz of named streams, produced as a stream. A tar header needs each entry's size, so
 * each source is first spooled to a temporary file (streamed, never held in memory).
 */
export function tarGz(entries: AsyncIterable<{ name: string; stream: Readable }>): Readable {
  const tar = new PassThrough();
  const gzip = createGzip();
  (async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "argo-entrypoint-tar-"));
    try {
      for await (const entry of entries) {
        const spool = path.join(dir, "entry");
        await pipeline(entry.stream, createWriteStream(spool));
        const { size } = await stat(spool);
        await write(tar, header(entry.name, size));
        await pipeline(createReadStream(spool), tar, { end: false });
        await write(tar, Buffer.alloc((512 - (size % 512)) % 512));
      }
      tar.end(Buffer.alloc(1024)); // two empty blocks end the archive
    } catch (error) {
      tar.destroy(error as Error);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  })();
  return tar.pipe(gzip);
}

function write(stream: PassThrough, chunk: Buffer): Promise<void> {
  return new Promise((resolve) => (stream.write(chunk) ? resolve() : stream.once("drain", resolve)));
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
