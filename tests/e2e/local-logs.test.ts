import { readdirSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { openDescriptors } from "../support/raw-http.js";
import {
  example,
  registerPipeline,
  registerProject,
  registerTrainingDataset,
  startListeningService,
  trainingBody,
  waitForStatus,
} from "../support/task-fixture.js";
import type { TestService, TestUser } from "../support/test-service.js";

/** Splits a tar archive into { name: content }. */
function untar(archive: Buffer): Record<string, string> {
  const files: Record<string, string> = {};
  for (let offset = 0; offset + 512 <= archive.length;) {
    const name = archive
      .subarray(offset, offset + 100)
      .toString()
      .replace(/\0.*$/s, "");
    if (!name) break;
    const size = parseInt(
      archive
        .subarray(offset + 124, offset + 136)
        .toString()
        .replace(/\0.*$/s, ""),
      8,
    );
    files[name] = archive.subarray(offset + 512, offset + 512 + size).toString();
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

describe("Task logs on the local engine", () => {
  let running: { service: TestService; url: string; close(): Promise<void> };
  let service: TestService;
  let user: TestUser;
  let taskUid: string;

  beforeAll(async () => {
    running = await startListeningService({ LOG_JSON_MAX_BYTES_PER_STEP: "64" });
    service = running.service;
    user = await service.user();
    const project = await registerProject(service, user);
    // A "training" run straight on the original dataset is refused, so train on a training dataset made by hand.
    const dataset = await registerTrainingDataset(service, user, project.project);
    const training = await registerPipeline(service, user, project.application, {
      type: "training",
      program: example("train.py"),
      extension: "py",
      config: { target: "y", epochs: 50 },
    });
    const submitted = await service.post("q8uzMBcM5YJH6dPf", user, trainingBody(user, training, dataset));
    taskUid = submitted.body.data.uid;
    await waitForStatus(service, user, taskUid, ["success"]);
  });
  afterAll(() => running.close());

  test("When the logs are asked for, then they come keyed by the original's step names, capped with a pointer to the full download", async () => {
    const response = await service.post("bJ7xLmgp4WSWK498", user, { task_uid: taskUid, type: "training" });
    expect(response.status).toBe(200);
    expect(response.body.detail).toBe("Get log successfully");
    expect(Object.keys(response.body.data)).toEqual(["download_training_dataset", "training", "upload_model"]);
    expect(response.body.data.download_training_dataset).toMatch(/^downloaded program -> program.py/);
    for (const text of Object.values(response.body.data) as string[]) expect(Buffer.byteLength(text)).toBeLessThanOrEqual(64);
    expect(response.body.truncated.steps).toContain("training");
    expect(response.body.truncated.download).toEqual({ route_key: "Lg7dWnQ2xR5tYp8k", body: { task_uid: taskUid, format: "txt" } });
  });

  test.each(["Training", "TRAINING", undefined])("When type is %s, then it is accepted (case-insensitive, optional)", async (type) => {
    const response = await service.post("bJ7xLmgp4WSWK498", user, { task_uid: taskUid, ...(type ? { type } : {}) });
    expect(response.status).toBe(200);
  });

  test("When type names another kind of task, then 400 names the field", async () => {
    const response = await service.post("bJ7xLmgp4WSWK498", user, { task_uid: taskUid, type: "preprocessing" });
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([{ field: "type", message: "does not match the task, which is a training task" }]);
  });

  test("When the logs are downloaded as text, then each step is a '<step> Log:' section with its whole log", async () => {
    const response = await service.post("Lg7dWnQ2xR5tYp8k", user, { task_uid: taskUid, format: "txt" });
    expect(response.status).toBe(200);
    expect(response.headers["content-disposition"]).toBe(`attachment; filename="${taskUid}-logs.txt"`);
    const text = response.text;
    expect(text).toMatch(/^download_training_dataset Log:\ndownloaded program/);
    expect(text).toContain("\ntraining Log:\nepoch 0 loss");
    expect(text).toMatch(/trained on 200 rows, r2=0\.\d+\n/);
    expect(text).toContain("\nupload_model Log:\nreported metrics.json\nuploaded model.zip");
  });

  test("When the logs are downloaded as .tar.gz, then there is one file per step", async () => {
    const response = await service
      .post("Lg7dWnQ2xR5tYp8k", user, { task_uid: taskUid, format: "tar.gz" })
      .buffer(true)
      .parse((res, done) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => done(null, Buffer.concat(chunks)));
      });
    expect(response.status).toBe(200);
    const files = untar(gunzipSync(response.body as Buffer));
    expect(Object.keys(files)).toEqual(["download_training_dataset.log", "training.log", "upload_model.log"]);
    expect(files["training.log"]).toMatch(/trained on 200 rows/);
  });

  test("When a follower asks for since_seconds on the local engine, then 400 names the field instead of ignoring it", async () => {
    const response = await service.post("Fw3lGz8Kc1VbN6mQ", user, { task_uid: taskUid, since_seconds: 60 });
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([{ field: "since_seconds", message: "is not available for tasks on the local engine; use tail" }]);
  });

  test("When a finished task is followed with a tail, then the last lines of each step arrive and the stream ends", async () => {
    const response = await service.post("Fw3lGz8Kc1VbN6mQ", user, { task_uid: taskUid, step: "training", tail: 1 });
    expect(response.status).toBe(200);
    expect(response.headers["content-type"]).toBe("text/event-stream; charset=utf-8");
    const events = response.text
      .split("\n\n")
      .filter((b) => b.startsWith("event: log"))
      .map((b) => JSON.parse(b.split("data: ")[1]!));
    expect(events).toEqual([{ step: "training", line: expect.stringMatching(/^trained on 200 rows/) }]);
    expect(response.text).toMatch(/event: end\ndata: \{"status":"success"/);
  });

  test("When another organization asks for the logs, then 404", async () => {
    const outsider = await service.user({ organization: "elsewhere" });
    expect((await service.post("bJ7xLmgp4WSWK498", outsider, { task_uid: taskUid })).status).toBe(404);
    expect((await service.post("Lg7dWnQ2xR5tYp8k", outsider, { task_uid: taskUid })).status).toBe(404);
  });

  test("When 30 log downloads (.tar.gz and .txt) are abandoned after their first bytes, then no spool, descriptor or stream is left", async () => {
    const project = await registerProject(service, user);
    const noisy = await registerPipeline(service, user, project.application, {
      type: "training",
      extension: "sh",
      config: {},
      program: 'head -c 8000000 /dev/zero | tr "\\0" "x" | fold -w 100\nprintf m > "$OUTPUTS_DIR/$OUTPUT_FILE_NAME"\n',
    });
    const dataset = await registerTrainingDataset(service, user, project.project, "PK");
    const uid = (await service.post("q8uzMBcM5YJH6dPf", user, trainingBody(user, noisy, dataset))).body.data.uid as string;
    await waitForStatus(service, user, uid, ["success"]);
    const spools = () => readdirSync(os.tmpdir()).filter((name) => name.startsWith("argo-entrypoint-tar-"));
    const logFiles = () => openDescriptors(`${uid}/logs/`);
    const spoolsBefore = spools().length;
    const abandon = (format: string) =>
      new Promise<void>((resolve, reject) => {
        const body = JSON.stringify({ access_key: user.accessKey, secret_key: user.secretKey, task_uid: uid, format });
        const request = http.request(
          `${running.url}/api/v1.2.4/entrypoint/Router/parse/Lg7dWnQ2xR5tYp8k`,
          { method: "POST", headers: { "Content-Type": "application/json" }, agent: false },
          (response) => {
            expect(response.statusCode).toBe(200);
            response.once("data", () => {
              request.destroy();
              resolve();
            });
          },
        );
        request.on("error", (error: NodeJS.ErrnoException) => (error.code === "ECONNRESET" ? resolve() : reject(error)));
        request.end(body);
      });
    await Promise.all(Array.from({ length: 30 }, (_, i) => abandon(i % 2 ? "txt" : "tar.gz")));
    const deadline = Date.now() + 10_000;
    while ((spools().length > spoolsBefore || logFiles().length > 0) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect(spools().length).toBe(spoolsBefore);
    expect(logFiles()).toEqual([]);
    // A client leaving is not a server problem: nothing about it is logged as a warning or error.
    expect(service.logs.filter((line) => /"level":(40|50)/.test(line) && /Premature close|ECONNRESET|aborted/.test(line))).toEqual([]);
  });
});
