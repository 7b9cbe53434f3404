import { ForbiddenError } from "../errors.js";
import type { Clock } from "../clock.js";
import type { Database, IdGenerator, PageRequest } from "../ports.js";
import type { Principal } from "../principal.js";
import type { AuditEventRecord } from "../records.js";
import { paged, type Page } from "../registry/registry-records.js";

export const AUDITED_ACTIONS = [
  "task.submit",
  "task.stop",
  "task.terminate",
  "task.retry",
  "task.resubmit",
  "task.delete",
  "user.create",
  "user.rotate",
  "user.revoke",
  "user.enable",
  "user.unlock",
  "webhook.create",
  "webhook.update",
  "webhook.delete",
] as const;
export type AuditedAction = (typeof AUDITED_ACTIONS)[number];

/** Who acted: a signed-in user, or the admin CLI working on the database directly. */
export type Actor = Pick<Principal, "userUid" | "accessKey"> | "admin-cli";

export interface AuditQuery {
  subjectUid?: string | undefined;
  action?: AuditedAction | undefined;
  actorUid?: string | undefined;
  organizationUid?: string | undefined;
}

/** The audit log: one record per action that changes a task, a user or a webhook; admins read it. */
export class AuditTrail {
  constructor(private readonly deps: { db: Database; ids: IdGenerator; clock: Clock }) {}

  /** The record an action leaves; written by `record`, or with the action's own rows in one batch. */
  event(actor: Actor, action: AuditedAction, subject: { uid: string; organizationUid?: string | null }, details = {}): AuditEventRecord {
    return {
      uid: this.deps.ids.uid(),
      action,
      actorUid: actor === "admin-cli" ? "admin-cli" : actor.userUid,
      actorAccessKey: actor === "admin-cli" ? "" : actor.accessKey,
      subjectUid: subject.uid,
      organizationUid: subject.organizationUid ?? null,
      details: JSON.stringify(details),
      createdAt: this.deps.clock.now(),
    };
  }

  async record(
    actor: Actor,
    action: AuditedAction,
    subject: { uid: string; organizationUid?: string | null },
    details = {},
  ): Promise<void> {
    await this.deps.db.auditEvents.create(this.event(actor, action, subject, details));
  }

  async list(principal: Principal, query: AuditQuery, page?: PageRequest): Promise<Page<AuditEventRecord>> {
    if (principal.role !== "admin" || principal.task) throw new ForbiddenError("only an admin may read the audit log");
    return this.listAll(query, page);
  }

  /** For the admin CLI, which works on the database directly. */
  listAll(query: AuditQuery, page?: PageRequest): Promise<Page<AuditEventRecord>> {
    const filter = Object.fromEntries(Object.entries(query).filter(([, value]) => value !== undefined));
    return paged(this.deps.db.auditEvents, filter, page);
  }
}
