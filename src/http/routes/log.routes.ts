/** Log route keys: the original's per-step JSON, and downloads as .txt or .tar.gz. */
import { Readable } from "node:stream";
import type { LogService } from "../../domain/logs/log-service.js";
import type { LogEvent, LogFollower } from "../../domain/logs/log-follower.js";
import { TEXT, UUID, enumOf, fields, type RouteDefinition } from "../route-definition.js";
import { sseStream, type SseEvent } from "../shared/sse.js";
import { tarGz } from "../streams/tar-gz.js";

export const LOG_DOWNLOAD_KEY = "Lg7dWnQ2xR5tYp8k";

export const LOG_FOLLOW_KEY = "Fw3lGz8Kc1VbN6mQ";

export function logRoutes({ logs, follower, keepAliveMs, describeError }: {
  logs: LogService; follower: LogFollower; keepAliveMs: number; describeError(error: unknown): unknown;
}): RouteDefinition[] {
  return [
    {
      key: LOG_FOLLOW_KEY, action: "Task log follow (Server-Sent Events)", body: "json",
      schema: fields({ task_uid: UUID }, { step: TEXT, tail: { type: "integer", minimum: 1, maximum: 100_000 }, since_seconds: { type: "integer", minimum: 1, maximum: 30 * 86_400 } }),
      handle: async ({ principal, body, signal }) => {
        const events = await follower.follow(principal, body.task_uid as string, body.step as string | undefined, {
          ...(body.tail === undefined ? {} : { tailLines: body.tail as number }),
          ...(body.since_seconds === undefined ? {} : { sinceSeconds: body.since_seconds as number }),
        }, signal);
        return { kind: "events", stream: sseStream(asSse(events), keepAliveMs, describeError) };
      },
    },
    {
      key: "bJ7xLmgp4WSWK498", action: "TaskStatusManager/get_log", body: "json", schema: fields({ task_uid: UUID }, { type: TEXT }),
      handle: async ({ principal, body }) => {
        const texts = await logs.stepTexts(principal, body.task_uid as string, body.type as string | undefined);
        const truncated = texts.filter((t) => t.truncated).map((t) => t.step);
        const unavailable = Object.fromEntries(texts.filter((t) => t.unavailable).map((t) => [t.step, t.unavailable]));
        return {
          kind: "json", detail: "Get log successfully",
          data: Object.fromEntries(texts.map((t) => [t.step, t.text])),
          ...(truncated.length || Object.keys(unavailable).length ? {
            extra: {
              ...(truncated.length ? { truncated: { steps: truncated, download: { route_key: LOG_DOWNLOAD_KEY, body: { task_uid: body.task_uid, format: "txt" } } } } : {}),
              ...(Object.keys(unavailable).length ? { unavailable } : {}),
            },
          } : {}),
        };
      },
    },
    {
      key: LOG_DOWNLOAD_KEY, action: "Task log download", body: "json",
      schema: fields({ task_uid: UUID }, { format: enumOf(["txt", "tar.gz"]) }),
      handle: async ({ principal, body }) => {
        const uid = body.task_uid as string;
        const steps = await logs.open(principal, uid, undefined, { follow: false });
        if (body.format === "tar.gz") {
          const entries = steps.map((step) => ({ name: `${step.step}.log`, stream: step.stream ?? Readable.from([`(no log: ${step.reason})\n`]) }));
          return { kind: "download", filename: `${uid}-logs.tar.gz`, contentType: "application/gzip", stream: tarGz(entries) };
        }
        return { kind: "download", filename: `${uid}-logs.txt`, contentType: "text/plain; charset=utf-8", stream: sections(steps) };
      },
    },
  ];
}

/** The original dashboard's text format: a "<step> Log:" section per step. Destroying it releases every step's stream. */
function sections(steps: Array<{ step: string; stream: Readable | undefined; reason?: string }>): Readable {
  return Readable.from((async function* () {
    try {
      for (const step of steps) {
        yield `${step.step} Log:\n`;
        if (step.stream) yield* step.stream;
        else yield `(no log: ${step.reason})\n`;
        yield "\n";
      }
    } finally {
      for (const step of steps) step.stream?.destroy();
    }
  })());
}

/** Log events as named Server-Sent Events, with the original's snake_case fields. */
async function* asSse(events: AsyncGenerator<LogEvent>): AsyncGenerator<SseEvent> {
  try {
    for await (const event of events) {
      if (event.type === "end") yield { event: "end", data: { status: event.status, execute_step: event.executeStep, message: event.message } };
      else if (event.type === "log") yield { event: "log", data: { step: event.step, line: event.line } };
      else yield { event: "unavailable", data: { step: event.step, reason: event.reason } };
    }
  } finally {
    await events.return(undefined);
  }
}
