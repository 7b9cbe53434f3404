import { createHmac } from "node:crypto";
import { TASK_STATUSES, type TaskStatus } from "../records.js";

/** Every task status change is an event `task.<status>` (`task.init_error` for `init error`); `task.*` names them all. */
export const ALL_TASK_EVENTS = "task.*";
export const TASK_EVENTS: readonly string[] = TASK_STATUSES.map(eventOf);

export function eventOf(status: TaskStatus): string {
  return `task.${status.replace(" ", "_")}`;
}

export function subscribes(events: readonly string[], event: string): boolean {
  return events.includes(ALL_TASK_EVENTS) || events.includes(event);
}

/**
 * The signature header of a delivery: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`
 * keyed by the webhook's secret (Stripe's scheme). The receiver recomputes it over the raw body and
 * rejects old timestamps, so a captured delivery cannot be replayed later.
 */
export function signDelivery(secret: string, unixSeconds: number, body: string): string {
  const digest = createHmac("sha256", secret).update(`${unixSeconds}.${body}`).digest("hex");
  return `t=${unixSeconds},v1=${digest}`;
}
