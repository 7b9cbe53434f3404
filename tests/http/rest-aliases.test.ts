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

  test("When every REST alias is called, then it answers as its original key does for the same body", async () => {
    const admin = await service.user({ organization: "rest-ops", role: "admin" });
    const { access_key: _a, secret_key: _s, ...run } = trainingBody(user, pipeline, dataset);
    const task = (await post("/tasks/training", run)).body.data;
    await waitForStatus(service, user, task.uid, ["success"]);
    const hook = (await post("/webhooks", { f_organization_uid: user.organizationUid, url: "http://127.0.0.1:9/h" }, admin)).body.data;
    const profiled = await post(`/projects/${project.project}/profile`, { purpose_code: "1", status_code: "3", tags: ["rest"] });
    expect({ status: profiled.status, tags: profiled.body.data.tags }).toEqual({ status: 200, tags: ["rest"] });
    const withoutRequestId = (body: Record<string, unknown>) => ({ ...body, request_id: undefined });
    const strip = (text: string) => text.replace(/"time":"[^"]*"/g, "");
    // [method, REST path, original key, the original's body, who]
    const reads: Array<[string, string, string, Record<string, unknown>, TestUser?]> = [
      ["get", `/tasks?type=training&limit=3`, "Tb7oRgW2kQ9xLm4s", { type: ["training"], limit: 3 }],
      ["get", `/tasks/${task.uid}`, "KlnZtRyqy3rPAZWL", { uid: task.uid }],
      ["get", `/tasks/${task.uid}/logs`, "bJ7xLmgp4WSWK498", { task_uid: task.uid }],
      ["get", `/tasks/${task.uid}/logs?follow=true&step=training`, "Fw3lGz8Kc1VbN6mQ", { task_uid: task.uid, step: "training" }],
      ["get", `/tasks/${task.uid}/logs/archive`, "Lg7dWnQ2xR5tYp8k", { task_uid: task.uid }],
      ["get", `/tasks/${task.uid}/events`, "Ts5pWq8LmN3vXc2z", { task_uid: task.uid }],
      ["get", `/models/${task.model_uid}/file`, "TTiue1sygXrsm0YS", { uid: task.model_uid }],
      ["get", `/datasets/${dataset}/file`, "TTiue1sygXrsm0YS", { uid: dataset }],
      ["get", `/organizations/${user.organizationUid}`, "mGlkFLqgBQgNRvU3", { uid: user.organizationUid }],
      ["get", `/organizations/${user.organizationUid}/projects`, "a75vPQAyPqVGFwiZ", { f_organization_uid: user.organizationUid }],
      ["get", `/organizations/${user.organizationUid}/agents`, "R1hgr6B6u4JIv5Ru", { f_organization_uid: user.organizationUid }],
      ["get", `/projects/${project.project}/applications`, "A19MSnNoF8p36XHn", { f_project_uid: project.project }],
      ["get", `/projects/${project.project}/datasets`, "MyC2aIHtzkZJrEGi", { f_project_uid: project.project }],
      ["get", `/applications/${project.application}/pipelines`, "VytZbpzyI9fFWkM6", { f_application_uid: project.application }],
      ["get", `/applications/${project.application}/datasets`, "1sphuopUuLnIqoPU", { f_application_uid: project.application }],
      ["get", `/applications/${project.application}/models`, "EU2X3oWVHQiEoYBi", { f_application_uid: project.application }],
      ["get", `/pipelines/${pipeline.pipeline}`, "owbCDAJ9rJW2AEO5", { uid: pipeline.pipeline }],
      ["get", `/pipelines/${pipeline.pipeline}/configs`, "NVVJBLsdkIjTLB2P", { f_pipeline_uid: pipeline.pipeline }],
      ["get", `/pipelines/${pipeline.pipeline}/build-files`, "eu4oNOb8E0KVaOdo", { f_pipeline_uid: pipeline.pipeline }],
      ["get", `/pipelines/${pipeline.pipeline}/tasks`, "s8i1TNiTXwwv02mv", { f_pipeline_uid: pipeline.pipeline }],
      [
        "get",
        `/webhooks?f_organization_uid=${user.organizationUid}`,
        "Wh7pLs2XgD9yFa4e",
        { f_organization_uid: user.organizationUid },
        admin,
      ],
      ["get", `/webhooks/${hook.uid}/deliveries`, "Wh9cBv4NzQ7kLm1r", { webhook_uid: hook.uid }, admin],
      ["get", `/audit?subject_uid=${task.uid}`, "Au4dTq7LmZ2xRk9w", { subject_uid: task.uid }, admin],
      ["get", `/api-keys`, "Ak8sLt4VbN1qRe6d", {}],
      ["get", `/tasks/${task.uid}/metrics`, "Mh7tQx2LpV9kRz4n", { task_uid: task.uid }],
      ["get", `/models/${task.model_uid}/lineage`, "Ma7lNg5MoU2wQa1g", { model_uid: task.model_uid }],
      ["get", `/datasets/${dataset}/tasks`, "Ma8dSu3DaI6eWs9h", { dataset_uid: dataset }],
      ["get", `/applications/${project.application}/alias-moves`, "Ma4hSt6AlR1iOp3d", { f_application_uid: project.application }],
      ["get", `/projects/${project.project}/profile`, "Pp2gEt9PrF3wRt6n", { project_uid: project.project }],
    ];
    const covered = new Set<string>();
    for (const [method, path, key, body, who = user] of reads) {
      const rest = await service.http
        .get(`/api/v1${path}`)
        .set(as(who))
        .buffer(true)
        .parse((res, done) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () => done(null, Buffer.concat(chunks)));
        });
      const byKey = await service.http
        .post(`/api/v1.2.4/entrypoint/Router/parse/${key}`)
        .set(as(who))
        .send(body)
        .buffer(true)
        .parse((res, done) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () => done(null, Buffer.concat(chunks)));
        });
      const seen = (response: typeof rest) => {
        const text = (response.body as Buffer).toString("latin1");
        const type = String(response.headers["content-type"]);
        if (type.startsWith("application/json")) return withoutRequestId(JSON.parse(text));
        if (type.startsWith("application/gzip")) return `gzip ${text.length > 20}`;
        return strip(text);
      };
      expect({ path, status: rest.status, answer: seen(rest) }).toEqual({ path, status: byKey.status, answer: seen(byKey) });
      covered.add(`${method} ${path.split("?")[0]!.replace(/[0-9a-f-]{36}/g, "{uid}")}${path.includes("follow=true") ? "?follow" : ""}`);
    }
    // The writes are exercised above (submit, stop, retry, resubmit, delete) and here; every declared alias is covered.
    expect((await service.http.patch(`/api/v1/tasks/${task.uid}`).set(as(user)).send({ name: "renamed" })).body.data.name).toBe("renamed");
    expect((await post("/projects", { name: "by-rest", description: "" })).status).toBe(201);
    expect((await service.http.patch(`/api/v1/webhooks/${hook.uid}`).set(as(admin)).send({ enabled: false })).body.data.enabled).toBe(
      false,
    );
    expect((await service.http.delete(`/api/v1/webhooks/${hook.uid}`).set(as(admin))).status).toBe(200);
    // The model registry's writes, and the alias read (its path holds the alias, not a uid).
    expect((await post(`/models/${task.model_uid}/aliases`, { alias: "champion" })).body.data.alias).toBe("champion");
    const resolved = await get(`/applications/${project.application}/aliases/champion`);
    expect(resolved.body).toEqual((await original("Ma3rSv8AlE2uPq5c", { f_application_uid: project.application, alias: "champion" })).body);
    expect((await post(`/models/${task.model_uid}/select`)).body.data.alias).toBe("selected");
    expect((await post(`/models/${task.model_uid}/bookmark`, { bookmarked: true })).body.data.bookmarked).toBe(true);
    expect((await service.http.delete(`/api/v1/applications/${project.application}/aliases/champion`).set(as(user))).status).toBe(200);
    const minted = await post("/api-keys", { name: "by-rest", purpose: "read" });
    expect({ status: minted.status, key: minted.body.data.key }).toEqual({ status: 201, key: expect.stringMatching(/^aek_/) });
    const revoked = await service.http.delete(`/api/v1/api-keys/${minted.body.data.uid}`).set(as(user));
    expect(revoked.body.data.revoked_time).toEqual(expect.any(String));
    // Bodies the use case refuses: the same refusal either way.
    const same = async (restPath: string, key: string, body: Record<string, unknown>) => {
      const rest = await post(restPath, body);
      const byKey = await original(key, body);
      expect({ restPath, status: rest.status, errors: rest.body.errors, detail: rest.body.detail }).toEqual({
        restPath,
        status: byKey.status,
        errors: byKey.body.errors,
        detail: byKey.body.detail,
      });
    };
    await same("/tasks/preprocessing", "jPqyAFWh7hBKRRNK", {});
    await same("/tasks/optimization", "Oi6u8dkur8GTKPxS", { ...run, type: "project" });
    await same("/tasks/evaluation", "u8Wo0fVM6pFEthFH", { ...run, model_uid: project.project });
    // No retrain ran in the application yet: nothing to repeat (the happy path: prediction-one-retrain.test.ts).
    await same(`/models/${task.model_uid}/retrain-jobs`, "Rj1cRt4JoB8yUv5k", { model_uid: task.model_uid });
    const ended = await post(`/tasks/${task.uid}/terminate`);
    expect({ status: ended.status, detail: ended.body.detail }).toEqual({
      status: 409,
      detail: (await original("Xq7TnR2vKp9LmW4c", { uid: task.uid })).body.detail,
    });
    const writes = [
      "post /models/{uid}/aliases",
      "get /applications/{uid}/aliases/{alias}",
      "post /models/{uid}/select",
      "post /models/{uid}/bookmark",
      "delete /applications/{uid}/aliases/{alias}",
      "post /api-keys",
      "delete /api-keys/{uid}",
      "patch /tasks/{uid}",
      "post /projects",
      "patch /webhooks/{uid}",
      "delete /webhooks/{uid}",
      "post /webhooks",
      "delete /tasks/{uid}",
      "post /projects/{uid}/profile",
      "get /organizations/{uid}/task-events", // a stream that never ends: status-stream.test.ts
      "post /models/{uid}/retrain-jobs",
    ];
    const kinds = ["preprocessing", "training", "optimization", "evaluation"].map((kind) => `post /tasks/${kind}`); // above
    const controls = ["stop", "terminate", "retry", "resubmit"].map((action) => `post /tasks/{uid}/${action}`);
    const declared = service.container.operations.flatMap((o) =>
      (o.rest ?? []).map((a) => `${a.method} ${a.path}${a.query ? "?follow" : ""}`),
    );
    for (const alias of declared)
      expect({ alias, covered: covered.has(alias) || [...writes, ...kinds, ...controls].includes(alias) }).toEqual({
        alias,
        covered: true,
      });
  });
});
