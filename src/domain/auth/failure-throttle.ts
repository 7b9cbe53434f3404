import { RateLimitedError } from "../errors.js";
import type { Clock } from "../clock.js";

export interface ThrottleSettings {
  /** Failures allowed per subject inside one window before it is blocked. */
  maxFailures: number;
  windowSeconds: number;
  /** How many subjects are tracked at most; the oldest are forgotten first. */
  maxTracked: number;
}

interface Window {
  startedAt: number;
  failures: number;
}

/**
 * Counts failed sign-ins per subject (an access key, a client address) in fixed windows and
 * refuses further attempts with 429 until the window ends. Memory is bounded by `maxTracked`.
 */
export class FailureThrottle {
  private readonly windows = new Map<string, Window>();

  constructor(private readonly settings: ThrottleSettings, private readonly clock: Clock) {}

  /** Throws RateLimitedError while the subject is blocked. */
  assertAllowed(subject: string): void {
    const now = this.clock.now().getTime();
    const window = this.current(subject, now);
    if (window && window.failures >= this.settings.maxFailures) {
      const retryAfter = Math.max(1, Math.ceil((window.startedAt + this.settings.windowSeconds * 1000 - now) / 1000));
      throw new RateLimitedError("Too many failed authentication attempts; try again later", retryAfter);
    }
  }

  recordFailure(subject: string): void {
    const now = this.clock.now().getTime();
    const window = this.current(subject, now) ?? { startedAt: now, failures: 0 };
    window.failures += 1;
    this.windows.delete(subject); // re-insert: Map order doubles as least-recently-failed order
    this.windows.set(subject, window);
    while (this.windows.size > this.settings.maxTracked) {
      const oldest = this.windows.keys().next().value as string;
      this.windows.delete(oldest);
    }
  }

  reset(subject: string): void {
    this.windows.delete(subject);
  }

  private current(subject: string, now: number): Window | undefined {
    const window = this.windows.get(subject);
    if (window && now - window.startedAt >= this.settings.windowSeconds * 1000) {
      this.windows.delete(subject);
      return undefined;
    }
    return window;
  }
}
