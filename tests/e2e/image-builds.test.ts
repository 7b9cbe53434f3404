/**
 * Build files become images on the (fake) cluster: a build Workflow per distinct Dockerfile,
 * tasks that wait for their images in `generate_file`, a failed build that ends them with its
 * log, re-runs, build logs, and download or upload build files that ask to run their own image.
 */
import { afterAll, beforeAll, describe, expect, jest, test } from "@jest/globals";
import { UpstreamError } from "../../src/domain/errors.js";
import { disallowed } from "../support/chart-rbac.js";
import { argoEnv, eventually, NAMESPACE, startFakeCluster, type FakeCluster } from "../support/fake-kube/fake-cluster.js";
import type { StepContext } from "../support/fake-kube/fake-argo-controller.js";
import { upload } from "../support/registry-fixture.js";
import {
  example,
  registerProject,
  registerTrainingDataset,
  startListeningService,
  trainingBody,
  waitForStatus,
  type PipelineFixture,
} from "../support/task-fixture.js";
import { API, type TestService, type TestUser } from "../support/test-service.js";

const RUNNING_DOCKERFILE = "FROM python:3.11-slim\nRUN pip install --no-cache-dir numpy\n";
const SDK_DOCKERFILE = "FROM python:3.8.10\nRUN pip install git+https://github.com/mitlab-6g-team/mitlab-aiml-tools.git\n";

describe("Image builds on the cluster (fake API server and controller)", () => {
  let cluster: FakeCluster;
  let running: Awaited<ReturnType<typeof startListeningService>>;
  let service: TestService;
  let user: TestUser;
  let project: { project: string; application: string; originalDataset: string };
  let trainingDataset: string;

  const buildWorkflows = () =>
    cluster.server.list("workflows", NAMESPACE).filter((wf) => wf.metadata.labels?.["argo-entrypoint.io/image-build"]);
  const uploadBuildFile = async (pipeline: string, sequence: string, dockerfile: string) => {
    const response = await upload(
      service,
      "lwO7afcqdKtKEAhb",
      user,
      { name: `${sequence}-image`, sequence, f_pipeline_uid: pipeline, extension: "null" },
      { content: dockerfile, name: "Dockerfile" },
    );
    expect(response.status).toBe(200);
    return response.body.data as Record<string, any>;
  };
  const buildFile = async (pipeline: string, uid: string) =>
    (await service.post("eu4oNOb8E0KVaOdo", user, { f_pipeline_uid: pipeline })).body.data.find((i: { uid: string }) => i.uid === uid);
  /** A training pipeline with its config and three build files. */
  const pipelineWith = async (dockerfiles: { download?: string; running: string; upload?: string }): Promise<PipelineFixture> => {
    const created = await upload(
      service,
      "FgdSO4ryg2UA2APl",
      user,
      { name: "train", type: "training", f_application_uid: project.application, extension: "py" },
      { content: example("train.py"), name: "train.py" },
    );
    const pipeline = created.body.data.uid as string;
    const config = (await service.post("42XzWaxjE6dKA9mZ", user, { name: "c", data: { learning_rate: 0.5 }, f_pipeline_uid: pipeline }))
      .body.data.uid as string;
    const images = {
      download_uid: (await uploadBuildFile(pipeline, "download", dockerfiles.download ?? SDK_DOCKERFILE)).uid,
      running_uid: (await uploadBuildFile(pipeline, "running", dockerfiles.running)).uid,
      upload_uid: (await uploadBuildFile(pipeline, "upload", dockerfiles.upload ?? SDK_DOCKERFILE)).uid,
    };
    return { pipeline, config, images };
  };
  /** Holds the next image builds until released (or fails them with `log` when `fail` is set). */
  const holdBuilds = () => {
    const waiting: Array<(code: number) => void> = [];
    cluster.behavior.build = (context: StepContext) =>
      new Promise((resolve) => {
        waiting.push((code) => {
          if (code !== 0) {
            context.log("#5 [2/2] RUN pip install --no-cache-dir numpy");
            context.log(
              'ERROR: failed to solve: process "/bin/sh -c pip install --no-cache-dir numpy" did not complete successfully: exit code: 1',
            );
            resolve(code);
          } else {
            context.log(`pushed ${context.parameters.image}`);
            resolve({ code: 0, outputs: { parameters: [{ name: "image-digest", value: `sha256:${"e".repeat(64)}` }] } });
          }
        });
      });
    return {
      release: (code = 0) => waiting.splice(0).forEach((finish) => finish(code)),
      get count() {
        return waiting.length;
      },
    };
  };

  const succeedBuilds = () =>
    (cluster.behavior.build = async () => ({
      code: 0,
      outputs: { parameters: [{ name: "image-digest", value: `sha256:${"a".repeat(64)}` }] },
    }));

  beforeAll(async () => {
    cluster = await startFakeCluster();
    running = await startListeningService(
      argoEnv(cluster, { IMAGE_REGISTRY: "registry.lab.example/ml" }),
      (url) => (cluster.stepApi.url = url),
    );
    service = running.service;
    user = await service.user();
    project = await registerProject(service, user);
    trainingDataset = await registerTrainingDataset(service, user, project.project);
    await eventually(() => cluster.server.get("leases", NAMESPACE, "argo-entrypoint-leader") !== undefined);
  });
  afterAll(async () => {
    const requests = [...cluster.server.requests];
    await running.close();
    await cluster.close();
    expect(disallowed(requests)).toEqual([]); // the chart's Role allows every call the builds made
  });

  test("When a running build file is uploaded, then one build Workflow builds it from a ConfigMap it owns, and the build file shows the pushed image", async () => {
    const before = buildWorkflows().length;
    const fixture = await pipelineWith({ running: "FROM python:3.12-slim\n" });
    await eventually(async () => (await buildFile(fixture.pipeline, fixture.images.running_uid)).image_state === "ready");
    expect(buildWorkflows().length).toBe(before + 1); // the SDK download and upload build files run the built-in steps: no build
    const shown = await buildFile(fixture.pipeline, fixture.images.running_uid);
    expect(shown).toMatchObject({
      image_state: "ready",
      image_built_reference: expect.stringMatching(/^registry\.lab\.example\/ml\/step-image:[0-9a-f]{64}$/),
      image_digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
    });
    const workflow = buildWorkflows().at(-1)!;
    const configMapName = (workflow.spec as any).arguments.parameters.find((p: any) => p.name === "dockerfile_config_map").value;
    const configMap = cluster.server.get("configmaps", NAMESPACE, configMapName)!;
    expect(configMap.data).toEqual({ Dockerfile: "FROM python:3.12-slim\n" });
    expect(configMap.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: "Workflow", name: workflow.metadata.name })]);
    for (const sequence of ["download", "upload"]) {
      const file = await buildFile(fixture.pipeline, (fixture.images as any)[`${sequence}_uid`]);
      expect(file).toMatchObject({ image_state: "ready", image_built_reference: null, own_image: false });
    }
  });

  test("When the database fails to record a new build, then the upload answers 503 (not 500), the build file shows unbuilt, and a rebuild builds it", async () => {
    succeedBuilds();
    const fixture = await pipelineWith({ running: "FROM python:3.12-slim\n" });
    const builds = service.container.db.imageBuilds;
    const refused = jest.spyOn(builds, "create").mockRejectedValueOnce(new UpstreamError("the database is unavailable"));
    const dockerfile = "FROM python:3.12-slim\nRUN echo recorded-later\n";
    const response = await Promise.resolve(
      upload(
        service,
        "lwO7afcqdKtKEAhb",
        user,
        { name: "running-image", sequence: "running", f_pipeline_uid: fixture.pipeline, extension: "null" },
        { content: dockerfile, name: "Dockerfile" },
      ),
    ).finally(() => refused.mockRestore());
    expect({ status: response.status, detail: response.body.detail }).toEqual({ status: 503, detail: "the database is unavailable" });
    // The build file is stored without a build; a rebuild (or the next task) builds it.
    const listed = (await service.post("eu4oNOb8E0KVaOdo", user, { f_pipeline_uid: fixture.pipeline })).body.data;
    const stored = listed.find(
      (image: { uid: string; sequence: string }) => image.sequence === "running" && image.uid !== fixture.images.running_uid,
    );
    expect(stored).toMatchObject({
      image_state: "unbuilt",
      image_built_reference: null,
      build_message: expect.stringContaining("rebuild"),
    });
    const reads = jest.spyOn(service.container.objects, "get");
    const rebuilt = await service.post("Rb9UiLd4Tk2WmQ7x", user, { uid: stored.uid });
    const readCount = reads.mock.calls.length;
    reads.mockRestore();
    expect(rebuilt.status).toBe(200);
    expect(readCount).toBe(1); // the Dockerfile, read once for the build it starts
    await eventually(async () => (await buildFile(fixture.pipeline, stored.uid)).image_state === "ready");
    expect(cluster.builds.filter((b) => b.dockerfile === dockerfile)).toHaveLength(1);
  });

  test("When a build file's Dockerfile is replaced and its build cannot be recorded, then it no longer shows the old image, and a rebuild builds the new one", async () => {
    succeedBuilds();
    const fixture = await pipelineWith({ running: "FROM python:3.12-slim\nRUN echo before\n" });
    const uid = fixture.images.running_uid;
    await eventually(async () => (await buildFile(fixture.pipeline, uid)).image_state === "ready");
    const before = (await buildFile(fixture.pipeline, uid)).image_built_reference;
    const refused = jest
      .spyOn(service.container.db.imageBuilds, "create")
      .mockRejectedValueOnce(new UpstreamError("the database is unavailable"));
    const replaced = "FROM python:3.12-slim\nRUN echo after\n";
    const response = await Promise.resolve(
      upload(service, "fQVBVFsISiNWCCzx", user, { uid }, { content: replaced, name: "Dockerfile" }),
    ).finally(() => refused.mockRestore());
    expect(response.status).toBe(503);
    expect(await buildFile(fixture.pipeline, uid)).toMatchObject({ image_state: "unbuilt", image_built_reference: null });
    expect((await service.post("Rb9UiLd4Tk2WmQ7x", user, { uid })).status).toBe(200);
    await eventually(async () => (await buildFile(fixture.pipeline, uid)).image_state === "ready");
    const after = (await buildFile(fixture.pipeline, uid)).image_built_reference;
    expect(after).not.toBe(before);
    expect(cluster.builds.filter((b) => b.dockerfile === replaced)).toHaveLength(1);
  });

  test("When two build files hold the same Dockerfile, then it is built once and both get its image", async () => {
    const dockerfile = "FROM python:3.11-slim\nRUN echo identical\n";
    const before = cluster.builds.filter((b) => b.dockerfile === dockerfile).length;
    const first = await pipelineWith({ running: dockerfile });
    const second = await pipelineWith({ running: dockerfile });
    await eventually(async () => (await buildFile(second.pipeline, second.images.running_uid)).image_state === "ready");
    expect(cluster.builds.filter((b) => b.dockerfile === dockerfile).length).toBe(before + 1);
    const a = await buildFile(first.pipeline, first.images.running_uid);
    const b = await buildFile(second.pipeline, second.images.running_uid);
    expect(a.image_built_reference).toBe(b.image_built_reference);
  });

  test("When a task is submitted before its images are built, then it waits in generate_file, and runs on the built image once they are", async () => {
    const held = holdBuilds();
    const fixture = await pipelineWith({ running: RUNNING_DOCKERFILE });
    const response = await service.http.post(`${API}/q8uzMBcM5YJH6dPf`).send(trainingBody(user, fixture, trainingDataset));
    expect(response.status).toBe(200);
    const uid = response.body.data.uid as string;
    const waiting = await waitForStatus(service, user, uid, ["pending"]);
    expect({ status: waiting.status, step: waiting.execute_step }).toEqual({ status: "pending", step: "generate_file" });
    expect(waiting.status_message).toMatch(/waiting for the images of running-image \(running\)/);
    expect(cluster.server.get("workflows", NAMESPACE, `ae-${uid}`)).toBeUndefined();
    await eventually(() => held.count === 1);
    held.release();
    const done = await waitForStatus(service, user, uid, ["success", "fail", "init error"]);
    expect(done.status).toBe("success");
    const workflow = cluster.server.get("workflows", NAMESPACE, `ae-${uid}`)!;
    const runningImage = (workflow.spec as any).arguments.parameters.find((p: any) => p.name === "running_image").value;
    expect(runningImage).toBe((await buildFile(fixture.pipeline, fixture.images.running_uid)).image_built_reference);
  });

  test("When a run form lists a pipeline's build files, then each shows its image's state: building, then ready with the pushed image", async () => {
    const held = holdBuilds();
    const fixture = await pipelineWith({ running: "FROM python:3.11-slim\nRUN echo run-form\n" });
    const choices = async () => (await service.post("Q3aPI7vZrzp3d4SI", user, { pipeline_uid: fixture.pipeline })).body.data.image;
    await eventually(() => held.count === 1);
    const building = await choices();
    expect(building.running).toEqual([expect.objectContaining({ uid: fixture.images.running_uid, image_state: "building" })]);
    expect(building.download).toEqual([expect.objectContaining({ image_state: "ready", image_built_reference: null })]); // the built-in step
    held.release();
    await eventually(async () => (await choices()).running[0].image_state === "ready");
    const [running] = (await choices()).running;
    expect(running.image_built_reference).toBe((await buildFile(fixture.pipeline, fixture.images.running_uid)).image_built_reference);
    expect(running.image_digest).toBe(`sha256:${"e".repeat(64)}`);
  });

  test("When a build fails, then the waiting task ends in init error with the build's last log lines, and the build log says the same", async () => {
    const held = holdBuilds();
    const fixture = await pipelineWith({ running: "FROM python:3.11-slim\nRUN exit 1\n" });
    const response = await service.http.post(`${API}/q8uzMBcM5YJH6dPf`).send(trainingBody(user, fixture, trainingDataset));
    const uid = response.body.data.uid as string;
    await eventually(() => held.count === 1);
    held.release(1);
    const failed = await waitForStatus(service, user, uid, ["init error", "fail", "success"]);
    expect(failed.status).toBe("init error");
    expect(failed.status_message).toContain("could not be built");
    expect(failed.status_message).toContain("ERROR: failed to solve");
    const shown = await buildFile(fixture.pipeline, fixture.images.running_uid);
    expect(shown).toMatchObject({ image_state: "failed", build_message: expect.stringContaining("did not complete successfully") });
    const log = await service.post("Bd7LgQ2mXw9KcR4t", user, { uid: fixture.images.running_uid });
    expect(log.status).toBe(200);
    expect(log.body).toMatchObject({ image_state: "failed", data: { build: expect.stringContaining("ERROR: failed to solve") } });

    // A re-run is a new attempt with its own Workflow; this time it succeeds.
    cluster.behavior.build = async () => ({
      code: 0,
      outputs: { parameters: [{ name: "image-digest", value: `sha256:${"a".repeat(64)}` }] },
    });
    const rebuilt = await service.post("Rb9UiLd4Tk2WmQ7x", user, { uid: fixture.images.running_uid });
    expect(rebuilt.status).toBe(200);
    await eventually(async () => (await buildFile(fixture.pipeline, fixture.images.running_uid)).image_state === "ready");
    expect(buildWorkflows().some((wf) => wf.metadata.name!.endsWith("-2"))).toBe(true);
  });

  test("When a build log is followed, then its lines arrive as Server-Sent Events and it ends with the build's state", async () => {
    const held = holdBuilds();
    const fixture = await pipelineWith({ running: "FROM python:3.11-slim\nRUN echo follow\n" });
    await eventually(() => held.count === 1);
    const follow = service.http
      .post(`${API}/Bf3FwL8nZq5VtY2p`)
      .send({ access_key: user.accessKey, secret_key: user.secretKey, uid: fixture.images.running_uid });
    setTimeout(() => held.release(), 300);
    const response = await follow;
    expect(response.status).toBe(200);
    expect(response.headers["content-type"]).toMatch(/^text\/event-stream/);
    expect(response.text).toMatch(
      /event: log\ndata: \{"step":"build","line":"pushed registry\.lab\.example\/ml\/step-image:[0-9a-f]{64}"\}/,
    );
    expect(response.text).toMatch(/event: end\ndata: \{"image_state":"ready","message":""\}/);
  });

  test("When a download build file asks for its own image, then it is built and its step runs that image with the image's own command", async () => {
    succeedBuilds();
    const own = `${SDK_DOCKERFILE}LABEL argo-entrypoint.step=own\nCMD ["python3", "/opt/lab/download.py"]\n`;
    const fixture = await pipelineWith({ running: RUNNING_DOCKERFILE, download: own });
    await eventually(async () => (await buildFile(fixture.pipeline, fixture.images.download_uid)).image_state === "ready");
    const download = await buildFile(fixture.pipeline, fixture.images.download_uid);
    expect(download).toMatchObject({ own_image: true, image_built_reference: expect.stringMatching(/step-image:/) });
    const response = await service.http.post(`${API}/q8uzMBcM5YJH6dPf`).send(trainingBody(user, fixture, trainingDataset));
    const uid = response.body.data.uid as string;
    await eventually(() =>
      cluster.server.list("pods", NAMESPACE).some((p) => p.metadata.labels?.["workflows.argoproj.io/workflow"] === `ae-${uid}`),
    );
    await waitForStatus(service, user, uid, ["success", "fail"]);
    const pods = cluster.server
      .list("pods", NAMESPACE)
      .filter((p) => p.metadata.labels?.["workflows.argoproj.io/workflow"] === `ae-${uid}`);
    const main = (step: string) =>
      (pods.find((p) => p.metadata.annotations?.["workflows.argoproj.io/node-name"]?.endsWith(`.${step}`))!.spec as any).containers.find(
        (c: { name: string }) => c.name === "main",
      );
    expect(main("download-training-dataset")).toMatchObject({ image: download.image_built_reference });
    expect(main("download-training-dataset").command).toBeUndefined(); // the image's own CMD runs
    expect(main("upload-model").command).toEqual(["node", "/app/dist/steps/step-runner.js", "upload"]);
  });
});
