import { PassThrough, type Readable } from "node:stream";
import { lastLinesOfBuffer } from "../../lib/lines.js";
import { RateLimitedError } from "../errors.js";
import type { TaskRecord, TaskStepRecord } from "../records.js";
import type { LogPosition, LogSource } from "./log-source.js";

export interface FanoutSettings {
  /** Pause before reopening an upstream that ended while its step still runs (a restarted pod). */
  reattachDelayMs: number;
  /** Reattachments per channel before giving up. */
  maxReattach: number;
  /** Bytes queued for a follower before the step's upstream waits for it. */
  maxQueueBytes: number;
  /** How long a follower may keep the upstream waiting before it alone is cut off. */
  stallMs: number;
  /** Recent bytes kept per step, replayed to followers that join late. */
  historyBytes: number;
}

interface Channel {
  /** Settles once the upstream is open (followers arriving meanwhile wait for it). */
  opened: Promise<void>;
  upstream: Readable | undefined;
  followers: Set<PassThrough>;
  /** Recent chunks with the time they arrived (for `sinceSeconds`). */
  history: Array<{ at: number; chunk: Buffer }>;
  historySize: number;
  /** Whether the oldest chunks were dropped (the history then begins inside some line). */
  historyTrimmed: boolean;
  /** Set while the upstream is paused for a follower that is behind: cuts the slow ones when it fires. */
  stalled: NodeJS.Timeout | undefined;
  /** How far the upstreams got: a reopened one resumes after it. */
  position: LogPosition;
}

/**
 * Followers of one step share one upstream log stream. Each follower has its own queue: once
 * one holds `maxQueueBytes`, the upstream pauses until it has drained, so a slow reader (a
 * browser replaying a long log) gets every line at its own pace and memory stays bounded. A
 * follower that keeps the upstream waiting for `stallMs` is cut off with a reason, so one that
 * stopped reading cannot hold up the others for long. The upstream closes when the last
 * follower leaves.
 */
export class LogFanout {
  private readonly channels = new Map<string, Channel>();

  constructor(
    private readonly source: LogSource,
    private readonly settings: FanoutSettings,
    /** Whether the step is still running, asked when its upstream ends (defaults to "no"). */
    private readonly stillRunning: (task: TaskRecord, step: TaskStepRecord) => Promise<boolean> = async () => false,
  ) {}

  /**
   * A stream of the step's log: what is still in the shared history (only its last `tailLines`
   * lines if given), then every new line. It ends when the step's log ends.
   */
  async follow(task: TaskRecord, step: TaskStepRecord, options: { tailLines?: number; sinceSeconds?: number } = {}): Promise<Readable> {
    const key = `${task.uid}/${step.name}`;
    let channel = this.channels.get(key);
    if (!channel) {
      const created: Channel = {
        opened: Promise.resolve(),
        upstream: undefined,
        followers: new Set(),
        history: [],
        historySize: 0,
        historyTrimmed: false,
        stalled: undefined,
        position: {},
      };
      // The first follower's tail and since bound what the new upstream replays; later ones cut the history.
      created.opened = this.source
        .open(task, step, {
          follow: true,
          position: created.position,
          ...(options.tailLines === undefined ? {} : { tailLines: options.tailLines }),
          ...(options.sinceSeconds === undefined ? {} : { sinceSeconds: options.sinceSeconds }),
        })
        .then(
          (upstream) => {
            created.upstream = upstream;
            this.pump(key, created, task, step, 0);
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
    follower.write(replayOf(channel, options));
    channel.followers.add(follower);
    follower.on("drain", () => this.resumeIfCaughtUp(channel));
    follower.on("close", () => this.leave(key, follower));
    return follower;
  }

  /** Options the source cannot honour for this task (see LogSource.unsupported). */
  unsupported(task: TaskRecord, options: { tailLines?: number; sinceSeconds?: number }) {
    return this.source.unsupported?.(task, { follow: true, ...options }) ?? [];
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

  private pump(key: string, channel: Channel, task: TaskRecord, step: TaskStepRecord, reattached: number): void {
    const upstream = channel.upstream!;
    upstream.on("data", (chunk: Buffer | string) => {
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
      channel.history.push({ at: Date.now(), chunk: buffer });
      channel.historySize += buffer.length;
      while (channel.historySize > this.settings.historyBytes && channel.history.length > 1) {
        channel.historySize -= channel.history.shift()!.chunk.length;
        channel.historyTrimmed = true;
      }
      let behind = false;
      for (const follower of channel.followers) behind = !follower.write(buffer) || behind;
      if (behind) this.waitForFollowers(channel);
    });
    const finish = (error?: Error) => {
      this.channels.delete(key);
      clearTimeout(channel.stalled);
      for (const follower of channel.followers) {
        if (error) follower.destroy(error);
        else follower.end();
      }
    };
    upstream.on("end", () => {
      if (channel.followers.size === 0) return;
      // A log that ends while its step still runs: its container restarted, its stream was cut, or its end is not recorded yet.
      void this.reattach(key, channel, task, step, reattached).then(
        (reopened) => reopened || finish(),
        (error: Error) => finish(error),
      );
    });
    upstream.on("error", (error) => finish(error));
    if (channel.stalled) upstream.pause();
  }

  /** Pauses the upstream until every follower has drained; past `stallMs`, those still behind are cut off. */
  private waitForFollowers(channel: Channel): void {
    channel.upstream?.pause();
    if (channel.stalled) return;
    channel.stalled = setTimeout(() => {
      channel.stalled = undefined;
      const seconds = this.settings.stallMs / 1000;
      for (const follower of channel.followers) {
        if (isBehind(follower))
          follower.destroy(
            new RateLimitedError(
              `this follower did not take the ${this.settings.maxQueueBytes} bytes waiting for it within ${seconds} s and was disconnected`,
              1,
            ),
          );
      }
      this.resumeIfCaughtUp(channel);
    }, this.settings.stallMs);
  }

  private resumeIfCaughtUp(channel: Channel): void {
    for (const follower of channel.followers) if (isBehind(follower)) return;
    clearTimeout(channel.stalled);
    channel.stalled = undefined;
    channel.upstream?.resume();
  }

  private async reattach(key: string, channel: Channel, task: TaskRecord, step: TaskStepRecord, reattached: number): Promise<boolean> {
    if (reattached >= this.settings.maxReattach) return false;
    // A log also ends when its step ends, a moment before the step's end is recorded: wait, then ask.
    await new Promise((resolve) => setTimeout(resolve, this.settings.reattachDelayMs));
    if (!(await this.stillRunning(task, step))) return false;
    if (channel.followers.size === 0 || this.channels.get(key) !== channel) return true;
    // The same container's log read again (its end not recorded yet, or its stream cut) resumes after
    // the position; a restarted container's fresh log comes whole.
    channel.upstream = await this.source.open(task, step, { follow: true, position: channel.position });
    this.pump(key, channel, task, step, reattached + 1);
    return true;
  }

  private leave(key: string, follower: PassThrough): void {
    const channel = this.channels.get(key);
    if (!channel) return;
    channel.followers.delete(follower);
    if (channel.followers.size === 0) {
      this.channels.delete(key);
      clearTimeout(channel.stalled);
      channel.upstream?.destroy();
    } else this.resumeIfCaughtUp(channel);
  }
}

/** Whether a follower's queue is full (it has not read what it was sent). */
function isBehind(follower: PassThrough): boolean {
  return !follower.destroyed && follower.writableNeedDrain;
}

/**
 * What a joining follower gets first: the history (its chunks since `sinceSeconds`, or its last
 * `tailLines` lines). Chunks are not cut at line ends, so when older ones were dropped the
 * replay starts after the first line end: a follower never sees a line's second half as a line.
 */
function replayOf(channel: Channel, options: { tailLines?: number; sinceSeconds?: number }): Buffer {
  const since = options.sinceSeconds === undefined ? 0 : Date.now() - options.sinceSeconds * 1000;
  const kept = channel.history.filter((entry) => entry.at >= since);
  let history = Buffer.concat(kept.map((entry) => entry.chunk));
  if (channel.historyTrimmed || kept.length < channel.history.length) history = history.subarray(history.indexOf(0x0a) + 1);
  return options.tailLines === undefined ? history : lastLinesOfBuffer(history, options.tailLines);
}
