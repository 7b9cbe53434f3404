/**
 * The MRMS surface (seed 000), with its parameter names and plain return values ("1", a status
 * code, JSON text, or "error"): a learning history (`learn_hist_no`, `hist_no`, `id`) is a task,
 * a `project_id` is a project. A running step's updates (eps, result, resources) take its task
 * credential (`Authorization: Bearer <TASK_TOKEN>`); reads and model operations a user's
 * credential or API key. Its failures are "error" with the status and detail of the service's
 * one error model (the detail in `X-Error-Detail`).
 */
import express from "express";
import { ValidationError } from "../../domain/errors.js";
import type { IdGenerator } from "../../domain/ports.js";
import type { Principal } from "../../domain/principal.js";
import type { TaskRecord, TaskStatus } from "../../domain/records.js";
import type { LogService } from "../../domain/logs/log-service.js";
import type { ModelAliases } from "../../domain/registry/model-aliases.js";
import type { ProjectProfiles } from "../../domain/registry/project-profiles.js";
import type { RegistryService } from "../../domain/registry/registry-service.js";
import type { ReportedLearning } from "../../domain/tasks/learning-reports.js";
import type { TaskService } from "../../domain/tasks/task-service.js";
import type { RequestAuthenticator } from "../shared/authenticate.js";
import { respond } from "../shared/respond.js";
import { MRMS_BODIES } from "./bodies.js";
import { mountLearningRoutes, type LearningDependencies } from "./learning.js";
import { compact, mrmsCallers, text } from "./plain.js";
import { mountProjectRoutes } from "./projects.js";

/** learn_sttus_cd: 5 learning, 6 done, 7 error. */
const LEARN_STATUS: Record<TaskStatus, string> = { init: "5", pending: "5", running: "5", success: "6", fail: "7", "init error": "7" };
const TAIL_LINES = 100;

export interface MrmsDependencies extends LearningDependencies {
  requests: RequestAuthenticator;
  tasks: TaskService;
  logs: LogService;
  aliases: ModelAliases;
  projects: ProjectProfiles;
  registry: RegistryService;
  ids: IdGenerator;
  keepAliveMs: number;
}

export function mrmsRouter(deps: MrmsDependencies): express.Router {
  const router = express.Router();

  const callers = mrmsCallers(deps);
  const { asUser } = callers;
  mountProjectRoutes(router, callers, deps.projects);
  mountLearningRoutes(router, callers, deps);

  const task = async (principal: Principal, uid: string) => (await deps.tasks.get(principal, uid)).task;
  const modelOf = async (principal: Principal, histNo: string) => {
    const found = await task(principal, histNo);
    if (!found.outputModelUid) throw ValidationError.field("learn_hist_no", "is not a learning history that produces a model");
    return found.outputModelUid;
  };

  router.get("/mrms/get_uuid", (_request, response) => void response.type("text/plain").send(deps.ids.uid()));

  router.post(
    "/mrms/get_sttus_cd",
    asUser(
      "/mrms/get_sttus_cd",
      "read",
      async (principal, request, body) => {
        return LEARN_STATUS[(await task(principal, text(body.hist_no ?? body.learn_hist_no, "hist_no"))).status];
      },
      MRMS_BODIES.get_sttus_cd,
    ),
  );

  router.get(
    "/mrms/get_project_id",
    asUser("/mrms/get_project_id", "read", async (principal, request) => {
      return deps.tasks.projectOf(principal, text(request.query.hist_no, "hist_no"));
    }),
  );

  router.get(
    "/mrms/get_learn_logs",
    asUser("/mrms/get_learn_logs", "read", async (principal, request) => {
      const tail = request.query.tail === "true";
      const texts = await deps.logs.stepTexts(principal, text(request.query.id, "id"));
      // One entry per step, as MRMS gave one per worker.
      return JSON.stringify(Object.fromEntries(texts.map((t) => [t.step, tail ? lastLines(t.text, TAIL_LINES) : t.text])));
    }),
  );

  router.get(
    "/mrms/get_models_info",
    asUser("/mrms/get_models_info", "read", async (principal, request) => {
      const projectUid = text(request.query.project_id, "project_id");
      const histNo = request.query.learn_hist_no;
      const tasks = typeof histNo === "string" ? [await task(principal, histNo)] : await deps.tasks.ofProject(principal, projectUid);
      const rows = [];
      for (const found of tasks.filter((t) => t.outputModelUid)) {
        const lineage = await deps.aliases.lineage(principal, found.outputModelUid!);
        rows.push({
          learn_hist_no: found.uid,
          // The worker's own report (time_update) when it made one, else the engine's.
          start_time: reported(found).start_time ?? compact(found.createdAt),
          end_time: reported(found).end_time ?? (found.finishedAt ? compact(found.finishedAt) : ""),
          learn_sttus_cd: LEARN_STATUS[found.status],
          message: found.statusMessage || "-",
          model_uid: lineage.model.uid,
          model_version: lineage.model.version,
          model_alias: lineage.aliases.filter((a) => a !== "selected").join(","),
          bookmark_yn: lineage.model.bookmarked ? "Y" : "N",
          select_yn: lineage.aliases.includes("selected") ? "Y" : "N",
          ml_result_json: found.metrics,
        });
      }
      return JSON.stringify(rows);
    }),
  );

  router.get(
    "/mrms/get_histno_status",
    asUser("/mrms/get_histno_status", "read", async (principal, request) =>
      JSON.stringify(
        (await deps.tasks.ofProject(principal, text(request.query.project_id, "project_id"))).map((t) => ({
          learn_hist_no: t.uid,
          learn_sttus_cd: LEARN_STATUS[t.status],
        })),
      ),
    ),
  );

  router.post(
    "/mrms/model_alias_update",
    asUser(
      "/mrms/model_alias_update",
      "retrain",
      async (principal, request, body) => {
        const modelUid = await modelOf(principal, text(body.learn_hist_no, "learn_hist_no"));
        await deps.aliases.setAlias(principal, modelUid, text(body.model_alias, "model_alias"));
        return "1";
      },
      MRMS_BODIES.model_alias_update,
    ),
  );

  router.get(
    "/mrms/bookmark_update",
    asUser("/mrms/bookmark_update", "retrain", async (principal, request) => {
      const flag = text(request.query.bookmarkYN, "bookmarkYN");
      if (flag !== "Y" && flag !== "N") throw ValidationError.field("bookmarkYN", "must be Y or N");
      await deps.aliases.bookmark(principal, await modelOf(principal, text(request.query.learn_hist_no, "learn_hist_no")), flag === "Y");
      return "1";
    }),
  );

  router.get(
    "/mrms/update_model_select",
    asUser("/mrms/update_model_select", "retrain", async (principal, request) => {
      await deps.aliases.select(principal, await modelOf(principal, text(request.query.learn_hist_no, "learn_hist_no")));
      return "1";
    }),
  );

  router.get(
    "/mrms/model_download",
    asUser("/mrms/model_download", "read", async (principal, request, _body, response) => {
      const opened = await deps.registry.openFile(principal, await modelOf(principal, text(request.query.learn_hist_no, "learn_hist_no")));
      await respond(response, { kind: "download", ...opened }, { createdStatus: 200, keepAliveMs: deps.keepAliveMs, logger: silent });
      return undefined;
    }),
  );

  return router;
}

const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

function reported(task: TaskRecord): ReportedLearning {
  return (JSON.parse(task.metricSummary) as { reported?: ReportedLearning }).reported ?? {};
}

function lastLines(text: string, count: number): string {
  const lines = text.endsWith("\n") ? text.slice(0, -1).split("\n") : text.split("\n");
  return lines.slice(-count).join("\n");
}
