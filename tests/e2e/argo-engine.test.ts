import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, jest, test } from "@jest/globals";
import { argoEnv, eventually, holdRunningStep, NAMESPACE, startFakeCluster, type FakeCluster } from "../support/fake-kube/fake-cluster.js";
import { disallowed, unused } from "../support/chart-rbac.js";
import {
  example,
  preprocessingBody,
  registerPipeline,
  registerProject,
  registerTrainingDataset,
  startListeningService,
  trainingBody,
  waitForStatus,
  type PipelineFixture,
} from "../support/task-fixture.js";
import { createTestDatabase } from "../support/test-database.js";
import { TASK_ATTEMPT_ANNOTATION, type Workflow } from "../../src/adapters/argo/argo-types.js";
import { progressOf } from "../../src/adapters/argo/workflow-status.js";
import { systemClock } from "../../src/domain/clock.js";
import { ProgressRecorder } from "../../src/domain/tasks/progress-recorder.js";
import { TaskLifecycle } from "../../src/domain/tasks/task-lifecycle.js";
import { API, TIMESTAMP, type TestService, type TestUser } from "../support/test-service.js";

describe("Tasks as Argo Workflows (fake Kubernetes API and controller, real client-node)", () => {
  let cluster: FakeCluster;
  let database: { url: string; drop(): Promise<void> };
  // Restarted instances share the database and the object store, as a real restart would.
  const filesDir = mkdtempSync(path.join(os.tmpdir(), "argo-entrypoint-argo-files-"));
  let running: { service: TestService; url: string; close(): Promise<void> };
  let service: TestService;
  let user: TestUser;
  let project: { project: string; application: string; originalDataset: string };
  let preprocessing: PipelineFixture;
  let training: PipelineFixture;
  let trainingDataset: string;

  const workflowCreates = () => cluster.server.count({ method: "POST", resource: "workflows" });
  /** Retries write the Workflow back (a PUT). */
  const restarts = () => cluster.server.count({ method: "PUT", resource: "workflows" });
  const start = async (extra: Record<string, string> = {}) => {
    return startListeningService(
      argoEnv(cluster, { DATABASE_URL: database.url, FILES_DIR: filesDir, ...extra }),
      (url) => (cluster.stepApi.url = url),
    );
  };

  /** A training task whose running step failed; steps succeed from then on (what a retry runs). */
  const failedTraining = async (): Promise<string> => {
    cluster.behavior.running = async () => 1;
    const uid: string = (await service.post("q8uzMBcM5YJH6dPf", user, trainingBody(user, training, trainingDataset))).body.data.uid;
    await waitForStatus(service, user, uid, ["fail"]);
    cluster.behavior.running = async () => 0;
    return uid;
  };

  beforeAll(async () => {
    cluster = await startFakeCluster();
    database = await createTestDatabase();
    running = await start();
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
      config: { target: "y", learning_rate: 0.5 },
    });
    trainingDataset = await registerTrainingDataset(service, user, project.project);
    await eventually(() => cluster.server.get("leases", NAMESPACE, "argo-entrypoint-leader") !== undefined);
  });
  afterAll(async () => {
    const requests = [...cluster.server.requests];
    const controllerErrors = [...cluster.controller.errors];
    await running.close();
    await cluster.close();
    // Least privilege: every request the service made is allowed by the chart's Role, and the
    // Role grants nothing the service never used.
    expect(disallowed(requests)).toEqual([]);
    expect(unused(requests)).toEqual([]);
    expect(controllerErrors).toEqual([]);
    await database.drop();
    rmSync(filesDir, { recursive: true, force: true });
  });
  beforeEach(() => {
    cluster.behavior.running = async (context) => (context.log(`${context.step} did its work`), 0);
  });

  test("When the seed's preprocessing body is sent, then one valid Workflow runs it to success with the original's step names", async () => {
    const creates = workflowCreates();
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
      // The original's run answer: the task as first written.
      status: "init",
      execute_step: "prepare_file",
      f_download_image_uid: preprocessing.images.download_uid,
      f_running_image_uid: preprocessing.images.running_uid,
      f_upload_image_uid: preprocessing.images.upload_uid,
      f_pipeline_uid: preprocessing.pipeline,
      engine: "argo",
    });
    const done = await waitForStatus(service, user, response.body.data.uid, ["success", "fail"]);
    expect({ status: done.status, step: done.execute_step, message: done.status_message, workflow: done.workflow_name }).toEqual({
      status: "success",
      step: "run_task",
      message: "",
      workflow: `ae-${response.body.data.uid}`,
    });
    expect(done.history.map((h: { status: string; execute_step: string }) => `${h.status}/${h.execute_step}`)).toEqual(
      expect.arrayContaining([
        "init/prepare_file",
        "init/generate_file",
        "pending/execute_pipeline",
        "running/run_task",
        "success/run_task",
      ]),
    );
    expect(
      done.steps.map((s: { name: string; phase: string; exit_code: number; node_id: string }) => [
        s.name,
        s.phase,
        s.exit_code,
        s.node_id.startsWith(`ae-${done.uid}-`),
      ]),
    ).toEqual([
      ["download_original_dataset", "Succeeded", 0, true],
      ["preprocessing", "Succeeded", 0, true],
      ["upload_training_dataset", "Succeeded", 0, true],
    ]);
    expect(workflowCreates() - creates).toBe(1);
    // The task ended when its Workflow did, as the controller recorded it (not when the report was applied).
    const workflow = cluster.server.get("workflows", NAMESPACE, `ae-${done.uid}`) as unknown as Workflow;
    expect((await service.container.db.tasks.find(done.uid))!.finishedAt).toEqual(new Date(workflow.status!.finishedAt!));
    // Every Kubernetes call is counted for the operator by verb and outcome.
    const kubeCalls = await service.container.metrics.registry.getSingleMetricAsString("argo_entrypoint_kubernetes_calls_total");
    expect(kubeCalls).toMatch(/argo_entrypoint_kubernetes_calls_total\{verb="create",outcome="ok"\} [1-9]/);
    // The credential's Secret is gone once the task ended; the Workflow stays for its logs.
    await eventually(() => cluster.server.get("secrets", NAMESPACE, `ae-${done.uid}-credential`) === undefined);
    expect(cluster.server.get("workflows", NAMESPACE, `ae-${done.uid}`)).toBeDefined();
    const datasets = await service.post("MyC2aIHtzkZJrEGi", user, { f_project_uid: project.project });
    expect(datasets.body.data.find((d: { uid: string }) => d.uid === response.body.data.training_dataset_uid)).toMatchObject({
      status: "available",
    });
  });

  test("When the Workflow is submitted, then it carries no user secret and the step credential only as a Secret's name", async () => {
    const response = await service.post("q8uzMBcM5YJH6dPf", user, trainingBody(user, training, trainingDataset));
    const uid = response.body.data.uid;
    await eventually(() => cluster.server.get("workflows", NAMESPACE, `ae-${uid}`) !== undefined);
    const workflow = cluster.server.get("workflows", NAMESPACE, `ae-${uid}`)!;
    const text = JSON.stringify(workflow);
    expect(text).not.toContain(user.secretKey);
    expect(text).not.toContain(user.accessKey);
    expect(
      (workflow.spec as { arguments: { parameters: Array<{ name: string; value: string }> } }).arguments.parameters.find(
        (p) => p.name === "credential_secret",
      )!.value,
    ).toBe(`ae-${uid}-credential`);
    await waitForStatus(service, user, uid, ["success"]);
  });

  test("When the running step exits non-zero, then the task fails with that step's message and exit code", async () => {
    cluster.behavior.running = async (context) => (context.log("Traceback: boom"), 2);
    const response = await service.post("q8uzMBcM5YJH6dPf", user, trainingBody(user, training, trainingDataset));
    const done = await waitForStatus(service, user, response.body.data.uid, ["success", "fail"]);
    expect(done.status).toBe("fail");
    expect(done.status_message).toBe("training: main: Error (exit code 2)");
    expect(done.steps.map((s: { phase: string }) => s.phase)).toEqual(["Succeeded", "Failed", "Pending"]);
  });

  test.each([
    ["CNNfUmDpcWXp7vdM", "Stop", "task_uid"],
    ["Xq7TnR2vKp9LmW4c", "Terminate", "uid"],
  ])(
    "When %s is called on a running task, then the Workflow gets spec.shutdown %s and the task fails as stopped",
    async (key, strategy, field) => {
      const held = holdRunningStep(cluster);
      const response = await service.post("q8uzMBcM5YJH6dPf", user, trainingBody(user, training, trainingDataset));
      const uid = response.body.data.uid;
      await waitForStatus(service, user, uid, ["running"]);
      await eventually(() => held.waiting);
      const patches = cluster.server.count({ method: "PATCH", resource: "workflows" });
      expect((await service.post(key, user, { [field]: uid })).status).toBe(200);
      expect(cluster.server.count({ method: "PATCH", resource: "workflows" }) - patches).toBe(1);
      expect((cluster.server.get("workflows", NAMESPACE, `ae-${uid}`)!.spec as { shutdown: string }).shutdown).toBe(strategy);
      const done = await waitForStatus(service, user, uid, ["fail"]);
      expect(done.status_message).toBe(`Stopped with strategy '${strategy}'`);
      expect(done.steps[1]).toMatchObject({ phase: "Failed", message: `workflow shutdown with strategy:  ${strategy}` });
      expect((await service.post(key, user, { [field]: uid })).status).toBe(409);
    },
  );

  test("When a failed task is retried, then the same Workflow re-runs only the failed step, with its old pod deleted first", async () => {
    const uid = await failedTraining();
    const downloads = cluster.runs.download_training_dataset!;
    const podDeletes = cluster.server.count({ method: "DELETE", resource: "pods" });
    const retried = await service.post("Rt5yHb8NqZ3wPd6s", user, { uid });
    // The credential, deleted when the task failed, is back and owned by the Workflow again.
    const secret = cluster.server.get("secrets", NAMESPACE, `ae-${uid}-credential`)!;
    const owner = cluster.server.get("workflows", NAMESPACE, `ae-${uid}`)!;
    expect(secret.metadata.ownerReferences).toEqual([
      expect.objectContaining({ kind: "Workflow", name: `ae-${uid}`, uid: owner.metadata.uid }),
    ]);
    expect(retried.status).toBe(200);
    const done = await waitForStatus(service, user, uid, ["success", "fail"]);
    expect(done.status).toBe("success");
    expect(cluster.runs.download_training_dataset).toBe(downloads);
    expect(cluster.server.count({ method: "DELETE", resource: "pods" }) - podDeletes).toBe(1);
    expect(
      cluster.server.count({
        method: "PUT",
        resource: "workflows",
        path: `/apis/argoproj.io/v1alpha1/namespaces/${NAMESPACE}/workflows/ae-${uid}`,
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(done.workflow_name).toBe(`ae-${uid}`);
    const logs = await service.post("bJ7xLmgp4WSWK498", user, { task_uid: uid });
    expect(logs.body.data.training).toBe("");
    expect(logs.body.data.download_training_dataset).toMatch(/^downloaded dataset/);
  });

  test("When the run's state from before a retry is reported after it, then the reopened task is not ended by it", async () => {
    const uid = await failedTraining();
    const failed = structuredClone(cluster.server.get("workflows", NAMESPACE, `ae-${uid}`) as unknown as Workflow);
    expect(failed.metadata.annotations?.[TASK_ATTEMPT_ANNOTATION]).toBe("0");
    const held = holdRunningStep(cluster);
    expect((await service.post("Rt5yHb8NqZ3wPd6s", user, { uid })).status).toBe(200);
    const retried = cluster.server.get("workflows", NAMESPACE, `ae-${uid}`) as unknown as Workflow;
    expect(retried.metadata.annotations?.[TASK_ATTEMPT_ANNOTATION]).toBe("1");
    await eventually(() => held.waiting);
    await waitForStatus(service, user, uid, ["running"]);

    // The failed state arrives late (queued behind the retry, or from a re-list), as the watcher would report it.
    const { db, logger } = service.container;
    const recorder = new ProgressRecorder({ db, lifecycle: new TaskLifecycle({ db, clock: systemClock, logger }) });
    await recorder.report(progressOf(failed)!);
    const during = await service.post("KlnZtRyqy3rPAZWL", user, { uid });
    expect(during.body.data.status).toBe("running");
    expect(cluster.server.get("secrets", NAMESPACE, `ae-${uid}-credential`)).toBeDefined();

    held.release();
    expect((await waitForStatus(service, user, uid, ["success", "fail"])).status).toBe("success");
  });

  test("When a run ends while Kubernetes is slow to delete its credential, then the task reads as ended only once it is gone (a retry's new one is safe)", async () => {
    cluster.behavior.running = async () => 1;
    const held = cluster.server.holdNext((r) => r.method === "DELETE" && r.path.endsWith("-credential"));
    const response = await service.post("q8uzMBcM5YJH6dPf", user, trainingBody(user, training, trainingDataset));
    const uid = response.body.data.uid;
    await held.reached;
    const during = await service.post("KlnZtRyqy3rPAZWL", user, { uid });
    expect(during.body.data.status).toBe("running");
    expect((await service.post("Rt5yHb8NqZ3wPd6s", user, { uid })).status).toBe(409); // not retryable yet
    held.release();
    await waitForStatus(service, user, uid, ["fail"]);
    expect(cluster.server.get("secrets", NAMESPACE, `ae-${uid}-credential`)).toBeUndefined();

    cluster.behavior.running = async () => 0;
    expect((await service.post("Rt5yHb8NqZ3wPd6s", user, { uid })).status).toBe(200);
    expect(cluster.server.get("secrets", NAMESPACE, `ae-${uid}-credential`)).toBeDefined();
    expect((await waitForStatus(service, user, uid, ["success", "fail"])).status).toBe("success");
  });

  test("When a retried run's steps call back before the retry has been answered, then they are let in: the task reopens first", async () => {
    const uid = await failedTraining();
    const put = cluster.server.holdNext((r) => r.method === "PUT" && r.resource === "workflows", { answerLate: true });
    const retrying = service.post("Rt5yHb8NqZ3wPd6s", user, { uid }).then((response) => response); // sent now
    await put.reached;
    // The controller reruns the step meanwhile; the upload step stores the model through the step API.
    const phase = () => (cluster.server.get("workflows", NAMESPACE, `ae-${uid}`) as unknown as Workflow).status?.phase;
    await eventually(() => phase() === "Succeeded" || phase() === "Failed");
    expect(phase()).toBe("Succeeded");
    put.release();
    expect((await retrying).status).toBe(200);
    expect((await waitForStatus(service, user, uid, ["success", "fail"])).status).toBe("success");
  });

  test("When two retries of a failed task arrive together, then one restarts the run and the other is refused: its steps' credential still works", async () => {
    const uid = await failedTraining();
    // Both retries read the task as failed before either goes on: the race, every time.
    const tasks = service.container.db.tasks;
    const find = tasks.find.bind(tasks);
    let secondRead = () => {};
    const bothRead = new Promise<void>((resolve) => (secondRead = resolve));
    let reads = 0;
    const readTogether = jest.spyOn(tasks, "find").mockImplementation(async (wanted) => {
      const row = await find(wanted);
      if (wanted === uid && ++reads <= 2) {
        if (reads === 2) secondRead();
        await Promise.race([bothRead, new Promise((resolve) => setTimeout(resolve, 5_000))]);
      }
      return row;
    });
    const before = restarts();
    try {
      const answers = await Promise.all([1, 2].map(() => service.post("Rt5yHb8NqZ3wPd6s", user, { uid })));
      expect(reads).toBeGreaterThanOrEqual(2);
      expect(answers.map((answer) => answer.status).sort()).toEqual([200, 409]);
      expect(answers.find((answer) => answer.status === 409)!.body.detail).toMatch(/only a failed task can be retried/);
    } finally {
      readTogether.mockRestore();
    }
    expect(restarts() - before).toBe(1);
    const retried = cluster.server.get("workflows", NAMESPACE, `ae-${uid}`) as unknown as Workflow;
    expect(retried.metadata.annotations?.[TASK_ATTEMPT_ANNOTATION]).toBe("1");
    expect((await waitForStatus(service, user, uid, ["success", "fail"])).status).toBe("success");
  });

  /** Sends `request`, whose first read of task `uid` is taken before `meanwhile` runs and used after it. */
  const withStaleRead = async <T>(uid: string, meanwhile: () => Promise<void>, request: () => PromiseLike<T>): Promise<T> => {
    const tasks = service.container.db.tasks;
    const find = tasks.find.bind(tasks);
    let held = false;
    const stale = jest.spyOn(tasks, "find").mockImplementation(async (wanted) => {
      const row = await find(wanted);
      if (wanted === uid && !held) {
        held = true;
        await meanwhile();
      }
      return row;
    });
    try {
      return await request();
    } finally {
      stale.mockRestore();
    }
  };
  const retry = (uid: string) => () => service.post("Rt5yHb8NqZ3wPd6s", user, { uid });

  test("When a failed task is retried and fails again while a second retry is under way, then the second is refused: one retry per failure seen", async () => {
    const uid = await failedTraining();
    const before = restarts();
    const late = await withStaleRead(
      uid,
      async () => {
        cluster.behavior.running = async () => 1;
        expect((await service.post("Rt5yHb8NqZ3wPd6s", user, { uid })).status).toBe(200);
        await waitForStatus(service, user, uid, ["fail"]);
      },
      retry(uid),
    );
    expect({ status: late.status, detail: late.body.detail }).toEqual({
      status: 409,
      detail: `task ${uid} was retried meanwhile; read it again`,
    });
    expect(restarts() - before).toBe(1);
  });

  test("When a failed task is deleted while its retry is under way, then the retry answers 404 and restarts nothing", async () => {
    const uid = await failedTraining();
    const before = restarts();
    const late = await withStaleRead(
      uid,
      async () => void expect((await service.post("AoTqlTmu8l47CbMU", user, { uid })).status).toBe(200),
      retry(uid),
    );
    expect(late.status).toBe(404);
    expect(late.body.detail).toContain(uid);
    expect(restarts() - before).toBe(0);
    expect(cluster.server.get("workflows", NAMESPACE, `ae-${uid}`)).toBeUndefined();
  });

  test("When Kubernetes keeps failing a retry's restart, then the task reads failed again with the reason, and a later retry runs", async () => {
    const uid = await failedTraining();
    cluster.server.failNext(5, 503, (r) => r.method === "PUT" && r.resource === "workflows");
    const refused = await service.post("Rt5yHb8NqZ3wPd6s", user, { uid });
    expect(refused.status).toBe(503);
    const failed = (await service.post("KlnZtRyqy3rPAZWL", user, { uid })).body.data;
    expect({ status: failed.status, message: failed.status_message }).toEqual({
      status: "fail",
      message: expect.stringMatching(/^could not restart the run: .*Kubernetes is unavailable/),
    });
    expect(cluster.server.get("secrets", NAMESPACE, `ae-${uid}-credential`)).toBeUndefined();
    expect((await service.post("Rt5yHb8NqZ3wPd6s", user, { uid })).status).toBe(200);
    expect((await waitForStatus(service, user, uid, ["success", "fail"])).status).toBe("success");
  });

  test("When a task is resubmitted, then a new task runs a new Workflow with the same inputs", async () => {
    const first = await service.post("q8uzMBcM5YJH6dPf", user, trainingBody(user, training, trainingDataset));
    await waitForStatus(service, user, first.body.data.uid, ["success"]);
    const again = await service.post("Ms2kVf9LcX4nTj7e", user, { uid: first.body.data.uid });
    expect(again.body.data.resubmitted_from).toBe(first.body.data.uid);
    const done = await waitForStatus(service, user, again.body.data.uid, ["success", "fail"]);
    expect({ status: done.status, workflow: done.workflow_name }).toEqual({ status: "success", workflow: `ae-${again.body.data.uid}` });
  });

  test("When a task is deleted, then its Workflow and Secret are deleted too", async () => {
    const held = holdRunningStep(cluster);
    const response = await service.post("q8uzMBcM5YJH6dPf", user, trainingBody(user, training, trainingDataset));
    const uid = response.body.data.uid;
    await waitForStatus(service, user, uid, ["running"]);
    expect(cluster.server.get("secrets", NAMESPACE, `ae-${uid}-credential`)).toBeDefined();
    expect((await service.post("AoTqlTmu8l47CbMU", user, { uid })).status).toBe(200);
    expect(cluster.server.get("workflows", NAMESPACE, `ae-${uid}`)).toBeUndefined();
    expect(cluster.server.get("secrets", NAMESPACE, `ae-${uid}-credential`)).toBeUndefined();
    expect(cluster.server.list("pods", NAMESPACE, (p) => p.metadata.labels?.["workflows.argoproj.io/workflow"] === `ae-${uid}`)).toEqual(
      [],
    );
    held.release();
  });

  test.each([
    ["deleted", "AoTqlTmu8l47CbMU", "uid"],
    ["stopped", "CNNfUmDpcWXp7vdM", "task_uid"],
  ])(
    "When a task is %s while its Workflow is being created, then the Workflow and its Secret are removed once created",
    async (_, key, field) => {
      cluster.controller.stop(); // nothing runs the Workflow while the test looks at what is left
      const held = cluster.server.holdNext((r) => r.method === "POST" && r.resource === "workflows");
      try {
        const uid: string = (await service.post("q8uzMBcM5YJH6dPf", user, trainingBody(user, training, trainingDataset))).body.data.uid;
        await held.reached;
        expect((await service.post(key, user, { [field]: uid })).status).toBe(200);
        held.release();
        await service.container.dispatcher.idle();
        expect(cluster.server.get("workflows", NAMESPACE, `ae-${uid}`)).toBeUndefined();
        expect(cluster.server.get("secrets", NAMESPACE, `ae-${uid}-credential`)).toBeUndefined();
      } finally {
        cluster.controller.start();
      }
    },
  );

  /** A training task submitted while dispatch is held: `meanwhile` runs before it resumes, and the queue has drained on return. */
  const withDispatchHeld = async (meanwhile: (uid: string) => Promise<void>): Promise<string> => {
    const { dispatcher } = service.container;
    dispatcher.pauseDispatch();
    try {
      const uid: string = (await service.post("q8uzMBcM5YJH6dPf", user, trainingBody(user, training, trainingDataset))).body.data.uid;
      await meanwhile(uid);
      return uid;
    } finally {
      dispatcher.resumeDispatch();
      await dispatcher.idle();
    }
  };

  test("When a task is stopped while it waits to be dispatched, then it stays stopped and no Workflow is created for it", async () => {
    const uid = await withDispatchHeld(async (held) => {
      const stopped = await service.post("CNNfUmDpcWXp7vdM", user, { task_uid: held });
      expect(stopped.body.data.status).toBe("fail");
    });
    const task = (await service.post("KlnZtRyqy3rPAZWL", user, { uid })).body.data;
    expect({ status: task.status, message: task.status_message }).toEqual({
      status: "fail",
      message: expect.stringMatching(/^stop requested by .* before the run started$/),
    });
    expect(cluster.server.get("workflows", NAMESPACE, `ae-${uid}`)).toBeUndefined();
    expect(cluster.server.get("secrets", NAMESPACE, `ae-${uid}-credential`)).toBeUndefined();
  });

  test("When a stop reads a task that another stop ends before it writes, then it answers 409 and the first stop's history stands", async () => {
    const uid = await withDispatchHeld(async (held) => {
      let first: { status: number } | undefined;
      const late = await withStaleRead(
        held,
        async () => void (first = await service.post("CNNfUmDpcWXp7vdM", user, { task_uid: held })),
        () => service.post("CNNfUmDpcWXp7vdM", user, { task_uid: held }),
      );
      expect(first!.status).toBe(200);
      expect({ status: late.status, detail: late.body.detail }).toEqual({
        status: 409,
        detail: `task ${held} is fail; only a task that has not finished can be stopped`,
      });
    });
    const { history } = (await service.post("KlnZtRyqy3rPAZWL", user, { uid })).body.data;
    expect(history.filter((event: { message: string }) => /before the run started$/.test(event.message))).toHaveLength(1);
  });

  test("When a stop reads a task before its run is recorded and ends it after, then that run is stopped too", async () => {
    const held = holdRunningStep(cluster);
    const { dispatcher } = service.container;
    dispatcher.pauseDispatch();
    const uid: string = (await service.post("q8uzMBcM5YJH6dPf", user, trainingBody(user, training, trainingDataset))).body.data.uid;
    const stopped = await withStaleRead(
      uid,
      async () => {
        dispatcher.resumeDispatch();
        await dispatcher.idle(); // the run is created and recorded while the stop holds its older read
      },
      () => service.post("CNNfUmDpcWXp7vdM", user, { task_uid: uid }),
    );
    expect(stopped.body.data.status).toBe("fail");
    expect((cluster.server.get("workflows", NAMESPACE, `ae-${uid}`)!.spec as { shutdown?: string }).shutdown).toBe("Stop");
    held.release();
    await eventually(() => (cluster.server.get("workflows", NAMESPACE, `ae-${uid}`)!.status as { phase?: string })?.phase === "Failed");
    expect((await service.post("KlnZtRyqy3rPAZWL", user, { uid })).body.data.status).toBe("fail");
  });

  test("When the same Idempotency-Key is sent twice, then one Workflow is created", async () => {
    const creates = workflowCreates();
    const body = trainingBody(user, training, trainingDataset);
    const [a, b] = await Promise.all([
      service.http.post(`${API}/q8uzMBcM5YJH6dPf`).set("Idempotency-Key", "retrain-7").send(body),
      service.http.post(`${API}/q8uzMBcM5YJH6dPf`).set("Idempotency-Key", "retrain-7").send(body),
    ]);
    expect(b.body.data.uid).toBe(a.body.data.uid);
    await waitForStatus(service, user, a.body.data.uid, ["success"]);
    expect(workflowCreates() - creates).toBe(1);
  });

  test("When Kubernetes answers 500 and 429 on create, then the submission is retried and succeeds", async () => {
    cluster.server.failNext(1, 500, (r) => r.method === "POST" && r.resource === "workflows");
    cluster.server.failNext(1, 429, (r) => r.method === "POST" && r.resource === "workflows");
    const before = workflowCreates();
    const response = await service.post("q8uzMBcM5YJH6dPf", user, trainingBody(user, training, trainingDataset));
    expect(response.status).toBe(200);
    expect((await waitForStatus(service, user, response.body.data.uid, ["success", "fail"])).status).toBe("success");
    expect(workflowCreates() - before).toBe(3);
  });

  test("When Kubernetes keeps failing the create, then the task is 'init error' and a retry submits it", async () => {
    cluster.server.failNext(5, 503, (r) => r.method === "POST" && r.resource === "workflows");
    const response = await service.post("q8uzMBcM5YJH6dPf", user, trainingBody(user, training, trainingDataset));
    // Accepted: the run starts after the answer, and its failure shows in the task.
    expect(response.status).toBe(200);
    const failed = await waitForStatus(service, user, response.body.data.uid, ["init error"]);
    expect(failed.status_message).toMatch(/could not start the run: create workflow: Kubernetes is unavailable/);
    // The Secret comes after its Workflow: none was written.
    expect(cluster.server.get("secrets", NAMESPACE, `ae-${failed.uid}-credential`)).toBeUndefined();
    expect((await service.post("Rt5yHb8NqZ3wPd6s", user, { uid: failed.uid })).status).toBe(200);
    expect((await waitForStatus(service, user, failed.uid, ["success", "fail"])).status).toBe("success");
  });

  test("When a task asks for resources, then each step's pod gets exactly them (through podSpecPatch), and no GPU limit where none was asked", async () => {
    const resources = { running: { cpu: "2", memory: "8Gi", gpu: 1 }, upload: { cpu: "250m", memory: "512Mi" } };
    const response = await service.post("q8uzMBcM5YJH6dPf", user, { ...trainingBody(user, training, trainingDataset), resources });
    const uid = response.body.data.uid as string;
    expect((await waitForStatus(service, user, uid, ["success", "fail"])).status).toBe("success");
    const podOf = (step: string) => {
      const pod = cluster.server.list(
        "pods",
        NAMESPACE,
        (p) =>
          p.metadata.labels?.["workflows.argoproj.io/workflow"] === `ae-${uid}` &&
          p.metadata.annotations?.["workflows.argoproj.io/node-name"]?.endsWith(`.${step}`) === true,
      )[0]!;
      return (pod.spec as { containers: Array<{ name: string; resources?: unknown }> }).containers.find((c) => c.name === "main")!
        .resources;
    };
    expect(podOf("training")).toEqual({ requests: { cpu: "2", memory: "8Gi" }, limits: { memory: "8Gi", "nvidia.com/gpu": "1" } });
    expect(podOf("upload-model")).toEqual({ requests: { cpu: "250m", memory: "512Mi" }, limits: { memory: "512Mi" } });
    expect(podOf("download-training-dataset")).toEqual({ requests: { cpu: "500m", memory: "4000Mi" }, limits: { memory: "4000Mi" } });
  });

  test("When a Workflow's pod spec patch holds something that is not a quantity, then the controller fails it with Argo's message", async () => {
    const workflow = structuredClone(
      cluster.server.list("workflows", NAMESPACE).find((wf) => wf.metadata.labels?.["argo-entrypoint.io/task-uid"])!,
    );
    const name = `ae-${"0".repeat(8)}-0000-4000-8000-000000000001`;
    const parameters = (workflow.spec as { arguments: { parameters: Array<{ name: string; value: string }> } }).arguments.parameters.map(
      (p) =>
        p.name === "download_pod_spec_patch"
          ? { ...p, value: JSON.stringify({ containers: [{ name: "main", resources: { requests: { cpu: "lots" } } }] }) }
          : p,
    );
    cluster.server.create("workflows", NAMESPACE, {
      apiVersion: "argoproj.io/v1alpha1",
      kind: "Workflow",
      metadata: { name, labels: { ...workflow.metadata.labels, "argo-entrypoint.io/task-uid": "00000000-0000-4000-8000-000000000001" } },
      spec: { workflowTemplateRef: (workflow.spec as { workflowTemplateRef: unknown }).workflowTemplateRef, arguments: { parameters } },
    });
    await eventually(
      () => (cluster.server.get("workflows", NAMESPACE, name)?.status as { phase?: string } | undefined)?.phase === "Failed",
    );
    const nodes = Object.values(
      (cluster.server.get("workflows", NAMESPACE, name)!.status as { nodes: Record<string, { phase: string; message?: string }> }).nodes,
    );
    expect(nodes.find((n) => n.phase === "Error")?.message).toBe(
      "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
    );
    cluster.server.delete("workflows", NAMESPACE, name);
  });

  test("When watches drop and history is compacted mid-run, then no status is lost", async () => {
    const held = holdRunningStep(cluster);
    const response = await service.post("q8uzMBcM5YJH6dPf", user, trainingBody(user, training, trainingDataset));
    await waitForStatus(service, user, response.body.data.uid, ["running"]);
    await eventually(() => held.waiting);
    cluster.server.dropWatches();
    cluster.server.failNext(2, 500, (r) => r.resource === "workflows" && r.method === "GET");
    held.release();
    await new Promise((resolve) => setTimeout(resolve, 50));
    cluster.server.compactHistory();
    cluster.server.dropWatches();
    expect((await waitForStatus(service, user, response.body.data.uid, ["success", "fail"])).status).toBe("success");
  });

  test("When the watch lists again after a 410, then the credentials of finished tasks are not deleted again", async () => {
    const secretDeletes = () => cluster.server.count({ method: "DELETE", resource: "secrets" });
    const response = await service.post("q8uzMBcM5YJH6dPf", user, trainingBody(user, training, trainingDataset));
    await waitForStatus(service, user, response.body.data.uid, ["success"]);
    await eventually(() => cluster.server.get("secrets", NAMESPACE, `ae-${response.body.data.uid}-credential`) === undefined);
    const before = secretDeletes();
    const lists = cluster.server.count({ method: "GET", resource: "workflows", watch: false });
    cluster.server.compactHistory();
    cluster.server.dropWatches();
    await eventually(() => cluster.server.count({ method: "GET", resource: "workflows", watch: false }) > lists);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(secretDeletes()).toBe(before);
  });

  test("When task info and lists are read, then no Kubernetes request is made, and Workflows are never polled", async () => {
    const list = await service.post("s8i1TNiTXwwv02mv", user, { f_pipeline_uid: training.pipeline });
    const uids: string[] = list.body.data.map((t: { uid: string }) => t.uid);
    const before = cluster.server.requests.length;
    for (const uid of uids) expect((await service.post("KlnZtRyqy3rPAZWL", user, { uid })).status).toBe(200);
    await service.post("s8i1TNiTXwwv02mv", user, { f_pipeline_uid: training.pipeline });
    expect(cluster.server.requests.slice(before).filter((r) => r.resource === "workflows")).toEqual([]);
    const gets = cluster.server.requests.filter(
      (r) => r.resource === "workflows" && r.method === "GET" && !r.watch && r.path.split("/").length > 7,
    );
    // Single GETs happen only in shutdown (reading the phase first, as Argo's CLI does) and retry: one each at most.
    const shutdownsAndRetries = await service.container.db.auditEvents.count({
      action: { in: ["task.stop", "task.terminate", "task.retry"] },
    });
    expect(gets.length).toBeLessThanOrEqual(shutdownsAndRetries);
  });

  test("When the service dies between the database write and the create, then the next start submits the task", async () => {
    // The process "dies" right after the task is written: dispatch never runs its course.
    const dispatch = jest.spyOn(service.container.dispatcher, "dispatch").mockRejectedValueOnce(new Error("killed"));
    const before = await service.container.db.tasks.count({});
    expect((await service.post("q8uzMBcM5YJH6dPf", user, trainingBody(user, training, trainingDataset))).status).toBe(200);
    expect(await service.container.db.tasks.count({})).toBe(before + 1);
    await service.container.dispatcher.idle();
    dispatch.mockRestore();
    const stranded = (await service.container.db.tasks.list({ status: "init" }))[0]!;
    expect(cluster.server.get("workflows", NAMESPACE, `ae-${stranded.uid}`)).toBeUndefined();
    await running.close();
    // A credential Secret left by an earlier attempt, with a token nobody holds: the new run replaces it.
    cluster.server.create("secrets", NAMESPACE, {
      metadata: { name: `ae-${stranded.uid}-credential` },
      data: { token: Buffer.from("stale").toString("base64") },
    });

    running = await start();
    service = running.service;
    const healed = await waitForStatus(service, user, stranded.uid, ["success", "fail"], 20_000);
    expect({ status: healed.status, message: healed.status_message }).toEqual({ status: "success", message: "" });
  });

  test("When a Workflow vanished while the service was down, then the task is failed with the reason on start", async () => {
    const held = holdRunningStep(cluster);
    const response = await service.post("q8uzMBcM5YJH6dPf", user, trainingBody(user, training, trainingDataset));
    const uid = response.body.data.uid;
    await waitForStatus(service, user, uid, ["running"]);
    await running.close();
    cluster.server.delete("workflows", NAMESPACE, `ae-${uid}`);
    held.release();
    running = await start();
    service = running.service;
    const done = await waitForStatus(service, user, uid, ["fail"], 20_000);
    expect(done.status_message).toMatch(/no longer exists|was deleted/);
  });

  test("When a resume runs while the dispatcher still holds a just-accepted task, then the task is left to it and runs once", async () => {
    service.container.dispatcher.pauseDispatch();
    const submit = jest.spyOn(service.container.engine, "submit");
    try {
      const response = await service.post("q8uzMBcM5YJH6dPf", user, trainingBody(user, training, trainingDataset));
      // What the new leader's takeover does: it must not hand over (and renew the credential of) a task under way here.
      expect(await service.container.dispatcher.resumeUndispatched(0)).toBe(0);
      service.container.dispatcher.resumeDispatch();
      const ended = await waitForStatus(service, user, response.body.data.uid, ["success", "fail"]);
      expect({ status: ended.status, message: ended.status_message }).toEqual({ status: "success", message: "" });
      expect(submit.mock.calls.filter(([plan]) => plan.task.uid === response.body.data.uid)).toHaveLength(1);
    } finally {
      service.container.dispatcher.resumeDispatch();
      submit.mockRestore();
    }
  });

  test("When two resumes overlap on a task nobody handed over, then it is dispatched once", async () => {
    const dispatcher = service.container.dispatcher;
    const enqueue = jest.spyOn(dispatcher, "enqueue").mockReturnValue(false); // accepted, never handed over
    const submit = jest.spyOn(service.container.engine, "submit");
    try {
      const uid = (await service.post("q8uzMBcM5YJH6dPf", user, trainingBody(user, training, trainingDataset))).body.data.uid as string;
      enqueue.mockRestore();
      await Promise.all([dispatcher.resumeUndispatched(0), dispatcher.resumeUndispatched(0)]);
      const ended = await waitForStatus(service, user, uid, ["success", "fail"]);
      expect({ status: ended.status, message: ended.status_message }).toEqual({ status: "success", message: "" });
      expect(submit.mock.calls.filter(([plan]) => plan.task.uid === uid)).toHaveLength(1);
    } finally {
      enqueue.mockRestore();
      submit.mockRestore();
    }
  });

  test("When two replicas run, then one holds the Lease and the other takes over when it stops", async () => {
    const second = await start({ POD_NAME: "replica-b" });
    const holder = () =>
      (cluster.server.get("leases", NAMESPACE, "argo-entrypoint-leader")!.spec as { holderIdentity: string }).holderIdentity;
    expect(holder()).not.toBe("replica-b");
    await running.close();
    await eventually(() => holder() === "replica-b", 15_000);
    running = second;
    service = second.service;
    const response = await service.post("q8uzMBcM5YJH6dPf", user, trainingBody(user, training, trainingDataset));
    const ended = await waitForStatus(service, user, response.body.data.uid, ["success", "fail"]);
    expect({ status: ended.status, message: ended.status_message }).toEqual({ status: "success", message: "" });
  });
});
