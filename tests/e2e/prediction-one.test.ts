/** API keys and the Prediction One surface (seeds 002, 004) against a running service on the local engine. */
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { runCli } from "../../src/cli.js";
import {
  registerPipeline,
  registerProject,
  registerTrainingDataset,
  startListeningService,
  trainingBody,
  waitForStatus,
  type PipelineFixture,
} from "../support/task-fixture.js";
import { API, type TestService, type TestUser } from "../support/test-service.js";

const P1_ERROR = { code: 4001000204, error: "PREDA_EXTERNAL_BAD_REQUEST" };

describe("API keys and the Prediction One API", () => {
  let running: Awaited<ReturnType<typeof startListeningService>>;
  let service: TestService;
  let user: TestUser;
  let pipeline: PipelineFixture;
  let retrainPipeline: PipelineFixture;
  let dataset: string;
  const mint = async (body: Record<string, unknown>, who = user) => {
    const response = await service.post("Ak3yMn7QpL2xWz9c", who, body);
    expect(response.status).toBe(200);
    return response.body.data as { uid: string; key: string; prefix: string };
  };
  const withKey = (key: string) => ({ "x-api-key": key });
  const results = (key: string | undefined, id: string) => {
    const request = service.http.get(`/v1/external/models/results`).query({ external_process_id: id });
    return key === undefined ? request : request.set(withKey(key));
  };
  const retrainJob = (key: string, id: string) => service.http.get(`/v1/external/retrain_jobs/${id}`).set(withKey(key));
  const train = async () => {
    const submitted = await service.post("q8uzMBcM5YJH6dPf", user, trainingBody(user, pipeline, dataset));
    return waitForStatus(service, user, submitted.body.data.uid, ["success"]);
  };

  beforeAll(async () => {
    running = await startListeningService();
    service = running.service;
    user = await service.user({ organization: "p1-lab" });
    const project = await registerProject(service, user);
    dataset = await registerTrainingDataset(service, user, project.project);
    pipeline = await registerPipeline(service, user, project.application, {
      type: "training",
      program: 'echo "epoch 1"\necho weights > "$OUTPUTS_DIR/$OUTPUT_FILE_NAME"\n',
      extension: "sh",
      config: {},
    });
    retrainPipeline = await registerPipeline(service, user, project.application, {
      type: "retrain",
      program: 'echo "epoch 2"\necho better-weights > "$OUTPUTS_DIR/$OUTPUT_FILE_NAME"\n',
      extension: "sh",
      config: {},
    });
  });
  afterAll(() => running.close());

  test("When a key is minted, then it is shown once, stored as a hash, listed without it, and works within its purpose only", async () => {
    const read = await mint({ name: "dashboard", purpose: "read" });
    expect(read.key).toMatch(/^aek_[0-9a-f]{48}$/);
    const stored = await service.container.db.apiKeys.find(read.uid);
    expect(stored!.keyHash).not.toContain(read.key);
    const listed = await service.post("Ak8sLt4VbN1qRe6d", user, {});
    expect(JSON.stringify(listed.body)).not.toContain(read.key);
    expect(listed.body.data[0]).toMatchObject({ uid: read.uid, purpose: "read", prefix: read.key.slice(0, 12) });

    expect((await service.http.get("/api/v1/tasks").set(withKey(read.key))).status).toBe(200);
    expect((await service.http.post(`${API}/Tb7oRgW2kQ9xLm4s`).set(withKey(read.key)).send({})).status).toBe(200);
    const { access_key: _a, secret_key: _s, ...body } = trainingBody(user, pipeline, dataset);
    const refused = await service.http.post("/api/v1/tasks/training").set(withKey(read.key)).send(body);
    expect({ status: refused.status, detail: refused.body.detail }).toEqual({
      status: 403,
      detail: "an API key for read cannot call tasks.run-training (it needs submit)",
    });
    expect((await service.http.post(`${API}/9Q1lCs56iud4oPcS`).set(withKey(read.key)).send({ name: "x", description: "" })).status).toBe(
      403,
    );
    const submit = await mint({ name: "ci", purpose: "submit" });
    expect((await service.http.post("/api/v1/tasks/training").set(withKey(submit.key)).send(body)).status).toBe(201);
    expect(service.logs.join("\n")).not.toContain(read.key);
  });

  test("When a key is revoked, expired or unknown, then it is refused (401 here, the seed's messages on the Prediction One API)", async () => {
    const key = await mint({ name: "short-lived", purpose: "read" });
    const task = await train();
    expect((await results(key.key, task.uid)).status).toBe(200);
    await service.container.db.apiKeys.update(key.uid, { expiresAt: new Date(Date.now() - 1000) });
    expect((await service.http.get("/api/v1/tasks").set(withKey(key.key))).status).toBe(401);
    expect((await results(key.key, task.uid)).body).toEqual({ ...P1_ERROR, message: "Inactive_credential." });
    const revoked = await mint({ name: "revoked", purpose: "read" });
    expect((await service.post("Ak5rVk2HcX9mTy3u", user, { api_key_uid: revoked.uid })).body.data.revoked_time).toEqual(expect.any(String));
    expect((await results(revoked.key, task.uid)).body).toEqual({ ...P1_ERROR, message: "Inactive_credential." });
    expect((await results(undefined, task.uid)).body).toEqual({ ...P1_ERROR, message: "invalid_api_key." });
    const unknown = await results(`aek_${"0".repeat(48)}`, task.uid);
    expect({ status: unknown.status, body: unknown.body }).toEqual({
      status: 400,
      body: { ...P1_ERROR, message: "Not_found_credential." },
    });
  });

  test("When a training task runs, then Train Status Check says finished with a result_url that opens the model without a credential", async () => {
    const key = await mint({ name: "p1", purpose: "read" });
    const task = await train();
    const status = await results(key.key, task.uid);
    expect(status.status).toBe(200);
    expect(status.body).toEqual({
      status: "finished",
      created_datetime: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      updated_datetime: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      result_url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/api\/v1\/links\/[\w-]+\.[\w-]+$/),
    });
    const link = new URL(status.body.result_url).pathname;
    const file = await service.http.get(link).buffer(true);
    expect({ status: file.status, body: file.body.toString() }).toEqual({ status: 200, body: "weights\n" });
    expect((await service.http.get(`${link.slice(0, -2)}xx`)).status).toBe(403);

    const stranger = await service.user({ organization: "elsewhere" });
    const theirs = await mint({ name: "theirs", purpose: "read" }, stranger);
    expect((await results(theirs.key, task.uid)).body).toEqual({ ...P1_ERROR, message: "Not found external process." });
  });

  test("When a retrain job runs, then Retrain Status Check follows it, a key tied to another model cannot see it, and a deleted job is said so", async () => {
    const base = await train();
    const retrain = await service.post("Oi6u8dkur8GTKPxS", user, {
      ...trainingBody(user, retrainPipeline, dataset),
      model_uid: base.f_output_model_uid,
    });
    expect({ status: retrain.status, detail: retrain.body.detail }).toEqual({ status: 200, detail: "Excute task successfully" });
    const jobId = retrain.body.data.uid as string;
    const key = await mint({ name: "retrain", purpose: "retrain", model_uid: base.f_output_model_uid });
    await waitForStatus(service, user, jobId, ["success"]);
    const job = await retrainJob(key.key, jobId);
    expect(job.body).toEqual({
      status: "job_finished",
      model_id: expect.any(Number),
      download_url: expect.stringMatching(/\/api\/v1\/links\//),
      metadata: { retrain_job_id: jobId, model_uid: retrain.body.data.model_uid },
    });
    expect((await service.http.get(new URL(job.body.download_url).pathname)).status).toBe(200);
    // A model's key reaches nothing else.
    expect((await service.http.get("/api/v1/tasks").set(withKey(key.key))).status).toBe(403);
    const other = await train();
    const otherKey = await mint({ name: "other", purpose: "retrain", model_uid: other.f_output_model_uid });
    expect((await retrainJob(otherKey.key, jobId)).body).toEqual({ ...P1_ERROR, message: "Not found retrain job." });
    expect((await retrainJob(key.key, "0b6d7d62-3c3c-4c1e-9a1c-7b7b2c1f0e11")).body).toEqual({
      ...P1_ERROR,
      message: "Not found retrain job.",
    });
    // Retrain Model Switch: the retrained model becomes the application's selected model.
    const readKey = await mint({ name: "reader", purpose: "read" });
    const notAllowed = await service.http.put(`/v1/external/retrain_jobs/${jobId}/update_model`).set(withKey(readKey.key));
    expect(notAllowed.body).toEqual({ ...P1_ERROR, message: "This API key cannot switch models." });
    const switched = await service.http.put(`/v1/external/retrain_jobs/${jobId}/update_model`).set(withKey(key.key));
    expect(switched.body).toEqual({
      status: "model_switched",
      model_id: expect.any(Number),
      metadata: { retrain_job_id: jobId, model_uid: retrain.body.data.model_uid },
    });
    const application = (await service.post("KlnZtRyqy3rPAZWL", user, { uid: jobId })).body.data;
    const lineage = await service.post("Ma7lNg5MoU2wQa1g", user, { model_uid: application.f_output_model_uid });
    expect(lineage.body.data.aliases).toContain("selected");
    expect((await service.post("AoTqlTmu8l47CbMU", user, { uid: jobId })).status).toBe(200);
    expect((await retrainJob(key.key, jobId)).body).toEqual({ ...P1_ERROR, message: "This job may be deleted." });
  });

  test("When the key's user is revoked, then Prediction One says the user may be deleted", async () => {
    const leaving = await service.user({ organization: "p1-lab" });
    const key = await mint({ name: "leaving", purpose: "read" }, leaving);
    expect(await runCli(["user", "revoke", leaving.accessKey], { DATABASE_URL: service.config.database.url }, () => undefined)).toBe(0);
    expect((await results(key.key, "0b6d7d62-3c3c-4c1e-9a1c-7b7b2c1f0e11")).body).toEqual({
      ...P1_ERROR,
      message: "This user may be deleted.",
    });
  });
});
