/**
 * The MRMS surface (seed 000), with its parameter names and plain return values ("1", a status
 * code, JSON text, or "error"): a learning history (`learn_hist_no`, `hist_no`, `id`) is a task,
 * a `project_id` is a project. A running step's updates (eps, result, resources) take its task
 * credential (`Authorization: Bearer <TASK_TOKEN>`); reads and model operations a user's
 * credential or API key. Its failures are "error" with the status and detail of the service's
 * one error model (the detail in `X-Error-Detail`).
 */
import express, { type Request, type Response } from "express";
import { ValidationError } from "../../domain/errors.js";
import type { IdGenerator } from "../../domain/ports.js";
import type { Principal } from "../../domain/principal.js";
import type { TaskRecord, TaskStatus } from "../../domain/records.js";
import type { LogService } from "../../domain/logs/log-service.js";
import type { ModelAliases } from "../../domain/registry/model-aliases.js";
import type { RegistryService } from "../../domain/registry/registry-service.js";
import type { MetricHistory } from "../../domain/tasks/metric-history.js";
import type { StepAccess } from "../../domain/tasks/step-access.js";
import type { TaskService } from "../../domain/tasks/task-service.js";
import { describeCaller, describeRoute } from "../shared/access-log.js";
import { credentialsRequired, type RequestAuthenticator } from "../shared/authenticate.js";
import { describeError } from "../shared/errors.js";
import { readJsonBody } from "../shared/json-body.js";
import { respond } from "../shared/respond.js";

/** learn_sttus_cd: 5 learning, 6 done, 7 error. */
const LEARN_STATUS: Record<TaskStatus, string> = { init: "5", pending: "5", running: "5", success: "6", fail: "7", "init error": "7" };
const TAIL_LINES = 100;
const BODY_LIMITS = { maxBytes: 256 * 1024, maxDepth: 6 };

export interface MrmsDependencies {
  requests: RequestAuthenticator;
  steps: StepAccess;
  tasks: TaskService;
  logs: LogService;
  metrics: MetricHistory;
  aliases: ModelAliases;
  registry: RegistryService;
  ids: IdGenerator;
  keepAliveMs: number;
}

export function mrmsRouter(deps: MrmsDependencies): express.Router {
  const router = express.Router();

  /** A user's call (credential headers or x-api-key). */
  const asUser =
    (route: string, answer: (principal: Principal, request: Request, response: Response) => Promise<unknown>) =>
    async (request: Request, response: Response) =>
      plain(route, request, response, async () => {
        const principal = await deps.requests.fromHeaders(request);
        if (!principal) throw credentialsRequired();
        describeCaller(response, principal.userUid);
        return answer(principal, request, response);
      });

  /** A running step's call: its task credential, for the learning history the body names. */
  const asStep =
    (route: string, answer: (task: TaskRecord, body: Record<string, unknown>) => Promise<void>) =>
    async (request: Request, response: Response) =>
      plain(route, request, response, async () => {
        const token = /^bearer (.+)$/i.exec(request.headers.authorization ?? "")?.[1];
        if (!token) throw credentialsRequired();
        const body = (await readJsonBody(request, BODY_LIMITS)) as Record<string, unknown> | null;
        if (!body || typeof body !== "object" || Array.isArray(body)) throw ValidationError.field("body", "must be a JSON object");
        const histNo = text(body.hist_no ?? body.learn_hist_no, "hist_no");
        await answer(await deps.steps.authorize(histNo, token.trim()), body);
        return "1";
      });

  const task = async (principal: Principal, uid: string) => (await deps.tasks.get(principal, uid)).task;
  const modelOf = async (principal: Principal, histNo: string) => {
    const found = await task(principal, histNo);
    if (!found.outputModelUid) throw ValidationError.field("learn_hist_no", "is not a learning history that produces a model");
    return found.outputModelUid;
  };
  const nextStep = (found: TaskRecord, key: string) =>
    (JSON.parse(found.metricSummary) as { keys?: Record<string, { count: number }> }).keys?.[key]?.count ?? 0;

  router.get("/mrms/get_uuid", (_request, response) => void response.type("text/plain").send(deps.ids.uid()));

  router.post(
    "/mrms/get_sttus_cd",
    asUser("/mrms/get_sttus_cd", async (principal, request) => {
      const body = (await readJsonBody(request, BODY_LIMITS)) as Record<string, unknown> | null;
      return LEARN_STATUS[(await task(principal, text(body?.hist_no ?? body?.learn_hist_no, "hist_no"))).status];
    }),
  );

  router.get(
    "/mrms/get_project_id",
    asUser("/mrms/get_project_id", async (principal, request) => {
      return deps.tasks.projectOf(principal, text(request.query.hist_no, "hist_no"));
    }),
  );

  router.get(
    "/mrms/get_learn_logs",
    asUser("/mrms/get_learn_logs", async (principal, request) => {
      const tail = request.query.tail === "true";
      const texts = await deps.logs.stepTexts(principal, text(request.query.id, "id"));
      // One entry per step, as MRMS gave one per worker.
      return JSON.stringify(Object.fromEntries(texts.map((t) => [t.step, tail ? lastLines(t.text, TAIL_LINES) : t.text])));
    }),
  );

  router.get(
    "/mrms/get_models_info",
    asUser("/mrms/get_models_info", async (principal, request) => {
      const projectUid = text(request.query.project_id, "project_id");
      const histNo = request.query.learn_hist_no;
      const tasks = typeof histNo === "string" ? [await task(principal, histNo)] : await deps.tasks.ofProject(principal, projectUid);
      const rows = [];
      for (const found of tasks.filter((t) => t.outputModelUid)) {
        const lineage = await deps.aliases.lineage(principal, found.outputModelUid!);
        rows.push({
          learn_hist_no: found.uid,
          start_time: compact(found.createdAt),
          end_time: found.finishedAt ? compact(found.finishedAt) : "",
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
    asUser("/mrms/get_histno_status", async (principal, request) =>
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
    asUser("/mrms/model_alias_update", async (principal, request) => {
      const body = (await readJsonBody(request, BODY_LIMITS)) as Record<string, unknown> | null;
      const modelUid = await modelOf(principal, text(body?.learn_hist_no, "learn_hist_no"));
      await deps.aliases.setAlias(principal, modelUid, text(body?.model_alias, "model_alias"));
      return "1";
    }),
  );

  router.get(
    "/mrms/bookmark_update",
    asUser("/mrms/bookmark_update", async (principal, request) => {
      const flag = text(request.query.bookmarkYN, "bookmarkYN");
      if (flag !== "Y" && flag !== "N") throw ValidationError.field("bookmarkYN", "must be Y or N");
      await deps.aliases.bookmark(principal, await modelOf(principal, text(request.query.learn_hist_no, "learn_hist_no")), flag === "Y");
      return "1";
    }),
  );

  router.get(
    "/mrms/update_model_select",
    asUser("/mrms/update_model_select", async (principal, request) => {
      await deps.aliases.select(principal, await modelOf(principal, text(request.query.learn_hist_no, "learn_hist_no")));
      return "1";
    }),
  );

  router.get(
    "/mrms/model_download",
    asUser("/mrms/model_download", async (principal, request, response) => {
      const opened = await deps.registry.openFile(principal, await modelOf(principal, text(request.query.learn_hist_no, "learn_hist_no")));
      await respond(response, { kind: "download", ...opened }, { createdStatus: 200, keepAliveMs: deps.keepAliveMs, logger: silent });
      return undefined;
    }),
  );

  router.post(
    "/mrms/eps_update",
    asStep("/mrms/eps_update", async (found, body) => {
      await deps.metrics.report(found, "running", [{ key: "eps", value: number(body.eps, "eps"), step: nextStep(found, "eps") }]);
    }),
  );

  router.post(
    "/mrms/learn_result_update",
    asStep("/mrms/learn_result_update", async (found, body) => {
      const result = parseJson(text(body.result, "result"), "result") as Record<string, unknown>;
      if (!result || typeof result !== "object" || Array.isArray(result)) throw ValidationError.field("result", "must be a JSON object");
      const step = typeof result.step === "number" ? result.step : nextStep(found, "loss");
      const points = Object.entries(result)
        .filter(([key, value]) => key !== "step" && typeof value === "number")
        .map(([key, value]) => ({ key, value: value as number, step }));
      if (points.length) await deps.metrics.report(found, "running", points);
      await deps.steps.recordMetrics(found, result);
    }),
  );

  router.post(
    "/mrms/model_resources",
    asStep("/mrms/model_resources", async (found, body) => {
      const cpu = body.cpu as { percent?: unknown } | undefined;
      await deps.metrics.report(found, "running", [
        { key: "cpu_percent", value: number(cpu?.percent, "cpu.percent"), step: nextStep(found, "cpu_percent") },
      ]);
    }),
  );

  return router;
}

const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/** Runs a handler and answers as MRMS did: its value as text, or "error". */
async function plain(route: string, request: Request, response: Response, run: () => Promise<unknown>): Promise<void> {
  describeRoute(response, route);
  try {
    const value = await run();
    if (value !== undefined) response.type("text/plain").send(String(value));
  } catch (error) {
    const { status, body } = describeError(error);
    response.status(status).setHeader("X-Error-Detail", encodeURIComponent(body.detail)).type("text/plain").send("error");
  }
}

function text(value: unknown, field: string): string {
  if (typeof value !== "string" || value === "") throw ValidationError.field(field, "is required");
  return value;
}

function parseJson(value: string, field: string): unknown {
  try {
    return JSON.parse(value) as unknown;
  } catch {
    throw ValidationError.field(field, "must be a JSON object in a string");
  }
}

function number(value: unknown, field: string): number {
  const parsed = typeof value === "string" ? Number(value) : value;
  if (typeof parsed !== "number" || !Number.isFinite(parsed)) throw ValidationError.field(field, "must be a number");
  return parsed;
}

/** YYYYmmddHHMMSS (UTC), as MRMS wrote times. */
function compact(date: Date): string {
  return date.toISOString().replace(/[-:T]/g, "").slice(0, 14);
}

function lastLines(text: string, count: number): string {
  const lines = text.endsWith("\n") ? text.slice(0, -1).split("\n") : text.split("\n");
  return lines.slice(-count).join("\n");
}
