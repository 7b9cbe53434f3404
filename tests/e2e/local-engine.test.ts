import { execFileSync } from "node:child_process";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "@jest/globals";
import { upload } from "../support/registry-fixture.js";
import { eventually } from "../support/fake-kube/fake-cluster.js";
import {
  endActiveTasks,
  example,
  preprocessingBody,
  registerPipeline,
  registerProject,
  startListeningService,
  trainingBody,
  waitForStatus,
  type PipelineFixture,
} from "../support/task-fixture.js";
import { API, TIMESTAMP, type TestService, type TestUser } from "../support/test-service.js";

describe("Tasks on the embedded local engine, end to end over HTTP", () => {
  let service: TestService;
  let running: { service: TestService; close(): Promise<void> };
  let user: TestUser;
  let project: { project: string; application: string; originalDataset: string };
  let preprocessing: PipelineFixture;
  let training: PipelineFixture;

  beforeAll(async () => {
    running = await startListeningService({ LOCAL_CONCURRENCY: "1", LOCAL_STOP_GRACE_SECONDS: "1" });
    service = running.service;
    user = await service.user();
    project = await registerProject(service, user);
    preprocessing = await registerPipeline(service, user, project.application, {
      type: "preprocessing",
      program: example("preprocess.py"),
      extension: "py",
      config: { target: "y" },
    });
    training = await registerPipeline(service, user, project.application, {
      type: "training",
      program: example("train.py"),
      extension: "py",
      config: { target: "y", learning_rate: 0.5, epochs: 200 },
    });
  });
  afterAll(() => running.close());
  afterEach(() => endActiveTasks(service, user));

  let trainingDataset: string;

  test("When the seed's preprocessing body is sent, then the seed's answer comes back and the task reaches success", async () => {
    const response = await service.http
      .post(`${API}/jPqyAFWh7hBKRRNK`)
      .send(preprocessingBody(user, preprocessing, project.originalDataset));
    expect(response.status).toBe(200);
    expect(response.body.detail).toBe("Excute task successfully");
    expect(response.body.data).toMatchObject({
      training_dataset_uid: expect.any(String),
      uid: expect.any(String),
      created_time: expect.stringMatching(TIMESTAMP),
      name: "test_preprocessing_task",
      description: "test preprocessing task",
      execute_step: expect.stringMatching(/^(prepare_file|generate_file|execute_pipeline|run_task)$/),
      status: expect.stringMatching(/^(init|pending|running)$/),
      f_download_image_uid: preprocessing.images.download_uid,
      f_running_image_uid: preprocessing.images.running_uid,
      f_upload_image_uid: preprocessing.images.upload_uid,
      f_pipeline_uid: preprocessing.pipeline,
    });
    trainingDataset = response.body.data.training_dataset_uid;

    const done = await waitForStatus(service, user, response.body.data.uid, ["success", "fail"]);
    expect({ status: done.status, message: done.status_message }).toEqual({ status: "success", message: "" });
    expect(done.execute_step).toBe("run_task");
    expect(done.steps.map((s: { name: string; phase: string; exit_code: number }) => [s.name, s.phase, s.exit_code])).toEqual([
      ["download_original_dataset", "Succeeded", 0],
      ["preprocessing", "Succeeded", 0],
      ["upload_training_dataset", "Succeeded", 0],
    ]);
    expect(done.history.map((h: { status: string }) => h.status)).toEqual(
      expect.arrayContaining(["init", "pending", "running", "success"]),
    );
    expect(done.f_output_dataset_uid).toBe(trainingDataset);

    const datasets = await service.post("MyC2aIHtzkZJrEGi", user, { f_project_uid: project.project });
    const output = datasets.body.data.find((d: { uid: string }) => d.uid === trainingDataset);
    expect(output).toMatchObject({
      name: "demo_training_dataset",
      type: "training",
      status: "available",
      f_file_uid: { extension: "zip" },
    });
  });

  test("When the seed's training body uses that output, then a model is produced, with its accuracy, and downloads", async () => {
    const response = await service.post("q8uzMBcM5YJH6dPf", user, trainingBody(user, training, trainingDataset));
    expect(response.status).toBe(200);
    const modelUid = response.body.data.model_uid;
    const done = await waitForStatus(service, user, response.body.data.uid, ["success", "fail"]);
    expect(done.status).toBe("success");
    expect(done.metrics.accuracy).toBeGreaterThan(0.9);

    const models = await service.post("EU2X3oWVHQiEoYBi", user, { f_application_uid: project.application });
    const model = models.body.data.find((m: { uid: string }) => m.uid === modelUid);
    expect(model).toMatchObject({ status: "unpublish", accuracy: done.metrics.accuracy, name: "demo_training_dataset" });
    const download = await service.post("4AJSfvc4mn8xzy2U", user, { uid: modelUid, access_token: model.access_token }).buffer(true);
    expect(download.status).toBe(200);
    expect(download.body.subarray(0, 2).toString()).toBe("PK");
  });

  test("When the running step fails, then the task fails with the step's message and exit code", async () => {
    const failing = await registerPipeline(service, user, project.application, {
      type: "training",
      program: example("train.py"),
      extension: "py",
      config: { fail: true },
    });
    const response = await service.post("q8uzMBcM5YJH6dPf", user, trainingBody(user, failing, trainingDataset));
    const done = await waitForStatus(service, user, response.body.data.uid, ["success", "fail"]);
    expect(done.status).toBe("fail");
    expect(done.status_message).toBe("training: main: Error (exit code 3): config asked this run to fail");
    expect(done.steps[1]).toMatchObject({ name: "training", phase: "Failed", exit_code: 3 });
    expect(done.steps[2]).toMatchObject({ name: "upload_model", phase: "Pending" });
    const models = await service.post("EU2X3oWVHQiEoYBi", user, { f_application_uid: project.application });
    expect(models.body.data.find((m: { uid: string }) => m.uid === response.body.data.model_uid).status).toBe("unavailable");
  });

  test("When a failed task is retried, then only the failed steps run again and the succeeded download is kept", async () => {
    const flaky = await registerPipeline(service, user, project.application, {
      type: "training",
      program: example("train.py"),
      extension: "py",
      config: { fail: true },
    });
    const submitted = await service.post("q8uzMBcM5YJH6dPf", user, trainingBody(user, flaky, trainingDataset));
    const failed = await waitForStatus(service, user, submitted.body.data.uid, ["fail"]);
    const firstDownload = failed.steps[0].finished_time;
    // The config is read by the download step, so fix it and retry: download already succeeded and is kept.
    await service.post("IIfzauWfQZ3RsHUZ", user, { uid: flaky.config, data: { target: "y", epochs: 50 } });
    const retried = await service.post("Rt5yHb8NqZ3wPd6s", user, { uid: submitted.body.data.uid });
    expect(retried.status).toBe(200);
    const done = await waitForStatus(service, user, submitted.body.data.uid, ["success", "fail"]);
    // Download kept its first result, so the old config (fail: true) was used again: a faithful retry.
    expect(done.steps[0].finished_time).toBe(firstDownload);
    expect(done.status).toBe("fail");
    const again = await service.post("Rt5yHb8NqZ3wPd6s", user, { uid: done.uid });
    expect(again.status).toBe(200);
  });

  test("When a task is resubmitted, then a new task with the same inputs runs and records where it came from", async () => {
    const first = await service.post("q8uzMBcM5YJH6dPf", user, trainingBody(user, training, trainingDataset));
    await waitForStatus(service, user, first.body.data.uid, ["success"]);
    const resubmitted = await service.post("Ms2kVf9LcX4nTj7e", user, { uid: first.body.data.uid });
    expect(resubmitted.status).toBe(200);
    expect(resubmitted.body.data).toMatchObject({
      resubmitted_from: first.body.data.uid,
      f_dataset_uid: trainingDataset,
      f_config_uid: training.config,
    });
    expect(resubmitted.body.data.model_uid).not.toBe(first.body.data.model_uid);
    expect((await waitForStatus(service, user, resubmitted.body.data.uid, ["success", "fail"])).status).toBe("success");
  });

  test("When a long step is stopped, then its whole process group ends and the task fails as stopped", async () => {
    const slow = await registerPipeline(service, user, project.application, {
      type: "training",
      program: example("slow.sh"),
      extension: "sh",
      config: {},
    });
    const submitted = await service.post("q8uzMBcM5YJH6dPf", user, trainingBody(user, slow, trainingDataset));
    const uid = submitted.body.data.uid;
    await waitForStatus(service, user, uid, ["running"]);
    for (let i = 0; i < 100; i += 1) {
      const info = await service.post("KlnZtRyqy3rPAZWL", user, { uid });
      if (info.body.data.steps[1].phase === "Running") break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const stopped = await service.post("CNNfUmDpcWXp7vdM", user, { task_uid: uid, type: "training" });
    expect(stopped.status).toBe(200);
    const done = await waitForStatus(service, user, uid, ["fail"], 10_000);
    expect(done.status_message).toBe("Stopped with strategy 'Stop'");
    expect(done.steps[1]).toMatchObject({ phase: "Failed", message: "workflow shutdown with strategy: Stop" });
    const survivors = execFileSync("ps", ["-eo", "args"])
      .toString()
      .split("\n")
      .filter((line) => line.includes(uid));
    expect(survivors).toEqual([]);
    expect((await service.post("CNNfUmDpcWXp7vdM", user, { task_uid: uid })).status).toBe(409);
  });

  test("When more tasks are submitted than the concurrency limit, then they wait as pending and run in order", async () => {
    const slow = await registerPipeline(service, user, project.application, {
      type: "training",
      program: example("slow.sh"),
      extension: "sh",
      config: {},
    });
    const first = await service.post("q8uzMBcM5YJH6dPf", user, trainingBody(user, slow, trainingDataset));
    // Dispatch runs after the answer, several at once: two tasks sent back to back may reach the engine in either order.
    await waitForStatus(service, user, first.body.data.uid, ["running"]);
    const second = await service.post("q8uzMBcM5YJH6dPf", user, trainingBody(user, training, trainingDataset));
    await eventually(
      async () => (await service.post("KlnZtRyqy3rPAZWL", user, { uid: second.body.data.uid })).body.data.status === "pending",
    );
    const waiting = await service.post("KlnZtRyqy3rPAZWL", user, { uid: second.body.data.uid });
    expect({ status: waiting.body.data.status, step: waiting.body.data.execute_step }).toEqual({
      status: "pending",
      step: "execute_pipeline",
    });
    expect(waiting.body.data.steps.every((s: { phase: string }) => s.phase === "Pending")).toBe(true);
    await service.post("Xq7TnR2vKp9LmW4c", user, { uid: first.body.data.uid });
    expect((await waitForStatus(service, user, first.body.data.uid, ["fail"])).status_message).toBe("Stopped with strategy 'Terminate'");
    expect((await waitForStatus(service, user, second.body.data.uid, ["success", "fail"])).status).toBe("success");
  });

  test("When the same Idempotency-Key and body are sent twice, then one task is created", async () => {
    const body = trainingBody(user, training, trainingDataset);
    const first = await service.http.post(`${API}/q8uzMBcM5YJH6dPf`).set("Idempotency-Key", "ci-run-42").send(body);
    const second = await service.http.post(`${API}/q8uzMBcM5YJH6dPf`).set("Idempotency-Key", "ci-run-42").send(body);
    expect(second.body.data.uid).toBe(first.body.data.uid);
    expect(second.body.data.model_uid).toBe(first.body.data.model_uid);
    const conflicting = await service.http
      .post(`${API}/q8uzMBcM5YJH6dPf`)
      .set("Idempotency-Key", "ci-run-42")
      .send({ ...body, task_name: "other" });
    expect(conflicting.status).toBe(409);
    expect(conflicting.body.errors).toEqual([{ field: "Idempotency-Key", message: "reused with a different body" }]);
    await waitForStatus(service, user, first.body.data.uid, ["success", "fail"]);
  });

  test("When a resubmission is sent twice with one Idempotency-Key, then one new task is created, and the key cannot resubmit another task", async () => {
    const body = trainingBody(user, training, trainingDataset);
    const [first, second] = [await service.post("q8uzMBcM5YJH6dPf", user, body), await service.post("q8uzMBcM5YJH6dPf", user, body)];
    await waitForStatus(service, user, first.body.data.uid, ["success", "fail"]);
    await waitForStatus(service, user, second.body.data.uid, ["success", "fail"]);
    const resubmit = (uid: string) =>
      service.http
        .post(`${API}/Ms2kVf9LcX4nTj7e`)
        .set("Idempotency-Key", "ci-resubmit-9")
        .send({ access_key: user.accessKey, secret_key: user.secretKey, uid });
    const tasksBefore = await service.container.db.tasks.count({});
    const [a, b] = await Promise.all([resubmit(first.body.data.uid), resubmit(first.body.data.uid)]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(b.body.data.uid).toBe(a.body.data.uid);
    expect(a.body.data.resubmitted_from).toBe(first.body.data.uid);
    expect(await service.container.db.tasks.count({})).toBe(tasksBefore + 1);
    const other = await resubmit(second.body.data.uid);
    expect(other.status).toBe(409);
    expect(other.body.errors).toEqual([{ field: "Idempotency-Key", message: "reused with a different body" }]);
    await waitForStatus(service, user, a.body.data.uid, ["success", "fail"]);
  });

  test("When an Idempotency-Key is sent again after its task was deleted, then a clear 409 names the key and no task is created", async () => {
    const body = trainingBody(user, training, trainingDataset);
    const send = () => service.http.post(`${API}/q8uzMBcM5YJH6dPf`).set("Idempotency-Key", "ci-run-deleted").send(body);
    const first = await send();
    await waitForStatus(service, user, first.body.data.uid, ["success", "fail"]);
    expect((await service.post("AoTqlTmu8l47CbMU", user, { uid: first.body.data.uid })).status).toBe(200);
    const tasksBefore = await service.container.db.tasks.count({});
    const again = await send();
    expect(again.status).toBe(409);
    expect(again.body.detail).toContain(first.body.data.uid);
    expect(again.body.errors).toEqual([{ field: "Idempotency-Key", message: "its task was deleted; use a new key" }]);
    expect(await service.container.db.tasks.count({})).toBe(tasksBefore);
  });

  test("When tasks are listed, renamed and deleted, then the run's output that never appeared goes too", async () => {
    const failing = await registerPipeline(service, user, project.application, {
      type: "training",
      program: example("train.py"),
      extension: "py",
      config: { fail: true },
    });
    const submitted = await service.post("q8uzMBcM5YJH6dPf", user, trainingBody(user, failing, trainingDataset));
    await waitForStatus(service, user, submitted.body.data.uid, ["fail"]);
    const listed = await service.post("s8i1TNiTXwwv02mv", user, { f_pipeline_uid: failing.pipeline });
    expect(listed.body.data.map((t: { uid: string }) => t.uid)).toEqual([submitted.body.data.uid]);
    const renamed = await service.post("05wVeQQBhvFRTq54", user, { uid: submitted.body.data.uid, name: "renamed" });
    expect(renamed.body.data.name).toBe("renamed");
    expect((await service.post("AoTqlTmu8l47CbMU", user, { uid: submitted.body.data.uid })).status).toBe(200);
    expect((await service.post("KlnZtRyqy3rPAZWL", user, { uid: submitted.body.data.uid })).status).toBe(404);
    expect(await service.container.db.models.find(submitted.body.data.model_uid)).toBeNull();
  });

  test("When a step credential is used for another task or after the task ended, then it is refused", async () => {
    const response = await service.http
      .get(`/api/steps/v1/tasks/${project.originalDataset}/inputs/dataset`)
      .set("Authorization", "Bearer nothing");
    expect(response.status).toBe(401);
    const unauthenticated = await service.http.get(`/api/steps/v1/tasks/${project.originalDataset}/inputs/dataset`);
    expect(unauthenticated.status).toBe(401);
  });

  test("When the references do not fit the route, then 422 or 404 names the field and no task is created", async () => {
    const before = await service.container.db.tasks.count({});
    const wrongPipeline = await service.post(
      "q8uzMBcM5YJH6dPf",
      user,
      trainingBody(user, { ...training, pipeline: preprocessing.pipeline }, trainingDataset),
    );
    expect(wrongPipeline.status).toBe(422);
    expect(wrongPipeline.body.errors[0].field).toBe("pipeline_uid");
    const swapped = await service.post(
      "q8uzMBcM5YJH6dPf",
      user,
      trainingBody(user, { ...training, images: { ...training.images, download_uid: training.images.upload_uid } }, trainingDataset),
    );
    expect(swapped.status).toBe(422);
    expect(swapped.body.errors).toEqual([{ field: "image_uid.download_uid", message: "must have sequence download" }]);
    const originalAsTraining = await service.post("q8uzMBcM5YJH6dPf", user, trainingBody(user, training, project.originalDataset));
    expect(originalAsTraining.status).toBe(422);
    expect(originalAsTraining.body.errors[0]).toEqual({ field: "dataset_uid", message: "must be a training dataset" });
    const otherConfig = await service.post(
      "q8uzMBcM5YJH6dPf",
      user,
      trainingBody(user, { ...training, config: preprocessing.config }, trainingDataset),
    );
    expect(otherConfig.status).toBe(422);
    const outsider = await service.user({ organization: "elsewhere" });
    const foreign = await service.post("q8uzMBcM5YJH6dPf", outsider, trainingBody(outsider, training, trainingDataset));
    expect(foreign.status).toBe(404);
    const missing = await service.post("q8uzMBcM5YJH6dPf", user, {
      ...trainingBody(user, training, trainingDataset),
      image_uid: { download_uid: training.images.download_uid },
    });
    expect(missing.status).toBe(400);
    expect(missing.body.errors.map((e: { field: string }) => e.field)).toEqual(["image_uid.running_uid", "image_uid.upload_uid"]);
    expect(await service.container.db.tasks.count({})).toBe(before);
  });

  test("When the evaluation route runs a model on a dataset, then the task succeeds with the metrics its steps reported", async () => {
    const evaluation = await registerPipeline(service, user, project.application, {
      type: "evaluation",
      extension: "sh",
      config: {},
      program:
        'test -f "$INPUTS_DIR/pretrain_model.zip" && test -f "$INPUTS_DIR/dataset.zip" && echo \'{"accuracy": 0.87, "rmse": 1.2}\' > "$METRICS_FILE"\n',
    });
    const model = await upload(
      service,
      "OBF4f9guOmzitGvC",
      user,
      {
        name: "to-evaluate",
        type: "default",
        model_input_format: "f",
        model_output_format: "f",
        f_application_uid: project.application,
        extension: "zip",
      },
      { content: example("base-model.zip"), name: "m.zip" },
    );
    const {
      model_name: _n,
      model_type: _t,
      model_input_format: _i,
      model_output_format: _o,
      model_file_extension: _e,
      ...body
    } = trainingBody(user, evaluation, trainingDataset);
    const response = await service.post("u8Wo0fVM6pFEthFH", user, { ...body, task_name: "eval", model_uid: model.body.data.uid });
    expect(response.status).toBe(200);
    expect(response.body.data.model_uid).toBeUndefined();
    const done = await waitForStatus(service, user, response.body.data.uid, ["success", "fail"]);
    expect({ status: done.status, message: done.status_message }).toEqual({ status: "success", message: "" });
    expect(done.steps.map((s: { name: string }) => s.name)).toEqual(["download_evaluation_files", "evaluation", "upload_metrics"]);
    expect(done.metrics).toEqual({ accuracy: 0.87, rmse: 1.2 });
    // The built-in upload's metrics.json also lands in the metric history.
    expect(done.metric_summary).toMatchObject({ accuracy: { count: 1, latest: { value: 0.87, step: 0 } }, rmse: { count: 1 } });
    expect(done.f_base_model_uid).toBe(model.body.data.uid);
  });

  test("When an optimization task starts from a model, then its output is the next version of that model", async () => {
    const retrain = await registerPipeline(service, user, project.application, {
      type: "retrain",
      program: example("train.py"),
      extension: "py",
      config: { target: "y", epochs: 50 },
    });
    const base = await upload(
      service,
      "OBF4f9guOmzitGvC",
      user,
      {
        name: "base",
        type: "default",
        model_input_format: "float32",
        model_output_format: "float32",
        f_application_uid: project.application,
        extension: "zip",
      },
      { content: example("base-model.zip"), name: "m.zip" },
    );
    const response = await service.post("Oi6u8dkur8GTKPxS", user, {
      ...trainingBody(user, retrain, trainingDataset),
      model_uid: base.body.data.uid,
      task_name: "test_retrain_task",
    });
    expect(response.status).toBe(200);
    const done = await waitForStatus(service, user, response.body.data.uid, ["success", "fail"]);
    expect(done.status).toBe("success");
    expect(done.steps.map((s: { name: string }) => s.name)).toEqual(["download_training_dataset", "retrain", "upload_model"]);
    const model = await service.container.db.models.find(response.body.data.model_uid);
    expect(model).toMatchObject({ source: base.body.data.uid, version: 2, status: "unpublish" });
  });
});
