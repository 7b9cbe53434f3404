/** Log route keys: the original's per-step JSON, and downloads as .txt or .tar.gz. */
import { PassThrough, type Readable } from "node:stream";
import type { LogService } from "../../domain/logs/log-service.js";
import type { LogFollower } from "../../domain/logs/log-follower.js";
import { TEXT, UUID, enumOf, fields, type RouteDefinition } from "../route-definition.js";
import { tarGz } from "../streams/tar-gz.js";

export const LOG_DOWNLOAD_KEY = "Lg7dWnQ2xR5tYp8k";

export const LOG_FOLLOW_KEY = "Fw3lGz8Kc1VbN6mQ";

export function logRoutes({ logs, follower }: { logs: LogService; follower: LogFollower }): RouteDefinition[] {
  return [
    {
      key: LOG_FOLLOW_KEY, action: "Task log follow (Server-Sent Events)", body: "json",
      schema: fields({ task_uid: UUID }, { step: TEXT, tail: { type: "integer", minimum: 1, maximum: 100_000 }, since_seconds: { type: "integer", minimum: 1, maximum: 30 * 86_400 } }),
      handle: async ({ principal, body }) => ({
        kind: "events",
        stream: await follower.follow(principal, body.task_uid as string, body.step as string | undefined, {
          ...(body.tail === undefined ? {} : { tailLines: body.tail as number }),
          ...(body.since_seconds === undefined ? {} : { sinceSeconds: body.since_seconds as number }),
        }),
      }),
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
          const entries = (async function* () {
            for (const step of steps) yield { name: `${step.step}.log`, stream: step.stream ?? readableOf(`(no log: ${step.reason})\n`) };
          })();
          return { kind: "download", filename: `${uid}-logs.tar.gz`, contentType: "application/gzip", stream: tarGz(entries) };
        }
        return { kind: "download", filename: `${uid}-logs.txt`, contentType: "text/plain; charset=utf-8", stream: sections(steps) };
      },
    },
  ];
}

/** The original dashboard's text format: a "<step> Log:" section per step. */
function sections(steps: Array<{ step: string; stream: Readable | undefined; reason?: string }>): Readable {
  const out = new PassThrough();
  (async () => {
    for (const step of steps) {
      out.write(`${step.step} Log:\n`);
      if (step.stream) {
        for await (const chunk of step.stream) if (!out.write(chunk)) await new Promise((resolve) => out.once("drain", resolve));
      } else out.write(`(no log: ${step.reason})\n`);
      out.write("\n");
    }
    out.end();
  })().catch((error: unknown) => out.destroy(error as Error));
  return out;
}

function readableOf(text: string): Readable {
  const stream = new PassThrough();
  stream.end(text);
  return stream;
}
