import { pipeline } from "node:stream/promises";
import express, { type Request, type Response } from "express";
import { AuthenticationError, ValidationError } from "../../domain/errors.js";
import type { Meter, ObjectStore, StagedObject } from "../../domain/ports.js";
import type { StepAccess, StepInput } from "../../domain/tasks/step-access.js";
import type { MetricHistory, MetricPointInput } from "../../domain/tasks/metric-history.js";
import { assertIdentityEncoding, checkJsonValues, readJsonBody } from "../shared/json-body.js";
import { boundedBody } from "../shared/multipart-body.js";
import { settleUnreadBody } from "../shared/unread-body.js";

const INPUTS: readonly StepInput[] = ["dataset", "base_model", "config", "program"];
const METRICS_LIMITS = { maxBytes: 256 * 1024, maxDepth: 8 };
const POINTS_LIMITS = { maxBytes: 1024 * 1024, maxDepth: 4 };

/**
 * What a task's steps call, with the task credential as `Authorization: Bearer <token>`
 * (the step contract in the README). The credential reaches only that task's inputs and
 * output, and stops working when the task ends. It is checked before any body is read.
 *
 *   GET  /api/steps/v1/tasks/:taskUid/inputs/:input   dataset | base_model | config | program
 *   PUT  /api/steps/v1/tasks/:taskUid/output          the output file as the request body
 *   POST /api/steps/v1/tasks/:taskUid/metrics         a JSON object, e.g. {"accuracy": 0.93}
 *   POST /api/steps/v1/tasks/:taskUid/metric-points   {"points": [{"key": "loss", "value": 0.4, "step": 3}, ...]}
 */
export function stepApi({
  steps,
  objects,
  maxUploadBytes,
  meter,
  metrics,
}: {
  steps: StepAccess;
  objects: ObjectStore;
  maxUploadBytes: number;
  meter: Meter;
  metrics: MetricHistory;
}): express.Router {
  const router = express.Router();
  const authorize = (request: Request) => {
    const header = request.headers.authorization ?? "";
    if (!/^bearer /i.test(header))
      throw new AuthenticationError("a task credential is required (Authorization: Bearer <token>)", {
        problems: [{ field: "Authorization", message: "must be Bearer <task token>" }],
      });
    return steps.authorize(String(request.params.taskUid), header.slice(7).trim());
  };
  /** Answers early refusals without losing them to a client still sending its body. */
  const guarded = (handler: (request: Request, response: Response) => Promise<void>) => async (request: Request, response: Response) => {
    try {
      await handler(request, response);
    } catch (error) {
      settleUnreadBody(request, response);
      throw error;
    }
  };

  router.get(
    "/api/steps/v1/tasks/:taskUid/inputs/:input",
    guarded(async (request, response) => {
      const task = await authorize(request);
      const input = String(request.params.input) as StepInput;
      if (!INPUTS.includes(input)) throw ValidationError.field("input", `must be one of ${INPUTS.join(", ")}`);
      const opened = await steps.openInput(task, input);
      if ("json" in opened) {
        response.json(opened.json);
        return;
      }
      response.setHeader("Content-Type", "application/octet-stream");
      response.setHeader("Content-Length", String(opened.size));
      response.setHeader("Content-Disposition", `attachment; filename="${opened.filename}"`);
      response.on("close", () => opened.stream.destroy());
      await pipeline(opened.stream, response).catch(() => undefined); // a step that leaves retries on its own
    }),
  );

  router.put(
    "/api/steps/v1/tasks/:taskUid/output",
    guarded(async (request, response) => {
      const task = await authorize(request);
      assertIdentityEncoding(request);
      const staged: StagedObject = await objects.stage(boundedBody(request, maxUploadBytes, "body"));
      try {
        const { size } = await steps.storeOutput(task, staged);
        meter.uploaded(size);
        response.status(201).json({ detail: "File uploaded successfully", data: { size } });
      } finally {
        await staged.discard();
      }
    }),
  );

  router.post(
    "/api/steps/v1/tasks/:taskUid/metrics",
    guarded(async (request, response) => {
      const task = await authorize(request);
      const body = await readJsonBody(request, METRICS_LIMITS);
      if (!body || typeof body !== "object" || Array.isArray(body)) throw ValidationError.field("body", "must be a JSON object");
      checkJsonValues(body);
      await steps.recordMetrics(task, body as Record<string, unknown>);
      await metrics.recordResult(task, "upload", body as Record<string, unknown>);
      response.json({ detail: "Metrics recorded successfully", data: body });
    }),
  );
  router.post(
    "/api/steps/v1/tasks/:taskUid/metric-points",
    guarded(async (request, response) => {
      const task = await authorize(request);
      const body = await readJsonBody(request, POINTS_LIMITS);
      if (!body || typeof body !== "object" || Array.isArray(body)) throw ValidationError.field("body", "must be a JSON object");
      const { points, step_name: stepName } = body as { points?: unknown; step_name?: unknown };
      if (!Array.isArray(points)) throw ValidationError.field("points", "must be a list of {key, value, step}");
      if (stepName !== undefined && (typeof stepName !== "string" || !/^[\w.-]{1,64}$/.test(stepName)))
        throw ValidationError.field("step_name", "must be the step's name");
      const stored = await metrics.report(task, (stepName as string | undefined) ?? "running", points as MetricPointInput[]);
      response.status(201).json({ detail: "Metric points recorded successfully", data: stored });
    }),
  );
  return router;
}
