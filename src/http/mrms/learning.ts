/**
 * MRMS's learning updates (seed 000): what a running worker reports with its task credential
 * (status, eps, result, time, resources), and insert_learn_hist, which adds a learning history
 * to run.
 */
import type express from "express";
import { ValidationError } from "../../domain/errors.js";
import type { TaskRecord } from "../../domain/records.js";
import type { LearningHistories } from "../../domain/tasks/learning-histories.js";
import type { LearningReports } from "../../domain/tasks/learning-reports.js";
import type { MetricHistory } from "../../domain/tasks/metric-history.js";
import type { StepAccess } from "../../domain/tasks/step-access.js";
import { MRMS_BODIES } from "./bodies.js";
import { number, parseCompact, parseJson, text, type MrmsCallers } from "./plain.js";

export interface LearningDependencies {
  steps: StepAccess;
  metrics: MetricHistory;
  reports: LearningReports;
  histories: LearningHistories;
}

export function mountLearningRoutes(router: express.Router, callers: MrmsCallers, deps: LearningDependencies): void {
  /** The next step index of a key (points reported without one are numbered in report order). */
  const nextStep = (found: TaskRecord, key: string) =>
    (JSON.parse(found.metricSummary) as { keys?: Record<string, { count: number }> }).keys?.[key]?.count ?? 0;

  router.post(
    "/mrms/status_update/learn",
    callers.asStep(
      "/mrms/status_update/learn",
      async (found, body) => {
        const code = body.sttus_cd as "5" | "6" | "7";
        await deps.reports.reportStatus(found, { code, worker: String(body.task_idx), message: String(body.message) });
      },
      MRMS_BODIES.status_update,
    ),
  );

  router.post(
    "/mrms/time_update",
    callers.asStep(
      "/mrms/time_update",
      async (found, body) => {
        const time = String(body.curr_time);
        parseCompact(time, "curr_time");
        await deps.reports.reportTime(found, body.type === "start" ? "start" : "end", time);
      },
      MRMS_BODIES.time_update,
    ),
  );

  router.post(
    "/mrms/eps_update",
    callers.asStep(
      "/mrms/eps_update",
      async (found, body) => {
        await deps.metrics.report(found, "running", [{ key: "eps", value: number(body.eps, "eps"), step: nextStep(found, "eps") }]);
      },
      MRMS_BODIES.eps_update,
    ),
  );

  router.post(
    "/mrms/learn_result_update",
    callers.asStep(
      "/mrms/learn_result_update",
      async (found, body) => {
        const result = parseJson(text(body.result, "result"), "result") as Record<string, unknown>;
        if (!result || typeof result !== "object" || Array.isArray(result)) throw ValidationError.field("result", "must be a JSON object");
        const step = typeof result.step === "number" ? result.step : nextStep(found, "loss");
        const points = Object.entries(result)
          .filter(([key, value]) => key !== "step" && typeof value === "number")
          .map(([key, value]) => ({ key, value: value as number, step }));
        if (points.length) await deps.metrics.report(found, "running", points);
        await deps.steps.recordMetrics(found, result);
      },
      MRMS_BODIES.learn_result_update,
    ),
  );

  router.post(
    "/mrms/model_resources",
    callers.asStep(
      "/mrms/model_resources",
      async (found, body) => {
        const cpu = body.cpu as { percent?: unknown } | undefined;
        await deps.metrics.report(found, "running", [
          { key: "cpu_percent", value: number(cpu?.percent, "cpu.percent"), step: nextStep(found, "cpu_percent") },
        ]);
      },
      MRMS_BODIES.model_resources,
    ),
  );

  router.post(
    "/mrms/insert_learn_hist",
    callers.asUser(
      "/mrms/insert_learn_hist",
      "submit",
      async (principal, _request, body) => {
        const time = String(body.start_time);
        parseCompact(time, "start_time");
        await deps.histories.insert(principal, {
          uid: String(body.learn_hist_no),
          pipelineUid: String(body.alg_id),
          configUid: String(body.param_id),
          datasetUid: String(body.dp_analysis_id),
          projectUid: String(body.project_id),
          startTime: time,
        });
        return "1";
      },
      MRMS_BODIES.insert_learn_hist,
    ),
  );
}
