/** A task's metric history (added; not in the original): the points its steps reported, in step order. */
import { Type } from "@sinclair/typebox";
import type { MetricHistory } from "../../domain/tasks/metric-history.js";
import type { Presenter } from "../shared/presenters.js";
import { RETRIEVED } from "./messages.js";
import { operation, record } from "./operation.js";
import { Optional, Uid } from "./schemas.js";

export function metricOperations({ metrics, present }: { metrics: MetricHistory; present: Presenter }) {
  return {
    metricHistory: operation({
      id: "tasks.metric-history",
      rest: [{ method: "get", path: "/tasks/{uid}/metrics", params: { uid: "task_uid" } }],
      apiKey: "read",
      summary: "Task metric history (added; points in step order, thinned to max_points when asked)",
      mitlabKey: "Mh7tQx2LpV9kRz4n",
      body: Type.Object(
        {
          task_uid: Uid,
          key: Optional(Type.String({ minLength: 1, maxLength: 64 })),
          after_step: Optional(Type.Integer({ minimum: -1 })),
          limit: Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
          max_points: Optional(Type.Integer({ minimum: 2, maximum: 10_000 })),
        },
        { additionalProperties: false },
      ),
      fields: { taskUid: "task_uid" },
      handle: async ({ principal, body }) => {
        const points = await metrics.history(principal, body.task_uid, {
          key: body.key,
          afterStep: body.after_step,
          limit: body.limit ?? 10_000,
          maxPoints: body.max_points,
        });
        return record(
          RETRIEVED,
          points.map((p) => present.metricPoint(p)),
        );
      },
    }),
  };
}
