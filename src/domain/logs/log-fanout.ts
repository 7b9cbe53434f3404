import { PassThrough, type Readable } from "node:stream";
import type { TaskRecord, TaskStepRecord } from "../records.js";
import type { LogSource } from "./log-source.js";

export interface FanoutSettings {
  /** Bytes a follower may fall behind before it is cut off (it alone). */
  maxQueueBytes: number;
  /** Recent bytes kept per step, replayed to followers that join late. */
  historyBytes: number;
}

interface Channel {
  /** Settles once the upstream is open (followers arriving meanwhile wait for it). */
  opened: Promise<void>;
  upstream: Readable | undefined;
  followers: Set<PassThrough>;
  history: Buffer[];
  historySize: number;
}

/**
 * Followers of one step share one upstream log stream. Each follower has its own bounded
 * queue: a follower that does not read falls behind alone and is cut off with a reason once
 * it passes `maxQueueBytes`, so it can neither stall the others nor grow memory without bound.
 * The upstream closes when the last follower leaves.
 */
export class LogFanout {
  private readonly channels = new Map<string, Channel>();

  constructor(private readonly source: LogSource, private readonly settings: FanoutSettings) {}

  /** A stream of the step's log from now on (after what is still in history); it ends when the upstream does. */
  async follow(task: TaskRecord, step: TaskStepRecord): Promise<Readable> {
    const key = `${task.uid}/${step.name}`;
    let channel = this.channels.get(key);
    if (!channel) {
      const created: Channel = { opened: Promise.resolve(), upstream: undefined, followers: new Set(), history: [], historySize: 0 };
      created.opened = this.source.open(task, step, { follow: true }).then(
        (upstream) => {
          created.upstream = upstream;
          this.pump(key, created);
        },
        (error: unknown) => {
          this.channels.delete(key);
          throw error;
        },
      );
      this.channels.set(key, created);
      channel = created;
    }
    await channel.opened;
    const follower = new PassThrough({ highWaterMark: this.settings.maxQueueBytes });
    for (const chunk of channel.history) follower.write(chunk);
    channel.followers.add(follower);
    follower.on("close", () => this.leave(key, follower));
    return follower;
  }

  /** Upstream streams open now (for tests and benchmarks). */
  get upstreams(): number {
    return this.channels.size;
  }

  /** Followers attached now, over all steps. */
  get followers(): number {
    let count = 0;
    for (const channel of this.channels.values()) count += channel.followers.size;
    return count;
  }

  private pump(key: string, channel: Channel): void {
    const upstream = channel.upstream!;
    upstream.on("data", (chunk: Buffer | string) => {
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
      channel.history.push(buffer);
      channel.historySize += buffer.length;
      while (channel.historySize > this.settings.historyBytes && channel.history.length > 1) channel.historySize -= channel.history.shift()!.length;
      for (const follower of channel.followers) {
        if (follower.writableLength + buffer.length > this.settings.maxQueueBytes) {
          follower.destroy(new Error(`this follower fell more than ${this.settings.maxQueueBytes} bytes behind and was disconnected`));
          continue;
        }
        follower.write(buffer);
      }
    });
    const finish = (error?: Error) => {
      this.channels.delete(key);
      for (const follower of channel.followers) (error ? follower.destroy(error) : follower.end());
    };
    upstream.on("end", () => finish());
    upstream.on("error", (error) => finish(error));
  }

  private leave(key: string, follower: PassThrough): void {
    const channel = this.channels.get(key);
    if (!channel) return;
    channel.followers.delete(follower);
    if (channel.followers.size === 0) {
      this.channels.delete(key);
      channel.upstream?.destroy();
    }
  }
}
