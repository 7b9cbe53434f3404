import { Readable } from "node:stream";
import { StringDecoder } from "node:string_decoder";

/** The lines of a byte stream, without their newline; a last line without one is yielded too. */
export async function* splitLines(chunks: AsyncIterable<Buffer | string>): AsyncGenerator<string> {
  // A character may be split between two chunks: the decoder holds its first bytes until the rest arrive.
  const decoder = new StringDecoder("utf8");
  let partial = "";
  for await (const chunk of chunks) {
    const lines = (partial + (typeof chunk === "string" ? chunk : decoder.write(chunk))).split("\n");
    partial = lines.pop() ?? "";
    yield* lines;
  }
  partial += decoder.end();
  if (partial) yield partial;
}

/** The last `count` lines of a buffer (a final line without newline counts), as bytes. */
export function lastLinesOfBuffer(buffer: Buffer, count: number): Buffer {
  if (count <= 0) return Buffer.alloc(0);
  let end = buffer.length;
  if (end > 0 && buffer[end - 1] === 0x0a) end -= 1;
  let seen = 0;
  for (let i = end - 1; i >= 0; i -= 1) {
    if (buffer[i] === 0x0a && ++seen === count) return buffer.subarray(i + 1);
  }
  return buffer;
}

/** The last `count` lines of a stream, holding only those lines in memory. */
export function lastLinesOfStream(stream: Readable, count: number): Readable {
  return Readable.from(
    (async function* () {
      const ring: string[] = [];
      for await (const line of splitLines(stream)) {
        ring.push(line);
        if (ring.length > count) ring.shift();
      }
      for (const line of ring) yield `${line}\n`;
    })(),
  );
}

/** A stream's first `maxBytes` bytes as text (a character the cut would split is left out), and whether it was cut there (the stream is released then). */
export async function readCapped(stream: Readable, maxBytes: number): Promise<{ text: string; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    const room = maxBytes - size;
    if (buffer.length > room) {
      chunks.push(buffer.subarray(0, room));
      stream.destroy();
      return { text: new StringDecoder("utf8").write(Buffer.concat(chunks)), truncated: true };
    }
    chunks.push(buffer);
    size += buffer.length;
  }
  return { text: Buffer.concat(chunks).toString("utf8"), truncated: false };
}
