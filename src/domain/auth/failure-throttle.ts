import { RateLimitedError } from "../errors.js";
import type { Clock } from "../clock.js";

export interface ThrottleSettings {
  /** Failures allowed per subject inside one window; attempts still being checked count too. */
  maxFailures: number;
  windowSeconds: number;
  /** How many subjects are tracked at most; the least recently failed are forgotten first. */
  maxTracked: number;
}

interface Window {
  startedAt: number;
  failures: number;
  /** Attempts reserved and not yet settled (their secret is being checked now). */
  pending: number;
}

/** One reserved attempt: settle it exactly once. */
export interface Attempt {
  failed(): void;
  succeeded(): void;
}

/**
 * Counts failed sign-ins per subject (a key and address pair, a key, an address) in fixed
 * windows. An attempt is reserved before its secret is checked, so concurrent guesses cannot
 * outrun the limit: once failures plus attempts in flight reach it, further attempts get 429
 * until the window ends. Memory is bounded by `maxTracked`.
 */
export class FailureThrottle {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly settings: ThrottleSettings,
    private readonly clock: Clock,
  ) {}

  /** Throws RateLimitedError while the subject is blocked. */
  assertAllowed(subject: string): void {
    const now = this.clock.now().getTime();
    const window = this.current(subject, now);
    if (window && window.failures + window.pending >= this.settings.maxFailures) throw this.blocked(window, now);
  }

  /** Reserves an attempt for the subject, or throws RateLimitedError when none is left. */
  reserve(subject: string): Attempt {
    const now = this.clock.now().getTime();
    const window = this.current(subject, now) ?? { startedAt: now, failures: 0, pending: 0 };
    if (window.failures + window.pending >= this.settings.maxFailures) throw this.blocked(window, now);
    window.pending += 1;
    this.track(subject, window);
    let settled = false;
    const settle = (failed: boolean) => {
      if (settled) return;
      settled = true;
      window.pending -= 1;
      if (failed) {
        window.failures += 1;
        this.track(subject, window);
      }
    };
    return { failed: () => settle(true), succeeded: () => settle(false) };
  }

  /** Forgets the subject's failures (a success for a key and address pair). */
  reset(subject: string): void {
    const window = this.windows.get(subject);
    if (window) window.failures = 0;
  }

  /** Starts the subject's window afresh if it began before `time` (an admin unlocked it then); true if it did. */
  restartIfBefore(subject: string, time: Date): boolean {
    const window = this.windows.get(subject);
    if (!window || window.startedAt >= time.getTime()) return false;
    window.startedAt = this.clock.now().getTime();
    window.failures = 0;
    return true;
  }

  private blocked(window: Window, now: number): RateLimitedError {
    const retryAfter = Math.max(1, Math.ceil((window.startedAt + this.settings.windowSeconds * 1000 - now) / 1000));
    return new RateLimitedError("Too many failed authentication attempts; try again later", retryAfter);
  }

  private track(subject: string, window: Window): void {
    this.windows.delete(subject); // re-insert: Map order doubles as least-recently-failed order
    this.windows.set(subject, window);
    while (this.windows.size > this.settings.maxTracked) {
      const [oldest, entry] = this.windows.entries().next().value as [string, Window];
      if (entry.pending > 0) break; // never forget an attempt still in flight
      this.windows.delete(oldest);
    }
  }

  private current(subject: string, now: number): Window | undefined {
    const window = this.windows.get(subject);
    if (window && window.pending === 0 && now - window.startedAt >= this.settings.windowSeconds * 1000) {
      this.windows.delete(subject);
      return undefined;
    }
    return window;
  }
}
