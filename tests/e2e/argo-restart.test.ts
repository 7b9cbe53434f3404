import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { argoEnv, eventually, startFakeCluster, type FakeCluster } from "../support/fake-kube/fake-cluster.js";
import type { StepContext } from "../support/fake-kube/fake-argo-controller.js";
import {
  example,
  registerPipeline,
  registerProject,
  registerTrainingDataset,
  startListeningService,
  trainingBody,
  waitForStatus,
  type PipelineFixture,
} from "../support/task-fixture.js";
import { startTcpFront } from "../support/tcp-front.js";
import { createTestDatabase } from "../support/test-database.js";
import { API, type TestService, type TestUser } from "../support/test-service.js";

const TSX_LOADER = new URL("../../node_modules/tsx/dist/loader.mjs", import.meta.url).href;
const STEP_RUNNER = path.resolve("src/steps/step-runner.ts");

/** Runs the real built-in upload step, as the step image would, with the task's credential. */
function realUploadStep(context: StepContext, serviceUrl: string, inputs: string): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", TSX_LOADER, STEP_RUNNER, "upload"], {
      env: {
        PATH: process.env.PATH,
        ARGO_ENTRYPOINT_URL: serviceUrl,
        TASK_UID: context.parameters.task_uid,
        TASK_TOKEN: context.token,
        INPUTS_DIR: inputs,
        OUTPUT_FILE_NAME: context.parameters.output_file_name,
        STEP_API_RETRY_SECONDS: "60",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.on("data", (chunk: Buffer) => context.log(chunk.toString().trimEnd()));
    child.stderr.on("data", (chunk: Buffer) => context.log(chunk.toString().trimEnd()));
    child.on("close", (code) => resolve(code ?? 1)); // after its output is read whole
  });
}

describe("A service restart while a task's upload step runs (Argo)", () => {
  let cluster: FakeCluster;
  let database: { url: string; drop(): Promise<void> };
  const filesDir = mkdtempSync(path.join(os.tmpdir(), "argo-entrypoint-restart-files-"));
  const inputs = mkdtempSync(path.join(os.tmpdir(), "argo-entrypoint-restart-inputs-"));
  let front: Awaited<ReturnType<typeof startTcpFront>>;
  let running: { service: TestService; url: string; close(): Promise<void> };
  let service: TestService;
  let user: TestUser;
  let training: PipelineFixture;
  let trainingDataset: string;

  const start = async () => {
    const started = await startListeningService(
      argoEnv(cluster, { DATABASE_URL: database.url, FILES_DIR: filesDir, STEP_API_URL: front.url }),
      (url) => (cluster.stepApi.url = url),
    );
    front.route(Number(new URL(started.url).port));
    return started;
  };

  beforeAll(async () => {
    cluster = await startFakeCluster();
    database = await createTestDatabase();
    front = await startTcpFront();
    running = await start();
    service = running.service;
    user = await service.user();
    const project = await registerProject(service, user);
    training = await registerPipeline(service, user, project.application, {
      type: "training",
      program: example("train.py"),
      extension: "py",
      config: {},
    });
    trainingDataset = await registerTrainingDataset(service, user, project.project);
  });
  afterAll(async () => {
    await running?.close();
    await front?.close();
    await cluster?.close();
    await database.drop();
    rmSync(filesDir, { recursive: true, force: true });
    rmSync(inputs, { recursive: true, force: true });
  });

  test("When the service restarts while the built-in upload step runs, then the step retries and the task ends in success", async () => {
    writeFileSync(path.join(inputs, "model.zip"), "the trained model");
    let uploadStarted!: () => void;
    const started = new Promise<void>((resolve) => (uploadStarted = resolve));
    let restarted!: () => void;
    const serviceBack = new Promise<void>((resolve) => (restarted = resolve));
    cluster.behavior.upload = async (context) => {
      uploadStarted();
      // The service goes away before the step makes its first call, and comes back while it retries.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const exit = realUploadStep(context, front.url, inputs);
      await serviceBack;
      return exit;
    };

    const response = await service.http.post(`${API}/q8uzMBcM5YJH6dPf`).send(trainingBody(user, training, trainingDataset));
    expect(response.status).toBe(200);
    const { uid, model_uid: model } = response.body.data as { uid: string; model_uid: string };
    await started;
    front.route(undefined);
    await running.close(); // a rolling update: the old pod is gone...
    await new Promise((resolve) => setTimeout(resolve, 1500));
    running = await start(); // ...and the new one takes over the Lease and the watch
    service = running.service;
    restarted();

    const done = await waitForStatus(service, user, uid, ["success", "fail"], 60_000);
    const log = (await service.post("bJ7xLmgp4WSWK498", user, { task_uid: uid })).body.data.upload_model as string;
    expect({ status: done.status, message: done.status_message, log: done.status === "success" ? "" : log }).toEqual({
      status: "success",
      message: "",
      log: "",
    });
    expect(log).toMatch(/retrying/);
    expect(log).toMatch(/uploaded model\.zip/);
    await eventually(async () => (await service.container.db.models.find(model))?.status === "unpublish");
  }, 90_000);
});
