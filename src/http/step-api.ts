import { pipeline } from "node:stream/promises";
import { Transform } from "node:stream";
import express, { type Request } from "express";
import { AuthenticationError, PayloadTooLargeError, ValidationError } from "../domain/errors.js";
import type { StepInput, TaskService } from "../domain/tasks/task-service.js";

const INPUTS: readonly StepInput[] = ["dataset", "base_model", "config", "program"];

/**
 * What a task's steps call, with the task credential as `Authorization: Bearer <token>`
 * (the step contract in the README). The credential reaches only that task's inputs and
 * output, and stops working when the task ends.
 *
 *   GET  /api/steps/v1/tasks/:taskUid/inputs/:input   dataset | base_model | config | program
 *   PUT  /api/steps/v1/tasks/:taskUid/output          the output file as the request body
 *   POST /api/steps/v1/tasks/:taskUid/metrics         a JSON object, e.g. {"accuracy": 0.93}
 */
export function stepApi({ tasks, maxUploadBytes }: { tasks: TaskService; maxUploadBytes: number }): express.Router {
  const router = express.Router();
  const authorize = (request: Request) => {
    const header = request.headers.authorization ?? "";
    if (!header.startsWith("Bearer ")) throw new AuthenticationError("a task credential is required (Authorization: Bearer <token>)");
    return tasks.authorizeStep(String(request.params.taskUid), header.slice(7));
  };

  router.get("/api/steps/v1/tasks/:taskUid/inputs/:input", async (request, response) => {
    const task = await authorize(request);
    const input = String(request.params.input) as StepInput;
    if (!INPUTS.includes(input)) throw ValidationError.field("input", `must be one of ${INPUTS.join(", ")}`);
    const opened = await tasks.openStepInput(task, input);
    if ("json" in opened) {
      response.json(opened.json);
      return;
    }
    response.setHeader("Content-Type", "application/octet-stream");
    response.setHeader("Content-Length", String(opened.size));
    response.setHeader("Content-Disposition", `attachment; filename="${opened.filename}"`);
    await pipeline(opened.stream, response);
  });

  router.put("/api/steps/v1/tasks/:taskUid/output", async (request, response) => {
    const task = await authorize(request);
    let received = 0;
    const limit = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        received += chunk.length;
        done(received > maxUploadBytes ? new PayloadTooLargeError(`output is larger than the limit of ${maxUploadBytes} bytes`) : null, chunk);
      },
    });
    request.pipe(limit);
    const { size } = await tasks.storeStepOutput(task, limit);
    response.status(201).json({ detail: "File uploaded successfully", data: { size } });
  });

  router.post("/api/steps/v1/tasks/:taskUid/metrics", express.json({ limit: "256kb" }), async (request, response) => {
    const task = await authorize(request);
    const body: unknown = request.body;
    if (!body || typeof body !== "object" || Array.isArray(body)) throw ValidationError.field("body", "must be a JSON object");
    await tasks.recordMetrics(task, body as Record<string, unknown>);
    response.json({ detail: "Metrics recorded successfully", data: body });
  });
  return router;
}
