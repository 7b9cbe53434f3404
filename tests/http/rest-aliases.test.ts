/** REST aliases: each behaves like its original route key (same use case, checks and answer), with REST's verbs and statuses. */
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import {
  registerPipeline,
  registerProject,
  registerTrainingDataset,
  startListeningService,
  trainingBody,
  waitForStatus,
  type PipelineFixture,
} from "../support/task-fixture.js";
import type { TestService, TestUser } from "../support/test-service.js";

describe("REST aliases", () => {
  let running: Awaited<ReturnType<typeof startListeningService>>;
  let service: TestService;
  let user: TestUser;
  let stranger: TestUser;
  let project: { project: string; application: string; originalDataset: string };
  let pipeline: PipelineFixture;
  let dataset: string;
  const as = (who: TestUser) => ({ "X-Access-Key": who.accessKey, "X-Secret-Key": who.secretKey });
  const get = (path: string, who = user) => service.http.get(`/api/v1${path}`).set(as(who));
  const post = (path: string, body: object = {}, who = user) => service.http.post(`/api/v1${path}`).set(as(who)).send(body);
  const original = (key: string, body: Record<string, unknown> = {}) => service.post(key, user, body);

  beforeAll(async () => {
    running = await startListeningService();
    service = running.service;
    user = await service.user({ organization: "rest-lab" });
    stranger = await service.user({ organization: "elsewhere" });
    project = await registerProject(service, user);
    dataset = await registerTrainingDataset(service, user, project.project);
    pipeline = await registerPipeline(service, user, project.application, {
      type: "training",
      program: 'echo "epoch 1"\necho weights > "$OUTPUTS_DIR/$OUTPUT_FILE_NAME"\n',
      extension: "sh",
      config: {},
    });
  });
  afterAll(() => running.close());

  test("When a task is submitted, read, listed and its logs fetched by REST, then the answers are those of the original keys", async () => {
    const { access_key: _a, secret_key: _s, ...body } = trainingBody(user, pipeline, dataset);
    const submitted = await post("/tasks/training", body);
    expect(submitted.status).toBe(201);
    const uid = submitted.body.data.uid as string;
    await waitForStatus(service, user, uid, ["success"]);

    const rest = await get(`/tasks/${uid}`);
    expect(rest.status).toBe(200);
    expect(rest.body).toEqual((await original("KlnZtRyqy3rPAZWL", { uid })).body);
    expect(rest.headers.etag).toBeDefined();
    expect((await get(`/tasks/${uid}`).set("If-None-Match", rest.headers.etag!)).status).toBe(304);

    const listed = await get(`/tasks?status=success&type=training&limit=5`);
    expect(listed.body).toEqual((await original("Tb7oRgW2kQ9xLm4s", { status: ["success"], type: ["training"], limit: 5 })).body);
    expect(listed.body.data.map((t: { uid: string }) => t.uid)).toContain(uid);

    const logs = await get(`/tasks/${uid}/logs`);
    expect(logs.body).toEqual((await original("bJ7xLmgp4WSWK498", { task_uid: uid })).body);
    const followed = await get(`/tasks/${uid}/logs?follow=true&step=training`);
    expect(followed.headers["content-type"]).toMatch(/^text\/event-stream/);
    expect(followed.text).toContain('"line":"epoch 1"');

    const model = await get(`/models/${submitted.body.data.model_uid}/file`);
    expect(model.status).toBe(200);
    expect(model.body.toString()).toBe("weights\n");
    const pipelines = await get(`/applications/${project.application}/pipelines`);
    expect(pipelines.body).toEqual((await original("VytZbpzyI9fFWkM6", { f_application_uid: project.application })).body);
  });

  test("When a task is stopped, retried, resubmitted or deleted by REST, then the original's rules apply", async () => {
    const { access_key: _a, secret_key: _s, ...body } = trainingBody(user, pipeline, dataset);
    const uid = (await post("/tasks/training", body)).body.data.uid as string;
    await waitForStatus(service, user, uid, ["success"]);
    const stopped = await post(`/tasks/${uid}/stop`);
    expect({ status: stopped.status, detail: stopped.body.detail }).toEqual({
      status: 409,
      detail: (await original("CNNfUmDpcWXp7vdM", { task_uid: uid })).body.detail,
    });
    expect((await post(`/tasks/${uid}/retry`)).status).toBe(409);
    const resubmitted = await post(`/tasks/${uid}/resubmit`);
    expect(resubmitted.status).toBe(201);
    await waitForStatus(service, user, resubmitted.body.data.uid, ["success"]);
    expect((await service.http.delete(`/api/v1/tasks/${resubmitted.body.data.uid}`).set(as(user))).status).toBe(200);
    expect((await get(`/tasks/${resubmitted.body.data.uid}`)).status).toBe(404);
  });

  test("When a REST call is wrong, then it gets the original's error for the same mistake, 405 for a method, 401 without credentials", async () => {
    expect((await get(`/tasks/not-a-uid`)).body).toMatchObject({ code: "invalid_request", errors: [{ field: "uid" }] });
    expect((await get(`/tasks?status=done`)).body.errors[0].field).toMatch(/^status/);
    expect((await get(`/tasks?colour=blue`)).body.errors).toEqual([{ field: "colour", message: "is not a field of this body" }]);
    const put = await service.http.put(`/api/v1/tasks/${project.project}`).set(as(user));
    expect({ status: put.status, allow: put.headers.allow }).toEqual({ status: 405, allow: "GET, PATCH, DELETE" });
    expect((await service.http.get(`/api/v1/tasks`)).status).toBe(401);
    const foreign = await get(`/organizations/${user.organizationUid}/projects`, stranger);
    expect(foreign.status).toBe(404);
  });
});
