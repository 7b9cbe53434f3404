/** MRMS's projects, a worker's status and time reports, and insert_learn_hist, against a running service on the local engine. */
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

/** A worker that reports its learning to MRMS: started (5) with its times, a loss, then done (6), or an error (7) or nothing while it holds, as its config says. */
const REPORTING_PROGRAM = `
import json, os, urllib.request
def mrms(path, body):
    request = urllib.request.Request(os.environ["ARGO_ENTRYPOINT_URL"] + path, data=json.dumps(body).encode(),
        headers={"Authorization": "Bearer " + os.environ["TASK_TOKEN"], "Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request) as response:
        return response.read().decode()
config = json.loads(os.environ["TASK_CONFIG"])
hist_no = os.environ["TASK_UID"]
print("start", mrms("/mrms/time_update", {"type": "start", "curr_time": "20211014170532", "hist_no": hist_no}), flush=True)
print("learning", mrms("/mrms/status_update/learn", {"hist_no": hist_no, "task_idx": "0", "sttus_cd": "5", "message": "-"}), flush=True)
print("result", mrms("/mrms/learn_result_update", {"result": json.dumps({"loss": config["loss"], "step": 1}), "hist_no": hist_no}), flush=True)
if config.get("fail"):
    print("error", mrms("/mrms/status_update/learn", {"hist_no": hist_no, "task_idx": "1", "sttus_cd": "7", "message": "CUDA out of memory"}), flush=True)
if config.get("fail") or config.get("hold"):
    import time; time.sleep(60)
print("end", mrms("/mrms/time_update", {"type": "end", "curr_time": "20211015170532", "hist_no": hist_no}), flush=True)
print("done", mrms("/mrms/status_update/learn", {"hist_no": hist_no, "task_idx": "0", "sttus_cd": "6", "message": "-"}), flush=True)
open(os.path.join(os.environ["OUTPUTS_DIR"], os.environ["OUTPUT_FILE_NAME"]), "w").write("weights")
`;

describe("MRMS projects and learning reports", () => {
  let running: Awaited<ReturnType<typeof startListeningService>>;
  let service: TestService;
  let user: TestUser;
  let stranger: TestUser;
  let project: { project: string; application: string };
  let dataset: string;
  const as = (who: TestUser = user) => ({ "X-Access-Key": who.accessKey, "X-Secret-Key": who.secretKey });
  const get = (path: string, query: Record<string, string | readonly string[]>, who: TestUser = user) =>
    service.http.get(path).query(query).set(as(who));
  const post = (path: string, body: Record<string, unknown>, headers: Record<string, string> = as()) =>
    service.http.post(path).set(headers).send(body);
  const uuid = async () => (await service.http.get("/mrms/get_uuid")).text;
  const detail = (response: { headers: Record<string, unknown> }) => decodeURIComponent(String(response.headers["x-error-detail"]));
  const pipelineWith = (config: Record<string, unknown>): Promise<PipelineFixture> =>
    registerPipeline(service, user, project.application, { type: "training", program: REPORTING_PROGRAM, extension: "py", config });
  const projectBody = (projectId: string, extra: Record<string, unknown> = {}) => ({
    project_id: projectId,
    project_purpose_cd: "1",
    dataset_id: "ds-42",
    status: "1",
    start_time: "20211014170532",
    modeling_mode: "1",
    tag: "vision,baseline",
    ...extra,
  });

  beforeAll(async () => {
    running = await startListeningService();
    service = running.service;
    user = await service.user({ organization: "mrms-projects" });
    stranger = await service.user({ organization: "mrms-elsewhere" });
    project = await registerProject(service, user);
    dataset = await registerTrainingDataset(service, user, project.project);
  });
  afterAll(() => running.close());

  test("When a project is created and its status moves, then MRMS's reads answer its codes and times", async () => {
    const projectId = await uuid();
    expect((await post("/mrms/project_create", projectBody(projectId))).text).toBe("1");
    expect((await get("/mrms/get_proj_sttus_cd", { project_id: projectId })).text).toBe("1");
    expect((await post("/mrms/update_projects_status", { project_id: projectId, status: "7" })).text).toBe("1");
    expect((await get("/mrms/get_proj_sttus_cd", { project_id: projectId })).text).toBe("7");
    const info = JSON.parse((await get("/mrms/get_projects_info", {})).text) as Array<Record<string, string>>;
    expect(info.find((p) => p.project_id === projectId)).toEqual({
      project_id: projectId,
      project_purpose_cd: "1",
      data_analysis_id: "ds-42",
      status: "7",
      start_time: "20211014170532",
      end_time: expect.stringMatching(/^\d{14}$/),
      modeling_mode: "1",
      tag: "vision,baseline",
    });
    // It is a project of ours too, in the caller's organization.
    const listed = await service.post("a75vPQAyPqVGFwiZ", user, { f_organization_uid: user.organizationUid });
    expect(listed.status).toBe(200);
    expect(JSON.stringify(listed.body.data)).toContain(projectId);
  });

  test("When a project's profile is set through our own key, then MRMS reads it, and an unknown project is named", async () => {
    const set = await service.post("Pp1sEt5PrF7xQz2m", user, {
      project_uid: project.project,
      purpose_code: "10",
      status_code: "6",
      early_stop_param: { early_type: "2", early_key: "accuracy", early_value: 0.99 },
      tags: ["trend"],
    });
    expect(set.body.data).toMatchObject({ status_code: "6", early_stop: { type: "max", key: "accuracy", value: 0.99, minSteps: 0 } });
    expect((await get("/mrms/get_proj_sttus_cd", { project_id: project.project })).text).toBe("6");
    expect((await service.post("Pp2gEt9PrF3wRt6n", user, { project_uid: project.project })).body.data.tags).toEqual(["trend"]);
    const unknown = await service.post("Pp1sEt5PrF7xQz2m", user, { project_uid: await uuid(), purpose_code: "1", status_code: "1" });
    expect({ status: unknown.status, fields: unknown.body.errors.map((e: { field: string }) => e.field) }).toEqual({
      status: 404,
      fields: ["project_uid"],
    });
    const elsewhere = await service.post("Pp2gEt9PrF3wRt6n", stranger, { project_uid: project.project });
    expect(elsewhere.status).toBe(404);
    await post("/mrms/project_create", projectBody(project.project));
  });

  test("When another organization names a project, then it is not found and its id cannot be taken", async () => {
    const projectId = await uuid();
    await post("/mrms/project_create", projectBody(projectId));
    const status = await get("/mrms/get_proj_sttus_cd", { project_id: projectId }, stranger);
    expect({ status: status.status, text: status.text }).toEqual({ status: 404, text: "error" });
    const update = await post("/mrms/update_projects_status", { project_id: projectId, status: "2" }, as(stranger));
    expect(update.status).toBe(404);
    const taken = await post("/mrms/project_create", projectBody(projectId), as(stranger));
    expect({ status: taken.status, detail: detail(taken) }).toEqual({ status: 409, detail: expect.stringContaining("is taken") });
    expect(JSON.parse((await get("/mrms/get_projects_info", {}, stranger)).text)).toEqual([]);
    expect((await get("/mrms/get_proj_sttus_cd", { project_id: projectId })).text).toBe("1");
  });

  test("When the projects are asked a page at a time, then each page follows the last by X-Next-Cursor, oldest first, and a bad limit or cursor is a 400 naming it", async () => {
    const reader = await service.user({ organization: "paged-projects" });
    const created: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      created.push(await uuid());
      expect((await post("/mrms/project_create", projectBody(created[i]!), as(reader))).text).toBe("1");
    }
    const ids = (response: { text: string }) => (JSON.parse(response.text) as Array<{ project_id: string }>).map((p) => p.project_id);
    const first = await get("/mrms/get_projects_info", { limit: "2" }, reader);
    expect(ids(first)).toHaveLength(2);
    const cursor = first.headers["x-next-cursor"] as string;
    expect(cursor).toEqual(expect.any(String));
    const rest = await get("/mrms/get_projects_info", { limit: "2", cursor }, reader);
    expect(ids(rest)).toHaveLength(1);
    expect(rest.headers["x-next-cursor"]).toBeUndefined();
    // Without a limit, the whole (short) list in the same order, and nothing after it.
    const whole = await get("/mrms/get_projects_info", {}, reader);
    expect({ ids: ids(whole), next: whole.headers["x-next-cursor"] }).toEqual({ ids: [...ids(first), ...ids(rest)], next: undefined });
    expect([...ids(whole)].sort()).toEqual([...created].sort());
    for (const [query, field] of [
      [{ limit: "0" }, "limit"],
      [{ limit: "1001" }, "limit"],
      [{ cursor: "not-ours" }, "cursor"],
      // Repeated in the query string, each arrives as a list.
      [{ limit: ["1", "2"] }, "limit"],
      [{ cursor: [cursor, cursor] }, "cursor"],
    ] as const) {
      const refused = await get("/mrms/get_projects_info", query, reader);
      expect({ status: refused.status, text: refused.text, detail: detail(refused) }).toEqual({
        status: 400,
        text: "error",
        detail: expect.stringContaining(field),
      });
    }
  });

  test("When a project of ours is described to MRMS after newer ones, then the list keeps the projects' order", async () => {
    const owner = await service.user({ organization: "ordered-projects" });
    const older = (await service.post("9Q1lCs56iud4oPcS", owner, { name: "older", description: "" })).body.data.uid as string;
    const newer = await uuid();
    expect((await post("/mrms/project_create", projectBody(newer), as(owner))).text).toBe("1");
    const ids = async () =>
      (JSON.parse((await get("/mrms/get_projects_info", {}, owner)).text) as Array<{ project_id: string }>).map((p) => p.project_id);
    expect(await ids()).toEqual([newer]); // ours is not an MRMS project until it is described
    expect((await post("/mrms/project_create", projectBody(older), as(owner))).text).toBe("1");
    expect(await ids()).toEqual([older, newer]);
  });

  test("When a project body is wrong, then the answer is a 400 naming the field and nothing is created", async () => {
    const projectId = await uuid();
    const cases: Array<[Record<string, unknown>, string]> = [
      [projectBody(projectId, { status: "12" }), "status"],
      [projectBody(projectId, { start_time: "2021-10-14" }), "start_time"],
      [projectBody(projectId, { early_stop_param: "{not json" }), "early_stop_param"],
      [
        projectBody(projectId, { early_stop_param: JSON.stringify({ early_type: "9", early_key: "loss", early_value: 1 }) }),
        "early_stop_param",
      ],
      [projectBody("not-a-uuid"), "project_id"],
      [projectBody(projectId, { owner: "me" }), "owner"],
    ];
    for (const [body, field] of cases) {
      const refused = await post("/mrms/project_create", body);
      expect({ field, status: refused.status, text: refused.text, detail: detail(refused) }).toEqual({
        field,
        status: 400,
        text: "error",
        detail: expect.stringContaining(field),
      });
    }
    expect((await get("/mrms/get_proj_sttus_cd", { project_id: projectId })).status).toBe(404);
  });

  test("When an API key calls beyond its purpose, then MRMS refuses it", async () => {
    const read = (await service.post("Ak3yMn7QpL2xWz9c", user, { name: "reader", purpose: "read" })).body.data.key as string;
    const refused = await post("/mrms/project_create", projectBody(await uuid()), { "x-api-key": read });
    expect({ status: refused.status, detail: detail(refused) }).toEqual({ status: 403, detail: expect.stringContaining("needs submit") });
    expect((await get("/mrms/get_projects_info", {}).set({ "x-api-key": read })).status).toBe(200);
  });

  test("When a project sets an early-stop rule, then its tasks inherit it and it fires on their reports", async () => {
    const rule = { early_type: "1", early_key: "loss", early_value: 0.5, minsteps: 0 };
    expect((await post("/mrms/project_create", projectBody(project.project, { early_stop_param: JSON.stringify(rule) }))).text).toBe("1");
    const pipeline = await pipelineWith({ loss: 0.3, hold: true });
    const submitted = await service.post("q8uzMBcM5YJH6dPf", user, trainingBody(user, pipeline, dataset));
    const done = await waitForStatus(service, user, submitted.body.data.uid, ["success", "fail"], 60_000);
    expect(done.early_stop).toMatchObject({ rule: { type: "min", key: "loss", value: 0.5 }, fired: { step: 1, value: 0.3 } });
    expect(done.status).toBe("fail");
    await post("/mrms/project_create", projectBody(project.project));
  });

  test("When a worker reports its status and times, then task info and models info show them beside the engine's", async () => {
    const pipeline = await pipelineWith({ loss: 0.9 });
    const submitted = await service.post("q8uzMBcM5YJH6dPf", user, trainingBody(user, pipeline, dataset));
    const done = await waitForStatus(service, user, submitted.body.data.uid, ["success", "fail"], 60_000);
    expect({ status: done.status, reported: done.reported }).toEqual({
      status: "success",
      reported: { status: { code: "6", worker: "0", message: "-" }, start_time: "20211014170532", end_time: "20211015170532" },
    });
    const models = JSON.parse((await get("/mrms/get_models_info", { project_id: project.project, learn_hist_no: done.uid })).text);
    expect(models[0]).toMatchObject({ start_time: "20211014170532", end_time: "20211015170532", learn_sttus_cd: "6" });
  });

  test("When a worker reports a learning error, then the run is stopped with its message", async () => {
    const pipeline = await pipelineWith({ loss: 0.9, fail: true });
    const submitted = await service.post("q8uzMBcM5YJH6dPf", user, trainingBody(user, pipeline, dataset));
    const done = await waitForStatus(service, user, submitted.body.data.uid, ["success", "fail"], 60_000);
    expect(done.status).toBe("fail");
    expect(done.reported.status).toEqual({ code: "7", worker: "1", message: "CUDA out of memory" });
    expect(done.history.map((h: { message: string }) => h.message)).toContain("worker 1 reported a learning error: CUDA out of memory");
    expect((await post("/mrms/get_sttus_cd", { hist_no: done.uid })).text).toBe("7");
  });

  test("When a report is malformed or its credential wrong, then it is refused naming the field", async () => {
    const pipeline = await pipelineWith({ loss: 0.9 });
    const submitted = await service.post("q8uzMBcM5YJH6dPf", user, trainingBody(user, pipeline, dataset));
    const uid = submitted.body.data.uid as string;
    const wrongToken = await post(
      "/mrms/time_update",
      { type: "start", curr_time: "20211014170532", hist_no: uid },
      { Authorization: "Bearer x" },
    );
    expect(wrongToken.status).toBe(401);
    const noToken = await post("/mrms/status_update/learn", { hist_no: uid, task_idx: "0", sttus_cd: "5", message: "-" }, {});
    expect(noToken.status).toBe(401);
    const badCode = await post(
      "/mrms/status_update/learn",
      { hist_no: uid, task_idx: "0", sttus_cd: "3", message: "-" },
      { Authorization: "Bearer x" },
    );
    expect({ status: badCode.status, detail: detail(badCode) }).toEqual({ status: 400, detail: expect.stringContaining("sttus_cd") });
    await waitForStatus(service, user, uid, ["success", "fail"], 60_000);
  });

  test("When HPRS inserts a learning history, then it runs as a training task under that number", async () => {
    const pipeline = await pipelineWith({ loss: 0.7 });
    const histNo = await uuid();
    const body = {
      learn_hist_no: histNo,
      param_id: pipeline.config,
      alg_anal_id: "analysis-1",
      alg_id: pipeline.pipeline,
      dp_analysis_id: dataset,
      project_id: project.project,
      learn_sttus_cd: "5",
      start_time: "20211014170532",
    };
    expect((await post("/mrms/insert_learn_hist", body)).text).toBe("1");
    const done = await waitForStatus(service, user, histNo, ["success", "fail"], 60_000);
    expect({ status: done.status, type: done.type, pipeline: done.f_pipeline_uid }).toEqual({
      status: "success",
      type: "training",
      pipeline: pipeline.pipeline,
    });
    expect((await post("/mrms/get_sttus_cd", { hist_no: histNo })).text).toBe("6");
    const again = await post("/mrms/insert_learn_hist", body);
    expect(again.status).toBe(409);
    const elsewhere = await post("/mrms/insert_learn_hist", { ...body, learn_hist_no: await uuid() }, as(stranger));
    expect({ status: elsewhere.status, detail: detail(elsewhere) }).toEqual({ status: 404, detail: expect.stringContaining("pipeline") });
    const wrongProject = await post("/mrms/insert_learn_hist", { ...body, learn_hist_no: await uuid(), project_id: await uuid() });
    expect({ status: wrongProject.status, detail: detail(wrongProject) }).toEqual({
      status: 400,
      detail: expect.stringContaining("project_id"),
    });
  });
});
