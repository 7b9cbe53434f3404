import { describe, expect, test } from "@jest/globals";
import { WorkQueue } from "../../src/lib/work-queue.js";

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("WorkQueue (the dispatch queue)", () => {
  test("When more items arrive than may run, then at most `concurrency` run at once and all finish", async () => {
    let running = 0;
    let most = 0;
    const done: number[] = [];
    const queue = new WorkQueue<number>(
      async (n) => {
        most = Math.max(most, ++running);
        await tick();
        running -= 1;
        done.push(n);
      },
      { concurrency: 2, capacity: 100 },
      () => undefined,
    );
    for (let i = 0; i < 10; i += 1) expect(queue.offer(i)).toBe(true);
    await queue.idle();
    expect({ most, done: done.length, depth: queue.depth }).toEqual({ most: 2, done: 10, depth: 0 });
  });

  test("When the queue is full, then offer refuses at once instead of growing or waiting, and takes items again once there is room", async () => {
    const done: number[] = [];
    const queue = new WorkQueue<number>(
      async (n) => void done.push(n),
      { concurrency: 1, capacity: 1 },
      () => undefined,
    );
    queue.pause();
    expect([queue.offer(1), queue.offer(2)]).toEqual([true, false]);
    expect(queue.depth).toBe(1);
    queue.resume();
    await queue.idle();
    expect(queue.offer(3)).toBe(true);
    await queue.idle();
    expect(done).toEqual([1, 3]);
  });

  test("When an item fails, then the error is reported and the next items still run", async () => {
    const errors: unknown[] = [];
    const done: number[] = [];
    const queue = new WorkQueue<number>(
      async (n) => {
        if (n === 1) throw new Error("boom");
        done.push(n);
      },
      { concurrency: 1, capacity: 10 },
      (error) => errors.push(error),
    );
    for (const n of [1, 2, 3]) queue.offer(n);
    await queue.idle();
    expect({ errors: errors.length, done }).toEqual({ errors: 1, done: [2, 3] });
  });

  test("When paused, then waiting items are held until resumed", async () => {
    const done: number[] = [];
    const queue = new WorkQueue<number>(
      async (n) => void done.push(n),
      { concurrency: 4, capacity: 10 },
      () => undefined,
    );
    queue.pause();
    queue.offer(1);
    await tick();
    expect(done).toEqual([]);
    queue.resume();
    await queue.idle();
    expect(done).toEqual([1]);
  });

  test("When stopped, then running items finish, waiting ones stay, and stop resolves without them", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const done: number[] = [];
    const queue = new WorkQueue<number>(
      async (n) => {
        if (n === 1) await gate;
        done.push(n);
      },
      { concurrency: 1, capacity: 10 },
      () => undefined,
    );
    queue.offer(1);
    queue.offer(2);
    let stopped = false;
    const stopping = queue.stop().then(() => (stopped = true));
    await tick();
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect({ done, depth: queue.depth }).toEqual({ done: [1], depth: 1 });
  });
});
