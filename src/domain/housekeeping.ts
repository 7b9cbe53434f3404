import type { Clock } from "./clock.js";
import type { SessionService } from "./auth/session-service.js";
import type { Database, Logger } from "./ports.js";

export interface HousekeepingSettings {
  /** How long an Idempotency-Key is remembered. */
  idempotencyTtlSeconds: number;
  /** How often the sweep runs. */
  intervalSeconds: number;
}

/** Periodic removal of records that have expired, so no table grows without bound. */
export class Housekeeping {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: { db: Database; sessions: SessionService; clock: Clock; logger: Logger; settings: HousekeepingSettings },
  ) {}

  async sweep(): Promise<{ idempotencyRecords: number; sessions: number }> {
    const now = this.deps.clock.now().getTime();
    const idempotencyRecords = await this.deps.db.idempotency.deleteOlderThan(
      new Date(now - this.deps.settings.idempotencyTtlSeconds * 1000),
    );
    const sessions = await this.deps.sessions.sweep();
    if (idempotencyRecords || sessions) this.deps.logger.info({ idempotencyRecords, sessions }, "action=housekeeping");
    return { idempotencyRecords, sessions };
  }

  /** Sweeps now and then every interval, until stopped. */
  start(): void {
    const run = () =>
      void this.sweep().catch((error: unknown) => this.deps.logger.warn({ err: error }, "action=housekeeping outcome=failed"));
    run();
    this.timer = setInterval(run, this.deps.settings.intervalSeconds * 1000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
