/** Prediction One's retrain job created with an upload URL, started when its data lands, against a running service on the local engine. */
import { request } from "node:http";
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

const P1_ERROR = { code: 4001000204, error: "PREDA_EXTERNAL_BAD_REQUEST" };
/** A retrain that proves it read the uploaded data: the new model is the data's line count. */
const RETRAIN_PROGRAM =
  'data="$(ls "$INPUTS_DIR"/dataset.*)"\nwc -l < "$data" > "$OUTPUTS_DIR/$OUTPUT_FILE_NAME"\necho "retrained on $(wc -l < "$data") lines"\n';

describe("Prediction One retrain jobs with an upload URL", () => {
  let running: Awaited<ReturnType<typeof startListeningService>>;
  let service: TestService;
  let user: TestUser;
  let baseModel: string;
  let trainedUid: string;
  let key: string;
  const withKey = (value: string) => ({ "x-api-key": value });
  const mint = async (body: Record<string, unknown>, who = user) =>
    (await service.post("Ak3yMn7QpL2xWz9c", who, body)).body.data.key as string;
  const createJob = (apiKey: string, query: Record<string, string> = {}) =>
    service.http.post("/v1/external/retrain_jobs").query(query).set(withKey(apiKey));
  const status = async (id: string, apiKey = key) => (await service.http.get(`/v1/external/retrain_jobs/${id}`).set(withKey(apiKey))).body;
  const upload = (url: string, data: string) =>
    service.http
      .put(new URL(url).pathname + new URL(url).search)
      .query({ extension: "csv" })
      .set("Content-Type", "text/csv")
      .send(data);
  const datasetCount = () => service.container.db.datasets.count({ organizationUid: user.organizationUid });

  beforeAll(async () => {
    running = await startListeningService();
    service = running.service;
    user = await service.user({ organization: "p1-retrain" });
    const project = await registerProject(service, user);
    const dataset = await registerTrainingDataset(service, user, project.project);
    const training: PipelineFixture = await registerPipeline(service, user, project.application, {
      type: "training",
      program: 'echo weights > "$OUTPUTS_DIR/$OUTPUT_FILE_NAME"\n',
      extension: "sh",
      config: {},
    });
    const retrain = await registerPipeline(service, user, project.application, {
      type: "retrain",
      program: RETRAIN_PROGRAM,
      extension: "sh",
      config: {},
    });
    const trained = await service.post("q8uzMBcM5YJH6dPf", user, trainingBody(user, training, dataset));
    trainedUid = trained.body.data.uid;
    baseModel = (await waitForStatus(service, user, trainedUid, ["success"])).f_output_model_uid;
    // The application's first retrain, run directly: the one a retrain job repeats.
    const first = await service.post("Oi6u8dkur8GTKPxS", user, { ...trainingBody(user, retrain, dataset), model_uid: baseModel });
    await waitForStatus(service, user, first.body.data.uid, ["success"]);
    key = await mint({ name: "retrain", purpose: "retrain", model_uid: baseModel });
  });
  afterAll(() => running.close());

  test("When data is uploaded to a retrain job's URL, then the retrain starts on it and the status check follows it to the new model", async () => {
    const created = await createJob(key);
    expect(created.body).toEqual({
      retrain_job_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      upload_url: expect.stringMatching(/\/v1\/external\/retrain_uploads\//),
      expires_datetime: expect.any(String),
      metadata: { retrain_job_id: created.body.retrain_job_id, model_uid: baseModel },
    });
    const jobId = created.body.retrain_job_id as string;
    expect(await status(jobId)).toEqual({
      status: "job_waiting",
      message: "Waiting for its data at the upload URL.",
      metadata: { retrain_job_id: jobId },
    });
    const before = await datasetCount();
    const landed = await upload(created.body.upload_url, "a,b\n1,2\n3,4\n");
    expect({ status: landed.status, job: landed.body.metadata }).toEqual({ status: 200, job: { retrain_job_id: jobId } });
    expect(await datasetCount()).toBe(before + 1);

    const done = await waitForStatus(service, user, jobId, ["success", "fail"], 60_000);
    expect({ status: done.status, type: done.type, base: done.f_base_model_uid }).toEqual({
      status: "success",
      type: "optimization",
      base: baseModel,
    });
    const logs = await service.post("bJ7xLmgp4WSWK498", user, { task_uid: jobId });
    expect(logs.body.data.retrain).toContain("retrained on 3 lines");
    const finished = await status(jobId);
    expect(finished).toMatchObject({ status: "job_finished", model_id: expect.any(Number), metadata: { retrain_job_id: jobId } });
    const model = await service.http.get(new URL(finished.download_url).pathname);
    expect(model.text ?? model.body.toString()).toContain("3");

    // The URL is spent: a second upload is refused and leaves nothing behind.
    const again = await upload(created.body.upload_url, "x\n");
    expect(again.status).toBe(409);
    expect(await datasetCount()).toBe(before + 1);
  });

  test("When a retrain job is created through our own REST route, then its upload path starts the retrain too", async () => {
    const created = await service.http
      .post(`/api/v1/models/${baseModel}/retrain-jobs`)
      .set({ "X-Access-Key": user.accessKey, "X-Secret-Key": user.secretKey });
    expect({ status: created.status, model: created.body.data.model_uid }).toEqual({ status: 201, model: baseModel });
    const landed = await service.http.put(created.body.data.upload_path).send("a\nb\n");
    expect(landed.status).toBe(200);
    const jobId = created.body.data.retrain_job_id as string;
    const done = await waitForStatus(service, user, jobId, ["success", "fail"], 60_000);
    expect({ status: done.status, base: done.f_base_model_uid }).toEqual({ status: "success", base: baseModel });
    const reader = await mint({ name: "reader-rest", purpose: "read" });
    const refused = await service.http.post(`/api/v1/models/${baseModel}/retrain-jobs`).set(withKey(reader));
    expect({ status: refused.status, detail: refused.body.detail }).toEqual({
      status: 403,
      detail: "an API key for read cannot call models.create-retrain-job (it needs retrain)",
    });
  });

  test("When the upload's client goes away mid-body, then nothing is kept and the URL still takes the data", async () => {
    const created = await createJob(key);
    const before = await datasetCount();
    const url = new URL(created.body.upload_url);
    await new Promise<void>((resolve) => {
      const partial = request(`${running.url}${url.pathname}?extension=csv`, {
        method: "PUT",
        headers: { "Content-Length": "1000000", "Content-Type": "text/csv" },
      });
      partial.on("error", () => resolve()); // the socket we destroy
      partial.write("a,b\n".repeat(1000), () => setTimeout(() => (partial.destroy(), resolve()), 100));
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await datasetCount()).toBe(before);
    expect(await status(created.body.retrain_job_id)).toMatchObject({ status: "job_waiting" });
    expect((await upload(created.body.upload_url, "a\nb\n")).status).toBe(200);
    await waitForStatus(service, user, created.body.retrain_job_id, ["success", "fail"], 60_000);
  });

  test("When two uploads race on one URL, then one starts the retrain, the other is refused, and one dataset is kept", async () => {
    const created = await createJob(key);
    const before = await datasetCount();
    const answers = await Promise.all([upload(created.body.upload_url, "a\n1\n"), upload(created.body.upload_url, "b\n2\n")]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
    expect(await datasetCount()).toBe(before + 1);
    await waitForStatus(service, user, created.body.retrain_job_id, ["success", "fail"], 60_000);
  });

  test("When an upload URL is forged, swapped with a download link or expired, then it is refused and nothing is created", async () => {
    const created = await createJob(key);
    const jobId = created.body.retrain_job_id as string;
    const before = await datasetCount();
    const token = new URL(created.body.upload_url).pathname.split("/").pop()!;
    const forged = await service.http.put(`/v1/external/retrain_uploads/${token.slice(0, -2)}xx`).send("a\n");
    expect(forged.status).toBe(403);
    // An upload URL opens nothing, and a download link receives nothing.
    expect((await service.http.get(`/api/v1/links/${token}`)).status).toBe(403);
    const reader = await mint({ name: "results", purpose: "read" });
    const result = await service.http.get("/v1/external/models/results").query({ external_process_id: trainedUid }).set(withKey(reader));
    const download = new URL(result.body.result_url).pathname.split("/").pop()!;
    expect((await service.http.put(`/v1/external/retrain_uploads/${download}`).send("a\n")).status).toBe(403);

    await service.container.db.retrainJobs.update(jobId, { expiresAt: new Date(Date.now() - 1000) });
    expect(await status(jobId)).toEqual({
      status: "job_failed",
      message: "Its upload URL expired before any data arrived.",
      metadata: { retrain_job_id: jobId },
    });
    expect((await upload(created.body.upload_url, "a\n")).status).toBe(403);
    expect(await datasetCount()).toBe(before);
  });

  test("When a key may not retrain, names no model or another organization's, then the job is refused in the seed's shape", async () => {
    const reader = await mint({ name: "reader", purpose: "read" });
    expect((await createJob(reader)).body).toEqual({ ...P1_ERROR, message: "This API key cannot retrain models." });
    const unscoped = await mint({ name: "unscoped", purpose: "retrain" });
    const missing = await createJob(unscoped);
    expect({ status: missing.status, fields: missing.body.errors?.map((e: { field: string }) => e.field) }).toEqual({
      status: 400,
      fields: ["model_uid"],
    });
    expect((await createJob(unscoped, { model_uid: baseModel })).status).toBe(200);
    const stranger = await service.user({ organization: "p1-elsewhere" });
    const strangerKey = await mint({ name: "theirs", purpose: "retrain" }, stranger);
    expect((await createJob(strangerKey, { model_uid: baseModel })).body).toEqual({ ...P1_ERROR, message: "Not found model." });
    const otherJob = (await createJob(key)).body.retrain_job_id as string;
    expect(await status(otherJob, strangerKey)).toEqual({ ...P1_ERROR, message: "Not found retrain job." });
  });
});
