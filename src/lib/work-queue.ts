/**
 * A bounded in-process queue: at most `concurrency` items run at once and at most `capacity`
 * wait; `push` waits for room when full, so a burst slows its callers instead of growing
 * memory without bound. A failing item is reported to `onError` and never stops the queue.
 */
export class WorkQueue<T> {
  private readonly waiting: T[] = [];
  private readonly roomWaiters: Array<() => void> = [];
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

  async push(item: T): Promise<void> {
    while (this.waiting.length >= this.settings.capacity) await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
    this.waiting.push(item);
    this.pump();
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
      this.roomWaiters.shift()?.();
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
