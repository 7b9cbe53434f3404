/** Pod logs read with timestamps: stripped before they are passed on, and a resumed read repeats nothing. */
import { Readable } from "node:stream";
import { describe, expect, test } from "@jest/globals";
import { resumingAfter } from "../../src/adapters/argo/kubelet-timestamps.js";
import type { LogPosition } from "../../src/domain/logs/log-source.js";

/** The transform's output for `chunks` written one by one. */
async function through(position: LogPosition, chunks: string[]): Promise<string> {
  let text = "";
  for await (const chunk of Readable.from(chunks.map((c) => Buffer.from(c))).pipe(resumingAfter(position))) text += String(chunk);
  return text;
}

const LOG = [
  "2026-12-02T06:53:06.1Z epoch 1\n",
  "2026-12-02T06:53:06.12Z epoch 2\n",
  "2026-12-02T06:53:06.123456789Z epoch 3\n",
  "2026-12-02T06:53:07Z epoch 4\n",
];

describe("resumingAfter", () => {
  test("When lines come timestamped, then they are passed on without their timestamps and the last one is recorded", async () => {
    const position: LogPosition = {};
    expect(await through(position, LOG)).toBe("epoch 1\nepoch 2\nepoch 3\nepoch 4\n");
    expect(position.last).toBe("2026-12-02T06:53:07.000000000");
  });

  test("When a line is split across chunks, then it is still read as one line", async () => {
    const text = LOG.join("");
    const chunks = [text.slice(0, 5), text.slice(5, 40), text.slice(40, 41), text.slice(41)];
    expect(await through({}, chunks)).toBe("epoch 1\nepoch 2\nepoch 3\nepoch 4\n");
  });

  test("When the same log is read again with the position, then only lines written after it are passed on", async () => {
    const position: LogPosition = {};
    await through(position, LOG.slice(0, 2)); // the first read ended after `epoch 2` (.12 sorts after .1 by time, not by text)
    expect(await through(position, LOG)).toBe("epoch 3\nepoch 4\n");
    expect(await through(position, LOG)).toBe("");
  });

  test("When a line has no timestamp, then it is passed on as it came", async () => {
    expect(await through({ last: "2026-12-02T06:53:07.000000000" }, ["no time here\n", "2026-12-02T06:53:08Z after\n"])).toBe(
      "no time here\nafter\n",
    );
  });

  test("When the log ends inside a line, then that line is passed on", async () => {
    expect(await through({}, ["2026-12-02T06:53:06Z last words"])).toBe("last words");
  });

  // A step's program writes what follows its line's timestamp: past the first MiB of a line, what it wrote must not pass for one.
  const LONG = "x".repeat(1024 * 1024 + 10);
  const LONG_LINE = [`2026-12-02T06:53:06Z ${LONG}`, " 2099-01-01T00:00:00Z spoof ", `${"y".repeat(1024 * 1024 + 10)}`, " end\n"];

  test("When a line too long to hold continues with a timestamp of the program's, then it is the line's text and the position stays the line's", async () => {
    const position: LogPosition = {};
    const text = await through(position, [...LONG_LINE, "2026-12-02T06:53:07Z next\n"]);
    expect(text).toBe(`${LONG} 2099-01-01T00:00:00Z spoof ${"y".repeat(1024 * 1024 + 10)} end\nnext\n`);
    expect(position.last).toBe("2026-12-02T06:53:07.000000000");
  });

  test("When a log with a long line is read again after it, then the whole long line is skipped and later lines come", async () => {
    const position: LogPosition = { last: "2026-12-02T06:53:06.000000000" };
    expect(await through(position, [...LONG_LINE, "2026-12-02T06:53:07Z next\n"])).toBe("next\n");
  });
});
