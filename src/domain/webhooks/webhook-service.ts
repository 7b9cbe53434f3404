import { ForbiddenError, NotFoundError, ValidationError } from "../errors.js";
import type { Database, IdGenerator, PageRequest } from "../ports.js";
import type { Principal } from "../principal.js";
import type { DeliveryStatus, WebhookDeliveryRecord, WebhookRecord } from "../records.js";
import { paged, type Page } from "../registry/registry-records.js";
import type { RegistryService } from "../registry/registry-service.js";
import type { AuditTrail } from "../audit/audit-trail.js";
import { ALL_TASK_EVENTS, TASK_EVENTS } from "./webhook-events.js";

export interface WebhookInput {
  url: string;
  events?: string[] | undefined;
  secret?: string | undefined;
}

const MIN_SECRET_LENGTH = 16;
const MAX_URL_LENGTH = 2048;

/**
 * The webhooks admins register per organization. A new webhook hears of status changes from its
 * creation on; its secret is chosen by the admin or generated, and shown only in the answer that
 * creates it.
 */
export class WebhookService {
  constructor(private readonly deps: { db: Database; ids: IdGenerator; registry: RegistryService; audit: AuditTrail }) {}

  async create(
    principal: Principal,
    input: WebhookInput & { organizationUid: string },
  ): Promise<{ webhook: WebhookRecord; secret: string }> {
    requireAdmin(principal);
    await this.deps.registry.checkOrganization(principal, input.organizationUid, "organizationUid");
    const secret = input.secret ?? this.deps.ids.token(32);
    const webhook = await this.deps.db.webhooks.create({
      uid: this.deps.ids.uid(),
      organizationUid: input.organizationUid,
      url: checkUrl(input.url),
      events: checkEvents(input.events ?? [ALL_TASK_EVENTS]),
      secret: checkSecret(secret),
      enabled: true,
      consecutiveFailures: 0,
      disabledAt: null,
      lastEventId: await this.deps.db.latestTaskEventId(),
      createdByUid: principal.userUid,
    });
    await this.deps.audit.record(principal, "webhook.create", webhook, { url: webhook.url, events: webhook.events });
    return { webhook, secret };
  }

  async list(principal: Principal, organizationUid: string | undefined, page?: PageRequest): Promise<Page<WebhookRecord>> {
    requireAdmin(principal);
    if (organizationUid !== undefined) await this.deps.registry.checkOrganization(principal, organizationUid, "organizationUid");
    return paged(this.deps.db.webhooks, organizationUid ? { organizationUid } : {}, page);
  }

  /** Enabling a disabled webhook forgets its failures; the events it missed meanwhile are then delivered. */
  async update(
    principal: Principal,
    uid: string,
    patch: Partial<WebhookInput> & { enabled?: boolean | undefined },
  ): Promise<WebhookRecord> {
    const webhook = await this.find(principal, uid);
    const updated = await this.deps.db.webhooks.update(webhook.uid, {
      ...(patch.url !== undefined ? { url: checkUrl(patch.url) } : {}),
      ...(patch.events !== undefined ? { events: checkEvents(patch.events) } : {}),
      ...(patch.secret !== undefined ? { secret: checkSecret(patch.secret) } : {}),
      ...(patch.enabled === true && !webhook.enabled ? { enabled: true, consecutiveFailures: 0, disabledAt: null } : {}),
      ...(patch.enabled === false && webhook.enabled ? { enabled: false, disabledAt: new Date() } : {}),
    });
    const changed = Object.keys(patch).filter((key) => patch[key as keyof typeof patch] !== undefined);
    await this.deps.audit.record(principal, "webhook.update", updated, { changed });
    return updated;
  }

  async delete(principal: Principal, uid: string): Promise<void> {
    const webhook = await this.find(principal, uid);
    await this.deps.db.webhooks.delete(webhook.uid);
    await this.deps.audit.record(principal, "webhook.delete", webhook, { url: webhook.url });
  }

  async deliveries(
    principal: Principal,
    uid: string,
    status: DeliveryStatus | undefined,
    page?: PageRequest,
  ): Promise<Page<WebhookDeliveryRecord>> {
    const webhook = await this.find(principal, uid);
    return paged(this.deps.db.webhookDeliveries, { webhookUid: webhook.uid, ...(status ? { status } : {}) }, page);
  }

  private async find(principal: Principal, uid: string): Promise<WebhookRecord> {
    requireAdmin(principal);
    const webhook = await this.deps.db.webhooks.find(uid);
    if (!webhook) throw NotFoundError.entity("webhook", "webhookUid", uid);
    return webhook;
  }
}

function requireAdmin(principal: Principal): void {
  if (principal.role !== "admin" || principal.task) throw new ForbiddenError("only an admin may manage webhooks");
}

function checkUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw ValidationError.field("url", "must be an absolute http or https URL");
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw ValidationError.field("url", "must be an http or https URL");
  // Credentials in a URL would be shown by every list; the signature is the way to authenticate.
  if (parsed.username || parsed.password) throw ValidationError.field("url", "must not contain credentials");
  if (url.length > MAX_URL_LENGTH) throw ValidationError.field("url", `must be at most ${MAX_URL_LENGTH} characters`);
  return parsed.href;
}

function checkEvents(events: string[]): string[] {
  if (events.length === 0) throw ValidationError.field("events", "must name at least one event");
  for (const [index, event] of events.entries())
    if (event !== ALL_TASK_EVENTS && !TASK_EVENTS.includes(event))
      throw ValidationError.field(`events.${index}`, `must be ${ALL_TASK_EVENTS} or one of ${TASK_EVENTS.join(", ")}`);
  return [...new Set(events)];
}

function checkSecret(secret: string): string {
  if (secret.length < MIN_SECRET_LENGTH) throw ValidationError.field("secret", `must be at least ${MIN_SECRET_LENGTH} characters`);
  return secret;
}
