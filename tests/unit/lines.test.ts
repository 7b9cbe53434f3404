import { Readable } from "node:stream";
import { describe, expect, test } from "@jest/globals";
import { readCapped, splitLines } from "../../src/lib/lines.js";

const collect = async (chunks: Buffer[]) => {
  const lines: string[] = [];
  for await (const line of splitLines(Readable.from(chunks))) lines.push(line);
  return lines;
};

describe("Log lines from byte chunks", () => {
  test("When a character's bytes are split between two chunks, then the line keeps the character whole", async () => {
    const bytes = Buffer.from("epoch 1 損失 0.5\n日本語のログ\n");
    const cut = bytes.indexOf(Buffer.from("失")) + 1; // inside the three bytes of 失
    expect(await collect([bytes.subarray(0, cut), bytes.subarray(cut)])).toEqual(["epoch 1 損失 0.5", "日本語のログ"]);
  });

  test("When the last line has no newline and ends in a split character, then it is yielded whole", async () => {
    const bytes = Buffer.from("a\nlast é");
    expect(await collect([bytes.subarray(0, bytes.length - 1), bytes.subarray(bytes.length - 1)])).toEqual(["a", "last é"]);
  });

  test("When a capped read cuts inside a character, then the text stops before it instead of ending in a replacement character", async () => {
    const bytes = Buffer.from("ab日本");
    const { text, truncated } = await readCapped(Readable.from([bytes]), 4); // "ab" and one byte of 日
    expect({ text, truncated }).toEqual({ text: "ab", truncated: true });
  });
});
