/** Task logs: the original's per-step JSON, live follow (Server-Sent Events), and downloads as .txt or .tar.gz. */
import { Readable } from "node:stream";
import { Type } from "@sinclair/typebox";
import type { LogEvent, LogFollower } from "../../domain/logs/log-follower.js";
import type { LogService } from "../../domain/logs/log-service.js";
import type { SseEvent } from "../shared/sse.js";
import { tarGz } from "../streams/tar-gz.js";
import { operation, record } from "./operation.js";
import { Optional, Text, Uid, oneOf } from "./schemas.js";

const LOG_DOWNLOAD_KEY = "Lg7dWnQ2xR5tYp8k";

export function logOperations({ logs, follower }: { logs: LogService; follower: LogFollower }) {
  return {
    followLogs: operation({
      id: "tasks.logs-follow",
      apiKey: "read",
      rest: [{ method: "get", path: "/tasks/{uid}/logs", params: { uid: "task_uid" }, query: { follow: "true" } }],
      summary: "Task log follow (Server-Sent Events)",
      mitlabKey: "Fw3lGz8Kc1VbN6mQ",
      body: Type.Object({
        task_uid: Uid,
        step: Optional(Text),
        tail: Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
        since_seconds: Optional(Type.Integer({ minimum: 1, maximum: 30 * 86_400 })),
      }),
      fields: { uid: "task_uid", tailLines: "tail", sinceSeconds: "since_seconds" },
      handle: async ({ principal, body, signal }) => {
        const events = await follower.follow(
          principal,
          body.task_uid,
          body.step,
          {
            ...(body.tail === undefined ? {} : { tailLines: body.tail }),
            ...(body.since_seconds === undefined ? {} : { sinceSeconds: body.since_seconds }),
          },
          signal,
        );
        return { kind: "events", events: asSse(events) };
      },
    }),
    stepLogs: operation({
      id: "tasks.logs",
      apiKey: "read",
      rest: [{ method: "get", path: "/tasks/{uid}/logs", params: { uid: "task_uid" } }],
      summary: "TaskStatusManager/get_log",
      mitlabKey: "bJ7xLmgp4WSWK498",
      body: Type.Object({ task_uid: Uid, type: Optional(Text) }),
      fields: { uid: "task_uid", logType: "type" },
      handle: async ({ principal, body }) => {
        const texts = await logs.stepTexts(principal, body.task_uid, body.type);
        const truncated = texts.filter((t) => t.truncated).map((t) => t.step);
        const unavailable = Object.fromEntries(texts.filter((t) => t.unavailable).map((t) => [t.step, t.unavailable]));
        return {
          ...record("Get log successfully", Object.fromEntries(texts.map((t) => [t.step, t.text]))),
          ...(truncated.length || Object.keys(unavailable).length
            ? {
                extra: {
                  ...(truncated.length
                    ? {
                        truncated: {
                          steps: truncated,
                          download: { route_key: LOG_DOWNLOAD_KEY, body: { task_uid: body.task_uid, format: "txt" } },
                        },
                      }
                    : {}),
                  ...(Object.keys(unavailable).length ? { unavailable } : {}),
                },
              }
            : {}),
        };
      },
    }),
    downloadLogs: operation({
      id: "tasks.logs-download",
      apiKey: "read",
      rest: [{ method: "get", path: "/tasks/{uid}/logs/archive", params: { uid: "task_uid" } }],
      summary: "Task log download",
      mitlabKey: LOG_DOWNLOAD_KEY,
      body: Type.Object({ task_uid: Uid, format: Optional(oneOf(["txt", "tar.gz"])) }),
      fields: { uid: "task_uid" },
      handle: async ({ principal, body }) => {
        const steps = await logs.open(principal, body.task_uid, undefined, { follow: false });
        if (body.format === "tar.gz") {
          const entries = steps.map((step) => ({
            name: `${step.step}.log`,
            stream: step.stream ?? Readable.from([`(no log: ${step.reason})\n`]),
          }));
          return { kind: "download", filename: `${body.task_uid}-logs.tar.gz`, contentType: "application/gzip", stream: tarGz(entries) };
        }
        return {
          kind: "download",
          filename: `${body.task_uid}-logs.txt`,
          contentType: "text/plain; charset=utf-8",
          stream: sections(steps),
        };
      },
    }),
  };
}

/** The original dashboard's text format: a "<step> Log:" section per step. Destroying it releases every step's stream. */
function sections(steps: Array<{ step: string; stream: Readable | undefined; reason?: string }>): Readable {
  return Readable.from(
    (async function* () {
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
    })(),
  );
}

/** Log events as named Server-Sent Events, with the original's snake_case fields. */
async function* asSse(events: AsyncGenerator<LogEvent>): AsyncGenerator<SseEvent> {
  try {
    for await (const event of events) {
      if (event.type === "end")
        yield { event: "end", data: { status: event.status, execute_step: event.executeStep, message: event.message } };
      else if (event.type === "log") yield { event: "log", data: { step: event.step, line: event.line } };
      else yield { event: "unavailable", data: { step: event.step, reason: event.reason } };
    }
  } finally {
    await events.return(undefined);
  }
}
