/** Task status push: a resumable Server-Sent Events stream of status changes (added; not in the original). */
import { Type } from "@sinclair/typebox";
import { ValidationError } from "../../domain/errors.js";
import type { StatusFeed, StatusFeedItem } from "../../domain/tasks/status-feed.js";
import type { Presenter } from "../shared/presenters.js";
import type { SseEvent } from "../shared/sse.js";
import { operation } from "./operation.js";
import { Optional, Uid } from "./schemas.js";

const EVENT_ID = /^\d{1,15}$/;

export function statusOperations({ feed, present }: { feed: StatusFeed; present: Presenter }) {
  return {
    followStatus: operation({
      id: "tasks.status-stream",
      apiKey: "read",
      rest: [
        { method: "get", path: "/tasks/{uid}/events", params: { uid: "task_uid" } },
        { method: "get", path: "/organizations/{uid}/task-events", params: { uid: "f_organization_uid" } },
      ],
      summary: "Task status stream (added; Server-Sent Events, resumable with Last-Event-ID)",
      mitlabKey: "Ts5pWq8LmN3vXc2z",
      body: Type.Object(
        {
          task_uid: Optional(Uid),
          f_organization_uid: Optional(Uid),
          last_event_id: Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
        },
        { additionalProperties: false },
      ),
      fields: { taskUid: "task_uid", organizationUid: "f_organization_uid" },
      handle: async ({ principal, body, headers, signal }) => {
        // A browser's EventSource resends the last id it saw as this header when it reconnects.
        const header = headers["last-event-id"];
        if (header !== undefined && (typeof header !== "string" || !EVENT_ID.test(header)))
          throw ValidationError.field("Last-Event-ID", "must be the id of an event this stream sent");
        if (body.task_uid && body.f_organization_uid) throw ValidationError.field("task_uid", "name a task or an organization, not both");
        const lastEventId = header !== undefined ? Number(header) : body.last_event_id;
        const items = await feed.open(
          principal,
          {
            ...(body.task_uid ? { taskUid: body.task_uid } : {}),
            ...(body.f_organization_uid ? { organizationUid: body.f_organization_uid } : {}),
          },
          lastEventId,
          signal,
        );
        return { kind: "events", events: asSse(items, present) };
      },
    }),
  };
}

async function* asSse(items: AsyncGenerator<StatusFeedItem>, present: Presenter): AsyncGenerator<SseEvent> {
  try {
    for await (const item of items) {
      if (item.type === "end") {
        const { task } = item;
        yield {
          event: "end",
          data: { task_uid: task.uid, status: task.status, execute_step: task.executeStep, message: task.statusMessage },
        };
      } else {
        const { event } = item;
        yield {
          event: "status",
          id: String(event.id),
          data: {
            task_uid: event.taskUid,
            type: event.kind,
            status: event.status,
            execute_step: event.executeStep,
            message: event.message,
            time: present.time(event.at),
          },
        };
      }
    }
  } finally {
    await items.return(undefined);
  }
}
