/** Image builds of build files: re-run one, read its log, follow it (Server-Sent Events). */
import type { ImageBuilds } from "../../domain/builds/image-builds.js";
import type { BuildLogEvent, BuildLogs } from "../../domain/logs/build-logs.js";
import type { SseEvent } from "../shared/sse.js";
import { operation, record } from "./operation.js";
import { UidBody } from "./registry.operations.js";

export function buildOperations({ builds, buildLogs }: { builds: ImageBuilds; buildLogs: BuildLogs }) {
  return {
    rebuild: operation({
      id: "build-files.rebuild",
      summary: "Build a build file's image again",
      mitlabKey: "Rb9UiLd4Tk2WmQ7x",
      body: UidBody,
      handle: async ({ principal, body }) => {
        const image = await builds.rebuild(principal, body.uid);
        const view = await builds.viewOf(image);
        return record("Image build started", { uid: image.uid, image_state: view.state, image_built_reference: view.reference });
      },
    }),
    buildLog: operation({
      id: "build-files.build-log",
      summary: "The build log of a build file's image",
      mitlabKey: "Bd7LgQ2mXw9KcR4t",
      body: UidBody,
      handle: async ({ principal, body }) => {
        const log = await buildLogs.text(principal, body.uid);
        return {
          ...record("Get log successfully", { build: log.text }),
          extra: {
            image_state: log.state,
            ...(log.truncated ? { truncated: { steps: ["build"] } } : {}),
            ...(log.unavailable ? { unavailable: { build: log.unavailable } } : {}),
          },
        };
      },
    }),
    followBuildLog: operation({
      id: "build-files.build-log-follow",
      summary: "Build log follow (Server-Sent Events)",
      mitlabKey: "Bf3FwL8nZq5VtY2p",
      body: UidBody,
      handle: async ({ principal, body, signal }) => ({
        kind: "events",
        events: asSse(await buildLogs.follow(principal, body.uid, signal)),
      }),
    }),
  };
}

async function* asSse(events: AsyncIterable<BuildLogEvent>): AsyncGenerator<SseEvent> {
  for await (const event of events) {
    if (event.type === "log") yield { event: "log", data: { step: "build", line: event.line } };
    else if (event.type === "unavailable") yield { event: "unavailable", data: { step: "build", reason: event.reason } };
    else yield { event: "end", data: { image_state: event.state, message: event.message } };
  }
}
