import { readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "@jest/globals";
import { upload } from "./registry-fixture.js";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createHttpServer } from "../../src/http/server.js";
import { startTestService, type TestService, type TestUser } from "./test-service.js";

/** The service listening on a loopback port, so steps can call back into it. */
export async function startListeningService(
  env: Record<string, string> = {},
  onListening: (url: string) => void = () => undefined,
  port = 0,
): Promise<{ service: TestService; url: string; server: Server; close(): Promise<void> }> {
  const service = await startTestService(env);
  const server = createHttpServer(service.container.app).listen(port, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  onListening(url);
  await service.container.start(url);
  return {
    service,
    url,
    server,
    async close() {
      await service.container.close(); // ends the event streams first
      const idle = setInterval(() => server.closeIdleConnections(), 50);
      await new Promise((resolve) => server.close(resolve));
      clearInterval(idle);
      await service.close();
    },
  };
}

const EXAMPLES = path.resolve("examples");
export const example = (name: string) => readFileSync(path.join(EXAMPLES, name));

export interface PipelineFixture {
  pipeline: string;
  config: string;
  images: { download_uid: string; running_uid: string; upload_uid: string };
}

async function created(request: PromiseLike<{ status: number; body: { data: { uid: string } } }>): Promise<string> {
  const response = await request;
  expect(response.status).toBe(200);
  return response.body.data.uid;
}

/** A pipeline with its program, one config and its three build files, registered through the API. */
export async function registerPipeline(
  service: TestService,
  user: TestUser,
  application: string,
  options: { type: string; program: Buffer | string; extension: string; config: Record<string, unknown> },
): Promise<PipelineFixture> {
  const pipeline = await created(
    upload(
      service,
      "FgdSO4ryg2UA2APl",
      user,
      {
        name: `${options.type}-pipeline`,
        description: "",
        type: options.type,
        f_application_uid: application,
        extension: options.extension,
      },
      { content: options.program, name: `program.${options.extension}` },
    ),
  );
  const config = await created(
    service.post("42XzWaxjE6dKA9mZ", user, {
      name: `${options.type}-config`,
      description: "",
      data: options.config,
      f_pipeline_uid: pipeline,
    }),
  );
  const images: Record<string, string> = {};
  for (const sequence of ["download", "running", "upload"]) {
    images[`${sequence}_uid`] = await created(
      upload(
        service,
        "lwO7afcqdKtKEAhb",
        user,
        { name: `${sequence}`, sequence, f_pipeline_uid: pipeline, extension: "null" },
        { content: example("Dockerfile"), name: "Dockerfile" },
      ),
    );
  }
  return { pipeline, config, images: images as PipelineFixture["images"] };
}

export async function registerProject(
  service: TestService,
  user: TestUser,
): Promise<{ project: string; application: string; originalDataset: string }> {
  const project = await created(service.post("9Q1lCs56iud4oPcS", user, { name: "demo", description: "" }));
  const application = await created(service.post("iGXyNAx4Kp3DrosK", user, { application_name: "demo-app", f_project_uid: project }));
  const originalDataset = await created(
    upload(
      service,
      "OFbaCJE62lcPVbZj",
      user,
      { name: "original", description: "", type: "original", f_project_uid: project, extension: "zip" },
      { content: example("dataset.zip"), name: "dataset.zip" },
    ),
  );
  return { project, application, originalDataset };
}

/** A project's training dataset (the sample's dataset.zip unless `content` is given); its uid. */
export async function registerTrainingDataset(
  service: TestService,
  user: TestUser,
  project: string,
  content: Buffer | string = example("dataset.zip"),
) {
  return created(
    upload(
      service,
      "OFbaCJE62lcPVbZj",
      user,
      { name: "t", type: "training", f_project_uid: project, extension: "zip" },
      { content, name: "d.zip" },
    ),
  );
}

/** The seed's "運行Preprocessing Task" body, with this test's uids. */
export function preprocessingBody(user: TestUser, fixture: PipelineFixture, datasetUid: string): Record<string, unknown> {
  return {
    access_key: user.accessKey,
    secret_key: user.secretKey,
    task_name: "test_preprocessing_task",
    task_description: "test preprocessing task",
    pipeline_uid: fixture.pipeline,
    dataset_uid: datasetUid,
    type: "project",
    config_uid: fixture.config,
    image_uid: fixture.images,
    dataset_name: "demo_training_dataset",
    dataset_description: "demo_training_dataset_description",
    dataset_type: "training",
    dataset_file_extension: "zip",
  };
}

/** The seed's "運行Training Task" body, with this test's uids. */
export function trainingBody(user: TestUser, fixture: PipelineFixture, datasetUid: string): Record<string, unknown> {
  return {
    access_key: user.accessKey,
    secret_key: user.secretKey,
    task_name: "test_training_task",
    task_description: "test training task",
    pipeline_uid: fixture.pipeline,
    dataset_uid: datasetUid,
    type: "project",
    config_uid: fixture.config,
    image_uid: fixture.images,
    model_name: "demo_training_dataset",
    model_description: "demo_training_dataset_description",
    model_type: "default",
    model_input_format: "float32",
    model_output_format: "float32",
    model_file_extension: "zip",
  };
}

/** Task info until the task reaches one of `statuses` (tests wait; the service itself never polls). */
export async function waitForStatus(
  service: TestService,
  user: TestUser,
  uid: string,
  statuses: string[],
  timeoutMs = 30_000,
): Promise<Record<string, any>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await service.post("KlnZtRyqy3rPAZWL", user, { uid });
    expect(response.status).toBe(200);
    if (statuses.includes(response.body.data.status)) return response.body.data;
    if (Date.now() > deadline) throw new Error(`task ${uid} stayed ${response.body.data.status} (${response.body.data.status_message})`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Terminates the user's tasks that are still active and waits for them to end: a test that fails
 * halfway must not leave a task holding an engine slot the next tests wait for.
 */
export async function endActiveTasks(service: TestService, user: TestUser): Promise<void> {
  const active = await service.post("Tb7oRgW2kQ9xLm4s", user, { status: ["init", "pending", "running"] });
  for (const task of active.body.data as Array<{ uid: string }>) {
    if ((await service.post("Xq7TnR2vKp9LmW4c", user, { uid: task.uid })).status === 200)
      await waitForStatus(service, user, task.uid, ["success", "fail", "init error"]);
  }
}

/** A listening service with one user, a project, the example training pipeline and a dataset: all a training submission needs. */
export async function startTrainingWorld(env: Record<string, string> = {}) {
  const running = await startListeningService(env);
  const user = await running.service.user();
  const project = await registerProject(running.service, user);
  const training = await registerPipeline(running.service, user, project.application, {
    type: "training",
    program: example("train.py"),
    extension: "py",
    config: { target: "y", learning_rate: 0.5, epochs: 20 },
  });
  const dataset = await registerTrainingDataset(running.service, user, project.project);
  return { running, service: running.service, user, project, training, dataset };
}
