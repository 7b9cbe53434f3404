import { PassThrough, type Readable } from "node:stream";
import { describe, expect, test } from "@jest/globals";
import { LogFanout } from "../../src/domain/logs/log-fanout.js";
import { firstAvailable, type LogSource } from "../../src/domain/logs/log-source.js";
import { NotFoundError, UpstreamError } from "../../src/domain/errors.js";
import type { TaskRecord, TaskStepRecord } from "../../src/domain/records.js";

const task = { uid: "t1" } as TaskRecord;
const SETTINGS = { maxQueueBytes: 1 << 20, stallMs: 1000, historyBytes: 1 << 20, reattachDelayMs: 1, maxReattach: 3 };
const step = { name: "training" } as TaskStepRecord;

function countingSource() {
  const opened: PassThrough[] = [];
  const source: LogSource = {
    name: "fake",
    async open() {
      const upstream = new PassThrough();
      opened.push(upstream);
      return upstream;
    },
  };
  return { source, opened };
}

async function readAll(stream: Readable): Promise<string> {
  let text = "";
  for await (const chunk of stream) text += String(chunk);
  return text;
}

describe("LogFanout", () => {
  test("When many follow one step, then one upstream is opened and closed when the last leaves", async () => {
    const { source, opened } = countingSource();
    const fanout = new LogFanout(source, { ...SETTINGS, maxQueueBytes: 1 << 20, historyBytes: 1024 });
    const followers = await Promise.all(Array.from({ length: 20 }, () => fanout.follow(task, step)));
    expect(opened).toHaveLength(1);
    for (const f of followers) f.destroy();
    await new Promise((resolve) => setImmediate(resolve)); // "close" follows destroy() by a tick
    expect(fanout.upstreams).toBe(0);
    expect(opened[0]!.destroyed).toBe(true);
  });

  test("When one follower does not read, then after the stall limit it alone is cut off with a reason and the others get everything", async () => {
    const { source, opened } = countingSource();
    const fanout = new LogFanout(source, { ...SETTINGS, maxQueueBytes: 64 * 1024, stallMs: 50, historyBytes: 1024 });
    const reader = await fanout.follow(task, step);
    const stalled = await fanout.follow(task, step);
    const errors: Error[] = [];
    stalled.on("error", (error) => errors.push(error));
    const received = readAll(reader);
    const line = `${"x".repeat(1023)}\n`;
    for (let i = 0; i < 200; i += 1) {
      // The upstream is paused while the stalled follower holds it up, as a socket would be.
      while (opened[0]!.isPaused()) await new Promise((resolve) => setTimeout(resolve, 5));
      opened[0]!.write(line);
      await new Promise((resolve) => setImmediate(resolve));
    }
    opened[0]!.end();
    expect((await received).length).toBe(200 * 1024);
    expect(errors.map((e) => e.message)).toEqual([
      "this follower did not take the 65536 bytes waiting for it within 0.05 s and was disconnected",
    ]);
  });

  test("When a follower that holds the upstream up goes away, then the others go on at once, long before the stall limit", async () => {
    const { source, opened } = countingSource();
    const fanout = new LogFanout(source, { ...SETTINGS, maxQueueBytes: 16 * 1024, stallMs: 60_000 });
    const reader = await fanout.follow(task, step);
    const stalled = await fanout.follow(task, step);
    const received = readAll(reader);
    const upstream = opened[0]!;
    const line = `${"z".repeat(1023)}\n`;
    while (!upstream.isPaused()) {
      upstream.write(line);
      await new Promise((resolve) => setImmediate(resolve));
    }
    stalled.destroy(); // its client left mid-stream
    await new Promise((resolve) => setImmediate(resolve));
    expect(upstream.isPaused()).toBe(false);
    upstream.end("last\n");
    expect((await received).endsWith("last\n")).toBe(true);
    expect(fanout.followers).toBe(0);
  });

  test("When the only follower reads slowly, then the upstream waits for it and it gets every line", async () => {
    const { source, opened } = countingSource();
    const fanout = new LogFanout(source, { ...SETTINGS, maxQueueBytes: 16 * 1024, stallMs: 1000 });
    const slow = await fanout.follow(task, step);
    const errors: Error[] = [];
    slow.on("error", (error) => errors.push(error));
    let received = 0;
    const reading = (async () => {
      for await (const chunk of slow) {
        received += (chunk as Buffer).length;
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    })();
    const upstream = opened[0]!;
    const line = `${"y".repeat(1023)}\n`;
    let paused = 0;
    for (let i = 0; i < 1000; i += 1) {
      paused += upstream.isPaused() ? 1 : 0;
      if (!upstream.write(line)) await new Promise((resolve) => upstream.once("drain", resolve));
    }
    upstream.end();
    await reading;
    expect(errors).toEqual([]);
    expect(received).toBe(1000 * 1024);
    expect(paused).toBeGreaterThan(0); // it did fall behind, 1 MB against a 16 KB queue
    expect(fanout.upstreams).toBe(0);
  });

  test("When a follower joins late, then it gets the recent history first", async () => {
    const { source, opened } = countingSource();
    const fanout = new LogFanout(source, { ...SETTINGS, maxQueueBytes: 1 << 20, historyBytes: 1 << 20 });
    const first = await fanout.follow(task, step);
    opened[0]!.write("early\n");
    await new Promise((resolve) => setImmediate(resolve));
    const late = await fanout.follow(task, step);
    opened[0]!.end("later\n");
    expect(await readAll(late)).toBe("early\nlater\n");
    expect(await readAll(first)).toBe("early\nlater\n");
  });

  test("When a follower joins after older history was dropped, then its replay starts at a whole line, never a line's second half", async () => {
    const { source, opened } = countingSource();
    const fanout = new LogFanout(source, { ...SETTINGS, historyBytes: 16 });
    const first = await fanout.follow(task, step);
    // Chunks cut inside lines, as a pod's log stream delivers them.
    for (const chunk of ["line-1\nli", "ne-2\nline", "-3\nline-4\n"]) {
      opened[0]!.write(chunk);
      await new Promise((resolve) => setImmediate(resolve));
    }
    const late = await fanout.follow(task, step);
    opened[0]!.end("line-5\n");
    expect(await readAll(late)).toBe("line-4\nline-5\n");
    expect(await readAll(first)).toBe("line-1\nline-2\nline-3\nline-4\nline-5\n");
  });
});

describe("LogFanout options", () => {
  test("When a follower asks for a tail, then only the last lines of the history come first", async () => {
    const { source, opened } = countingSource();
    const fanout = new LogFanout(source, SETTINGS);
    const first = await fanout.follow(task, step);
    opened[0]!.write("one\ntwo\nthree\n");
    await new Promise((resolve) => setImmediate(resolve));
    const tailed = await fanout.follow(task, step, { tailLines: 2 });
    opened[0]!.end("four\n");
    expect(await readAll(tailed)).toBe("two\nthree\nfour\n");
    expect(await readAll(first)).toBe("one\ntwo\nthree\nfour\n");
  });

  test("When the upstream ends while the step still runs (a restarted pod), then followers continue on a new upstream", async () => {
    const { source, opened } = countingSource();
    let running = true;
    const fanout = new LogFanout(source, SETTINGS, async () => running);
    const follower = await fanout.follow(task, step);
    const text = readAll(follower);
    opened[0]!.end("before restart\n");
    while (opened.length < 2) await new Promise((resolve) => setTimeout(resolve, 1));
    running = false;
    opened[1]!.end("after restart\n");
    expect(await text).toBe("before restart\nafter restart\n");
    expect(opened).toHaveLength(2);
  });
});

describe("firstAvailable", () => {
  const from = (name: string, result: () => Promise<Readable>): LogSource => ({ name, open: result });

  test("When the first source has no log, then the next one answers", async () => {
    const archive = new PassThrough();
    archive.end("archived");
    const source = firstAvailable([
      from("pod", async () => {
        throw new NotFoundError("pod gone");
      }),
      from("archive", async () => archive),
    ]);
    expect(await readAll(await source.open(task, step, { follow: false }))).toBe("archived");
  });

  test("When a source fails for another reason, then that failure is reported, not hidden by a fallback", async () => {
    const source = firstAvailable([
      from("pod", async () => {
        throw new UpstreamError("Kubernetes is unavailable");
      }),
      from("archive", async () => new PassThrough()),
    ]);
    await expect(source.open(task, step, { follow: false })).rejects.toThrow("Kubernetes is unavailable");
  });

  test("When no source has the log, then the error gives each source's reason", async () => {
    const source = firstAvailable([
      from("pod", async () => {
        throw new NotFoundError("pod gone");
      }),
      from("archive", async () => {
        throw new NotFoundError("no key");
      }),
    ]);
    await expect(source.open(task, step, { follow: false })).rejects.toThrow("no log for step training (pod: pod gone; archive: no key)");
  });
});
