/**
 * A bounded in-process queue: at most `concurrency` items run at once and at most `capacity`
 * wait; `offer` refuses an item when full, so a burst neither grows memory without bound nor
 * holds its callers (they keep the item for later). A failing item is reported to `onError` and
 * never stops the queue.
 */
export class WorkQueue<T> {
  private readonly waiting: T[] = [];
  private readonly idleWaiters: Array<() => void> = [];
  private readonly stopWaiters: Array<() => void> = [];
  private running = 0;
  private paused = false;

  constructor(
    private readonly work: (item: T) => Promise<void>,
    private readonly settings: { concurrency: number; capacity: number },
    private readonly onError: (error: unknown, item: T) => void,
  ) {}

  /** Items waiting or running. */
  get depth(): number {
    return this.waiting.length + this.running;
  }

  /** Queues the item unless `capacity` items already wait; says whether it did. */
  offer(item: T): boolean {
    if (this.waiting.length >= this.settings.capacity) return false;
    this.waiting.push(item);
    this.pump();
    return true;
  }

  /** Holds the waiting items (running ones finish); `resume` starts them again. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.pump();
  }

  /** Takes no more work and resolves once the running items finished; waiting ones are left (a restart picks them up). */
  stop(): Promise<void> {
    this.paused = true;
    return this.running === 0 ? Promise.resolve() : new Promise((resolve) => this.stopWaiters.push(resolve));
  }

  /** Resolves once nothing waits or runs. */
  idle(): Promise<void> {
    return this.depth === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (!this.paused && this.running < this.settings.concurrency && this.waiting.length) {
      const item = this.waiting.shift()!;
      this.running += 1;
      void this.work(item)
        .catch((error: unknown) => this.onError(error, item))
        .finally(() => {
          this.running -= 1;
          if (this.running === 0) for (const resolve of this.stopWaiters.splice(0)) resolve();
          this.pump();
          if (this.depth === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
        });
    }
  }
}
