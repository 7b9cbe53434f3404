import type { Clock } from "../clock.js";
import type { Database, IdGenerator, Logger, TaskFeedEvent, WebhookSender } from "../ports.js";
import type { WebhookDeliveryRecord, WebhookRecord } from "../records.js";
import { eventOf, signDelivery, subscribes } from "./webhook-events.js";

export interface WebhookRelaySettings {
  /** How often due deliveries are looked for (and new status changes turned into deliveries). */
  pollMs: number;
  timeoutSeconds: number;
  /** Attempts per delivery before it is recorded as failed. */
  maxAttempts: number;
  /** The wait before the second attempt; each further one waits twice as long, up to `retryMaxMs`. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** Failed attempts in a row after which a webhook is disabled. */
  disableAfterFailures: number;
  /** Deliveries sent at once by this process. */
  concurrency: number;
}

/** Status events read per look. */
const BATCH = 500;
/**
 * Events younger than this are left for the next look: a PostgreSQL transaction can commit a
 * lower event id after a higher one became visible, and the cursor must not pass it.
 */
const SETTLE_MS = 1000;
/** A claim outlives the attempt's timeout by this much, so a process that died mid-send frees it. */
const CLAIM_MARGIN_MS = 30_000;

/** Another process recorded these events first. */
class CursorMoved extends Error {}

/**
 * The webhook outbox. Each look turns new task status events into delivery rows (one per
 * webhook and event, with the webhook's cursor moved in the same transaction, so a restart or a
 * second replica never records an event twice) and sends the due ones, signed, at most
 * `concurrency` at a time. A failed attempt is retried with exponential backoff until
 * `maxAttempts`; `disableAfterFailures` failed attempts in a row disable the webhook. Sending never
 * waits on anything a task does, and a task never waits on a delivery.
 */
export class WebhookRelay {
  private timer: NodeJS.Timeout | undefined;
  private looking: Promise<void> | undefined;
  private readonly sending = new Set<Promise<void>>();
  private stopped = true;

  constructor(
    private readonly deps: {
      db: Database;
      ids: IdGenerator;
      clock: Clock;
      logger: Logger;
      sender: WebhookSender;
      settings: WebhookRelaySettings;
    },
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops looking and waits for the attempts under way (each ends by its timeout). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.looking;
    await Promise.allSettled([...this.sending]);
  }

  /** One look: records new events, then starts the due deliveries. */
  async look(): Promise<void> {
    await this.record();
    await this.sendDue();
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.looking = this.look()
        .catch((error: unknown) => this.deps.logger.warn({ err: error }, "action=webhook-relay outcome=failed"))
        .finally(() => {
          this.looking = undefined;
          this.schedule(this.deps.settings.pollMs);
        });
    }, delayMs);
    this.timer.unref();
  }

  private async record(): Promise<void> {
    const { db, clock } = this.deps;
    const webhooks = await db.webhooks.list({ enabled: true });
    if (webhooks.length === 0) return;
    const settled = clock.now().getTime() - SETTLE_MS;
    const read = await db.taskFeed({ afterId: Math.min(...webhooks.map((w) => w.lastEventId)), limit: BATCH });
    const unsettled = read.findIndex((event) => event.at.getTime() > settled);
    const events = unsettled === -1 ? read : read.slice(0, unsettled);
    if (events.length === 0) return;
    for (const webhook of webhooks) await this.recordFor(webhook, events);
  }

  private async recordFor(webhook: WebhookRecord, events: TaskFeedEvent[]): Promise<void> {
    const last = events[events.length - 1]!.id;
    if (webhook.lastEventId >= last) return;
    const now = this.deps.clock.now();
    const matching = events.filter(
      (event) =>
        event.id > webhook.lastEventId &&
        event.organizationUid === webhook.organizationUid &&
        subscribes(webhook.events, eventOf(event.status)),
    );
    try {
      await this.deps.db.transaction(async (stores) => {
        if (!(await stores.webhooks.advance(webhook.uid, webhook.lastEventId, last))) throw new CursorMoved();
        for (const event of matching) {
          const uid = this.deps.ids.uid();
          await stores.webhookDeliveries.create({
            uid,
            webhookUid: webhook.uid,
            eventId: event.id,
            event: eventOf(event.status),
            payload: payload(uid, event),
            status: "pending",
            attempts: 0,
            nextAttemptAt: now,
            claimedUntil: null,
            lastStatusCode: null,
            lastError: "",
            deliveredAt: null,
          });
        }
      });
    } catch (error) {
      if (!(error instanceof CursorMoved)) throw error;
    }
  }

  private async sendDue(): Promise<void> {
    const { db, clock, settings } = this.deps;
    const room = settings.concurrency - this.sending.size;
    if (room <= 0) return;
    const now = clock.now();
    const claimUntil = new Date(now.getTime() + settings.timeoutSeconds * 1000 + CLAIM_MARGIN_MS);
    for (const delivery of await db.webhookDeliveries.due(now, room)) {
      if (this.stopped || !(await db.webhookDeliveries.claim(delivery.uid, now, claimUntil))) continue;
      const attempt: Promise<void> = this.attempt(delivery)
        .catch((error: unknown) =>
          this.deps.logger.warn({ err: error, deliveryUid: delivery.uid }, "action=webhook-delivery outcome=error"),
        )
        .finally(() => this.sending.delete(attempt));
      this.sending.add(attempt);
    }
  }

  private async attempt(delivery: WebhookDeliveryRecord): Promise<void> {
    const { db, clock, logger, sender, settings } = this.deps;
    const webhook = await db.webhooks.find(delivery.webhookUid);
    if (!webhook?.enabled) return void (await db.webhookDeliveries.update(delivery.uid, { claimedUntil: null }).catch(() => undefined));
    const sentAt = clock.now();
    const headers = {
      "content-type": "application/json",
      "user-agent": "argo-entrypoint-webhooks/1",
      "x-entrypoint-event": delivery.event,
      "x-entrypoint-delivery": delivery.uid,
      "x-entrypoint-signature": signDelivery(webhook.secret, Math.floor(sentAt.getTime() / 1000), delivery.payload),
    };
    let statusCode: number | null = null;
    let problem = "";
    try {
      statusCode = await sender.post(webhook.url, delivery.payload, headers, settings.timeoutSeconds * 1000);
      if (statusCode < 200 || statusCode > 299) problem = `the endpoint answered ${statusCode}`;
    } catch (error) {
      problem = (error as Error).message || "the request failed";
    }
    const attempts = delivery.attempts + 1;
    const fields = { webhookUid: webhook.uid, deliveryUid: delivery.uid, event: delivery.event, attempts, statusCode };
    if (!problem) {
      await db.webhookDeliveries.update(delivery.uid, {
        status: "delivered",
        attempts,
        deliveredAt: clock.now(),
        claimedUntil: null,
        lastStatusCode: statusCode,
        lastError: "",
      });
      if (webhook.consecutiveFailures > 0) await db.webhooks.update(webhook.uid, { consecutiveFailures: 0 });
      logger.info(fields, "action=webhook-delivery outcome=delivered");
      return;
    }
    const exhausted = attempts >= settings.maxAttempts;
    const backoff = Math.min(settings.retryMaxMs, settings.retryBaseMs * 2 ** (attempts - 1));
    await db.webhookDeliveries.update(delivery.uid, {
      status: exhausted ? "failed" : "pending",
      attempts,
      nextAttemptAt: new Date(clock.now().getTime() + backoff),
      claimedUntil: null,
      lastStatusCode: statusCode,
      lastError: problem.slice(0, 500),
    });
    logger.warn({ ...fields, problem, exhausted }, "action=webhook-delivery outcome=failed");
    const counted = await db.webhooks.countFailure(webhook.uid, settings.disableAfterFailures, clock.now());
    if (!counted.enabled && webhook.enabled)
      logger.warn({ webhookUid: webhook.uid, failures: counted.consecutiveFailures }, "action=webhook-disabled");
  }
}

/** The body every attempt of a delivery sends (fixed when it is recorded). */
function payload(deliveryUid: string, event: TaskFeedEvent): string {
  return JSON.stringify({
    delivery_uid: deliveryUid,
    event: eventOf(event.status),
    event_id: event.id,
    data: {
      task_uid: event.taskUid,
      organization_uid: event.organizationUid,
      type: event.kind,
      status: event.status,
      execute_step: event.executeStep,
      message: event.message,
      time: event.at.toISOString(),
    },
  });
}
