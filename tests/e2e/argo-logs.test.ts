import http from "node:http";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import * as Minio from "minio";
import { argoEnv, eventually, holdRunningStep, NAMESPACE, startFakeCluster, type FakeCluster } from "../support/fake-kube/fake-cluster.js";
import { upload } from "../support/registry-fixture.js";
import { startS3Server } from "../support/s3-server.js";
import { disallowed } from "../support/chart-rbac.js";
import {
  example,
  registerPipeline,
  registerProject,
  startListeningService,
  trainingBody,
  waitForStatus,
  type PipelineFixture,
} from "../support/task-fixture.js";
import { readSse } from "../support/sse.js";
import { API, type TestService, type TestUser } from "../support/test-service.js";

const ARCHIVE_BUCKET = "argo-artifacts";

describe("Task logs from Argo: live pods, the archive after pod GC, follow and fan-out", () => {
  let cluster: FakeCluster;
  let s3: { env: Record<string, string>; close(): Promise<void> };
  let running: { service: TestService; url: string; close(): Promise<void> };
  let service: TestService;
  let user: TestUser;
  let training: PipelineFixture;
  let dataset: string;
  let archivePuts = 0;

  beforeAll(async () => {
    s3 = await startS3Server();
    const client = new Minio.Client({
      endPoint: "127.0.0.1",
      port: Number(s3.env.S3_PORT),
      useSSL: false,
      accessKey: "S3RVER",
      secretKey: "S3RVER",
      // A fresh connection per upload: a kept-alive one that s3rver closes after 5 s idle, reused just
      // then, resets the upload (Argo's executor retries it; this fake controller would fail the run).
      transportAgent: new http.Agent({ keepAlive: false }),
    });
    await client.makeBucket(ARCHIVE_BUCKET, "us-east-1");
    cluster = await startFakeCluster({
      archive: {
        bucket: ARCHIVE_BUCKET,
        put: async (key, text) => {
          archivePuts += 1;
          await client.putObject(ARCHIVE_BUCKET, key, Buffer.from(text));
        },
      },
    });
    running = await startListeningService(
      argoEnv(cluster, {
        ARCHIVE_S3_ENDPOINT: "127.0.0.1",
        ARCHIVE_S3_PORT: s3.env.S3_PORT!,
        ARCHIVE_S3_ACCESS_KEY: "S3RVER",
        ARCHIVE_S3_SECRET_KEY: "S3RVER",
        ARCHIVE_S3_BUCKET: ARCHIVE_BUCKET,
        LOG_FOLLOW_MAX_QUEUE_BYTES: "65536",
        // A follower that stops reading holds its step's upstream up this long (the default 30 s is a test's whole timeout).
        LOG_FOLLOW_STALL_SECONDS: "3",
      }),
      (url) => (cluster.stepApi.url = url),
    );
    service = running.service;
    user = await service.user();
    const project = await registerProject(service, user);
    training = await registerPipeline(service, user, project.application, {
      type: "training",
      program: example("train.py"),
      extension: "py",
      config: {},
    });
    dataset = (
      await upload(
        service,
        "OFbaCJE62lcPVbZj",
        user,
        { name: "t", type: "training", f_project_uid: project.project, extension: "zip" },
        { content: example("dataset.zip"), name: "d.zip" },
      )
    ).body.data.uid;
    await eventually(() => cluster.server.get("leases", NAMESPACE, "argo-entrypoint-leader") !== undefined);
  });
  afterAll(async () => {
    const requests = [...cluster.server.requests];
    await running.close();
    await cluster.close();
    await s3.close();
    expect(disallowed(requests)).toEqual([]);
  });

  /** Starts a training task whose running step logs `lines` lines then waits for release. */
  async function heldTask(lines = 3) {
    const held = holdRunningStep(
      cluster,
      Array.from({ length: lines }, (_, i) => `epoch ${i + 1}`),
    );
    const response = await service.post("q8uzMBcM5YJH6dPf", user, trainingBody(user, training, dataset));
    const uid = response.body.data.uid as string;
    await waitForStatus(service, user, uid, ["running"]);
    await eventually(() => held.waiting);
    await eventually(async () => (await service.post("KlnZtRyqy3rPAZWL", user, { uid })).body.data.steps[1].phase === "Running");
    return { uid, release: held.release, write: held.log };
  }

  test("When a step runs, then the log route reads its live pod log (container main)", async () => {
    const task = await heldTask();
    const response = await service.post("bJ7xLmgp4WSWK498", user, { task_uid: task.uid, type: "training" });
    expect(response.status).toBe(200);
    expect(response.body.data.training).toBe("epoch 1\nepoch 2\nepoch 3\n");
    expect(response.body.data.download_training_dataset).toMatch(/^downloaded dataset/);
    expect(response.body.data.upload_model).toBe("");
    const logRequests = cluster.server.requests.filter((r) => r.resource === "pods/log");
    expect(logRequests.every((r) => r.query.container === "main")).toBe(true);
    task.release();
    await waitForStatus(service, user, task.uid, ["success"]);
  });

  test("When the pods were garbage-collected, then the same request reads the archived main.log", async () => {
    const task = await heldTask();
    task.release();
    const done = await waitForStatus(service, user, task.uid, ["success"]);
    for (const pod of cluster.server.list(
      "pods",
      NAMESPACE,
      (p) => p.metadata.labels?.["workflows.argoproj.io/workflow"] === done.workflow_name,
    )) {
      cluster.server.delete("pods", NAMESPACE, pod.metadata.name!);
    }
    const response = await service.post("bJ7xLmgp4WSWK498", user, { task_uid: task.uid });
    expect(response.body.data.training).toBe("epoch 1\nepoch 2\nepoch 3\n");
    expect(response.body.data.upload_model).toMatch(/^uploaded model\.zip: HTTP 201/);
    expect(response.body.unavailable).toBeUndefined();
  });

  test("When neither the pod nor an archived log exists, then the answer says why for that step", async () => {
    const task = await heldTask();
    task.release();
    const done = await waitForStatus(service, user, task.uid, ["success"]);
    const running = done.steps.find((s: { name: string }) => s.name === "training");
    for (const pod of cluster.server.list(
      "pods",
      NAMESPACE,
      (p) => p.metadata.labels?.["workflows.argoproj.io/workflow"] === done.workflow_name,
    )) {
      cluster.server.delete("pods", NAMESPACE, pod.metadata.name!);
    }
    // Lose the archive of the running step's pod, as a hard-killed pod would.
    const client = new Minio.Client({
      endPoint: "127.0.0.1",
      port: Number(s3.env.S3_PORT),
      useSSL: false,
      accessKey: "S3RVER",
      secretKey: "S3RVER",
    });
    await client.removeObject(ARCHIVE_BUCKET, `${done.workflow_name}/${running.pod_name}/main.log`);
    const response = await service.post("bJ7xLmgp4WSWK498", user, { task_uid: task.uid });
    expect(response.body.data.training).toBe("");
    expect(response.body.unavailable.training).toMatch(/pod: the step's pod no longer exists; archive: no archived log at/);
    expect(response.body.data.download_training_dataset).toMatch(/^downloaded dataset/);
  });

  test("When the Workflow itself is gone, then the archive is found by the recorded pod name", async () => {
    const task = await heldTask();
    task.release();
    const done = await waitForStatus(service, user, task.uid, ["success"]);
    cluster.server.delete("workflows", NAMESPACE, done.workflow_name);
    const response = await service.post("bJ7xLmgp4WSWK498", user, { task_uid: task.uid });
    expect(response.body.data.training).toBe("epoch 1\nepoch 2\nepoch 3\n");
  });

  test("When a step is followed, then lines arrive as Server-Sent Events and the stream ends with the step", async () => {
    const task = await heldTask(2);
    const followed = readSse(`${running.url}${API}/Fw3lGz8Kc1VbN6mQ`, {
      access_key: user.accessKey,
      secret_key: user.secretKey,
      task_uid: task.uid,
      step: "training",
    });
    await eventually(() => cluster.server.requests.some((r) => r.resource === "pods/log" && r.query.follow === "true"));
    task.write("epoch 3 (live)");
    task.release();
    const events = await followed;
    expect(events.filter((e) => e.event === "log").map((e) => e.data)).toEqual([
      { step: "training", line: "epoch 1" },
      { step: "training", line: "epoch 2" },
      { step: "training", line: "epoch 3 (live)" },
    ]);
    expect(events.at(-1)).toEqual({ event: "end", data: expect.objectContaining({ status: expect.stringMatching(/running|success/) }) });
  });

  /**
   * The training step of a held task, followed by one client: its pod's name, the log lines the
   * follower gets (once the stream ends), and how many follow requests reached that pod's log.
   */
  async function followedTraining(task: Awaited<ReturnType<typeof heldTask>>) {
    const followed = readSse(`${running.url}${API}/Fw3lGz8Kc1VbN6mQ`, {
      access_key: user.accessKey,
      secret_key: user.secretKey,
      task_uid: task.uid,
      step: "training",
    });
    await eventually(() => service.container.fanout.followers === 1);
    const info = await service.post("KlnZtRyqy3rPAZWL", user, { uid: task.uid });
    const pod = cluster.server.list(
      "pods",
      NAMESPACE,
      (p) => p.metadata.annotations?.["workflows.argoproj.io/node-id"] === info.body.data.steps[1].node_id,
    )[0]!.metadata.name!;
    return {
      pod,
      lines: async () => (await followed).filter((e) => e.event === "log").map((e) => e.data.line),
      follows: () =>
        cluster.server.requests.filter((r) => r.resource === "pods/log" && r.query.follow === "true" && r.path.includes(pod)).length,
    };
  }

  test("When the step's container restarts while it is followed, then the follower goes on with the new container's lines", async () => {
    const task = await heldTask(1);
    const { pod, lines, follows } = await followedTraining(task);
    cluster.server.restartContainer(NAMESPACE, pod);
    await eventually(() => follows() === 2);
    task.write("after restart");
    task.release();
    expect(await lines()).toEqual(["epoch 1", "after restart"]);
  });

  test("When a step's log stream ends before its end is recorded, then the follower gets each line once", async () => {
    const task = await heldTask(2);
    const { pod, lines, follows } = await followedTraining(task);
    // The container's log ends (it exited) while its step is still Running for the service: each
    // reattachment reads the same, whole log again.
    cluster.server.endLog(NAMESPACE, pod);
    await eventually(() => follows() >= 3);
    task.release();
    expect(await lines()).toEqual(["epoch 1", "epoch 2"]);
  });

  test("When a follower asks for a tail, then it starts with only that many recent lines", async () => {
    const task = await heldTask(5);
    const followed = readSse(`${running.url}${API}/Fw3lGz8Kc1VbN6mQ`, {
      access_key: user.accessKey,
      secret_key: user.secretKey,
      task_uid: task.uid,
      step: "training",
      tail: 2,
    });
    await eventually(() => service.container.fanout.followers === 1);
    task.write("epoch 6");
    task.release();
    expect((await followed).filter((e) => e.event === "log").map((e) => e.data.line)).toEqual(["epoch 4", "epoch 5", "epoch 6"]);
  });

  test("When a follower asks for lines since a time, then the API server is asked for sinceSeconds", async () => {
    const task = await heldTask(1);
    const followed = readSse(`${running.url}${API}/Fw3lGz8Kc1VbN6mQ`, {
      access_key: user.accessKey,
      secret_key: user.secretKey,
      task_uid: task.uid,
      step: "training",
      since_seconds: 600,
    });
    await eventually(() => service.container.fanout.followers === 1);
    task.release();
    await followed;
    expect(cluster.server.requests.filter((r) => r.resource === "pods/log" && r.query.follow === "true").at(-1)!.query.sinceSeconds).toBe(
      "600",
    );
  });

  test("When all steps are followed, then each line names its step and the stream ends with the task", async () => {
    const task = await heldTask(1);
    const followed = readSse(`${running.url}${API}/Fw3lGz8Kc1VbN6mQ`, {
      access_key: user.accessKey,
      secret_key: user.secretKey,
      task_uid: task.uid,
    });
    task.release();
    const events = await followed;
    const steps = [...new Set(events.filter((e) => e.event === "log").map((e) => e.data.step))];
    expect(steps).toEqual(["download_training_dataset", "training", "upload_model"]);
    expect(events.at(-1)).toEqual({ event: "end", data: { status: "success", execute_step: "run_task", message: "" } });
  });

  test("When 50 clients follow one step, then one upstream log stream serves them all", async () => {
    const task = await heldTask(1);
    const before = cluster.server.requests.filter((r) => r.resource === "pods/log" && r.query.follow === "true").length;
    const followers = Array.from({ length: 50 }, () =>
      readSse(`${running.url}${API}/Fw3lGz8Kc1VbN6mQ`, {
        access_key: user.accessKey,
        secret_key: user.secretKey,
        task_uid: task.uid,
        step: "training",
      }),
    );
    await eventually(() => service.container.fanout.followers === 50);
    expect(service.container.fanout.upstreams).toBe(1);
    task.write("shared line");
    task.release();
    const all = await Promise.all(followers);
    expect(cluster.server.requests.filter((r) => r.resource === "pods/log" && r.query.follow === "true").length - before).toBe(1);
    for (const events of all) expect(events.filter((e) => e.event === "log").map((e) => e.data.line)).toContain("shared line");
  });

  // Whether the stalled one is cut off depends on how much the loopback's socket buffers absorb (up to
  // 36 MB here, less under memory pressure); the cut-off itself is tests/unit/log-fanout.test.ts's.
  test("When one follower stops reading, then another still gets every line over HTTP", async () => {
    const task = await heldTask(0);
    // A follower that never reads: its socket stops accepting data.
    const stalled = await new Promise<http.ClientRequest>((resolve) => {
      const request = http.request(
        `${running.url}${API}/Fw3lGz8Kc1VbN6mQ`,
        { method: "POST", headers: { "Content-Type": "application/json" } },
        (response) => {
          response.pause();
          resolve(request);
        },
      );
      request.end(JSON.stringify({ access_key: user.accessKey, secret_key: user.secretKey, task_uid: task.uid, step: "training" }));
    });
    const healthy = readSse(`${running.url}${API}/Fw3lGz8Kc1VbN6mQ`, {
      access_key: user.accessKey,
      secret_key: user.secretKey,
      task_uid: task.uid,
      step: "training",
    });
    try {
      // Both attached before the first line: a follower joining later starts from the bounded history.
      await eventually(() => service.container.fanout.followers === 2);
      expect(service.container.fanout.upstreams).toBe(1);
      const line = "x".repeat(1000);
      for (let i = 0; i < 2000; i += 1) task.write(`${i} ${line}`);
      task.release();
      const events = await healthy;
      expect(events.filter((e) => e.event === "log")).toHaveLength(2000);
    } finally {
      stalled.destroy();
    }
  });

  test("When a failed step is retried, then its logs come from the new pod", async () => {
    cluster.behavior.running = async (context) => (context.log("first attempt fails"), 1);
    const response = await service.post("q8uzMBcM5YJH6dPf", user, trainingBody(user, training, dataset));
    await waitForStatus(service, user, response.body.data.uid, ["fail"]);
    cluster.behavior.running = async (context) => (context.log("second attempt works"), 0);
    await service.post("Rt5yHb8NqZ3wPd6s", user, { uid: response.body.data.uid });
    await waitForStatus(service, user, response.body.data.uid, ["success"]);
    const logs = await service.post("bJ7xLmgp4WSWK498", user, { task_uid: response.body.data.uid });
    expect(logs.body.data.training).toBe("second attempt works\n");
  });

  test("When the logs are downloaded, then both formats carry every step", async () => {
    const task = await heldTask(2);
    task.release();
    await waitForStatus(service, user, task.uid, ["success"]);
    const text = await service.post("Lg7dWnQ2xR5tYp8k", user, { task_uid: task.uid, format: "txt" });
    expect(text.text).toMatch(
      /^download_training_dataset Log:\n[\s\S]*\ntraining Log:\nepoch 1\nepoch 2\n\nupload_model Log:\nuploaded model\.zip/,
    );
    const archive = await service
      .post("Lg7dWnQ2xR5tYp8k", user, { task_uid: task.uid, format: "tar.gz" })
      .buffer(true)
      .parse((res, done) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => done(null, Buffer.concat(chunks)));
      });
    expect(gunzipSync(archive.body as Buffer).toString("latin1")).toContain("training.log");
  });

  test("When another organization follows or reads the logs, then 404", async () => {
    const outsider = await service.user({ organization: "elsewhere" });
    const any = (await service.post("s8i1TNiTXwwv02mv", user, { f_pipeline_uid: training.pipeline })).body.data[0].uid;
    expect((await service.post("Fw3lGz8Kc1VbN6mQ", outsider, { task_uid: any })).status).toBe(404);
    expect((await service.post("bJ7xLmgp4WSWK498", outsider, { task_uid: any })).status).toBe(404);
    expect(archivePuts).toBeGreaterThan(0);
    expect(cluster.controller.errors).toEqual([]);
  });
});
