import { NotFoundError } from "../errors.js";
import type { Database, TaskFeedEvent } from "../ports.js";
import { canAccess, type Principal } from "../principal.js";
import { FINAL_TASK_STATUSES, type TaskRecord } from "../records.js";
import type { RegistryService } from "../registry/registry-service.js";

export interface StatusFeedSettings {
  /** How often a stream looks for new status changes (every replica's writes reach it this way). */
  pollMs: number;
  /** The most events one look delivers. */
  batch: number;
}

/** What a status stream yields: each change, then (for one task) its end. */
export type StatusFeedItem = { type: "status"; event: TaskFeedEvent } | { type: "end"; task: TaskRecord };

/**
 * Status changes as a stream, for one task or an organization, resumable by event id (the
 * `TaskStatusEvent` ids only grow). A stream of one task starts with its whole history and ends
 * once the task has ended; an organization's starts now, or after `lastEventId`.
 */
export class StatusFeed {
  constructor(private readonly deps: { db: Database; registry: RegistryService; settings: StatusFeedSettings }) {}

  /** Checks what the caller names first (a bad request is an error, not an empty stream), then returns the stream. */
  async open(
    principal: Principal,
    target: { taskUid?: string; organizationUid?: string },
    lastEventId: number | undefined,
    signal: AbortSignal,
  ): Promise<AsyncGenerator<StatusFeedItem>> {
    const { db, registry } = this.deps;
    if (target.taskUid !== undefined) {
      const task = await db.tasks.find(target.taskUid);
      if (!task || !canAccess(principal, task.organizationUid)) throw NotFoundError.entity("task", "taskUid", target.taskUid);
      return this.follow({ taskUid: task.uid }, lastEventId ?? 0, signal);
    }
    const organizationUid = target.organizationUid ?? (principal.role === "admin" ? undefined : principal.organizationUid);
    if (organizationUid !== undefined) await registry.checkOrganization(principal, organizationUid, "organizationUid");
    return this.follow({ ...(organizationUid ? { organizationUid } : {}) }, lastEventId ?? (await db.latestTaskEventId()), signal);
  }

  private async *follow(
    filter: { taskUid?: string; organizationUid?: string },
    afterId: number,
    signal: AbortSignal,
  ): AsyncGenerator<StatusFeedItem> {
    const { db, settings } = this.deps;
    let after = afterId;
    while (!signal.aborted) {
      const events = await db.taskFeed({ ...filter, afterId: after, limit: settings.batch });
      for (const event of events) {
        after = event.id;
        yield { type: "status", event };
      }
      if (filter.taskUid !== undefined && events.length < settings.batch) {
        // Read again each time: `end` carries the final status even if its event reached the feed late.
        const task = await db.tasks.find(filter.taskUid);
        if (!task) return;
        if (FINAL_TASK_STATUSES.includes(task.status)) {
          yield { type: "end", task };
          return;
        }
      }
      if (events.length < settings.batch) await pause(settings.pollMs, signal);
    }
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
