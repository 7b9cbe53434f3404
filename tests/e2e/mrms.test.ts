/** The MRMS API (seed 000) with its parameter names and plain answers, against a running service on the local engine. */
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import {
  registerPipeline,
  registerProject,
  registerTrainingDataset,
  startListeningService,
  trainingBody,
  waitForStatus,
} from "../support/task-fixture.js";
import type { TestService, TestUser } from "../support/test-service.js";

/** A training program that reports to MRMS as an MLPS worker did: eps, cpu, then the final result. */
const MRMS_PROGRAM = `
import json, os, urllib.error, urllib.request
def mrms(path, body):
    request = urllib.request.Request(os.environ["ARGO_ENTRYPOINT_URL"] + path, data=json.dumps(body).encode(),
        headers={"Authorization": "Bearer " + os.environ["TASK_TOKEN"], "Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request) as response:
        return response.read().decode()
hist_no = os.environ["TASK_UID"]
for eps in (120.5, 130.25):
    print("eps", mrms("/mrms/eps_update", {"eps": str(eps), "hist_no": hist_no}), flush=True)
print("cpu", mrms("/mrms/model_resources", {"learn_hist_no": hist_no, "cpu": {"percent": "87.5"}}), flush=True)
result = {"loss": 0.40, "accuracy": 0.88, "val_loss": 0.32, "val_accuracy": 0.91, "step": 1}
print("result", mrms("/mrms/learn_result_update", {"result": json.dumps(result), "hist_no": hist_no}), flush=True)
try:
    mrms("/mrms/learn_result_update", {"result": "{not json", "hist_no": hist_no})
except urllib.error.HTTPError as error:
    print("broken result", error.code, error.read().decode(), flush=True)
open(os.path.join(os.environ["OUTPUTS_DIR"], os.environ["OUTPUT_FILE_NAME"]), "w").write("weights")
`;

describe("The MRMS API", () => {
  let running: Awaited<ReturnType<typeof startListeningService>>;
  let service: TestService;
  let user: TestUser;
  let project: { project: string; application: string };
  let histNo: string;
  const as = () => ({ "X-Access-Key": user.accessKey, "X-Secret-Key": user.secretKey });
  const get = (path: string, query: Record<string, string>) => service.http.get(path).query(query).set(as());

  beforeAll(async () => {
    running = await startListeningService();
    service = running.service;
    user = await service.user({ organization: "mrms-lab" });
    project = await registerProject(service, user);
    const dataset = await registerTrainingDataset(service, user, project.project);
    const pipeline = await registerPipeline(service, user, project.application, {
      type: "training",
      program: MRMS_PROGRAM,
      extension: "py",
      config: {},
    });
    const submitted = await service.post("q8uzMBcM5YJH6dPf", user, trainingBody(user, pipeline, dataset));
    histNo = submitted.body.data.uid;
    const done = await waitForStatus(service, user, histNo, ["success", "fail"], 60_000);
    expect({ status: done.status, message: done.status_message }).toEqual({ status: "success", message: "" });
  });
  afterAll(() => running.close());

  test('When a worker reports eps, resources and its result, then each call answers "1" and the history and result are kept', async () => {
    const logs = (await service.post("bJ7xLmgp4WSWK498", user, { task_uid: histNo })).body.data.training as string;
    expect(logs).toContain("eps 1\neps 1\ncpu 1\nresult 1\n");
    expect(logs).toContain("broken result 400 error\n");
    const history = await service.post("Mh7tQx2LpV9kRz4n", user, { task_uid: histNo });
    const byKey = (key: string) =>
      history.body.data.filter((p: { key: string }) => p.key === key).map((p: { step: number; value: number }) => [p.step, p.value]);
    expect(byKey("eps")).toEqual([
      [0, 120.5],
      [1, 130.25],
    ]);
    expect(byKey("cpu_percent")).toEqual([[0, 87.5]]);
    expect(byKey("val_accuracy")).toEqual([[1, 0.91]]);
    const info = (await service.post("KlnZtRyqy3rPAZWL", user, { uid: histNo })).body.data;
    expect(info.metrics).toMatchObject({ accuracy: 0.88, loss: 0.4 });
    // What the worker reported beside what the local engine measured of its processes.
    expect(info.resource_usage.reported).toEqual({ cpu_percent: 87.5 });
    const measured = info.resource_usage.measured.training;
    expect(measured).toEqual({
      durationSeconds: expect.any(Number),
      cpuUserSeconds: expect.any(Number),
      cpuSystemSeconds: expect.any(Number),
    });
    expect(measured.cpuUserSeconds + measured.cpuSystemSeconds).toBeGreaterThan(0);
    expect(measured.cpuUserSeconds + measured.cpuSystemSeconds).toBeLessThan(measured.durationSeconds * 2 + 0.1);
  });

  test("When the reads are called with MRMS's parameters, then they answer its plain values", async () => {
    expect((await service.http.post("/mrms/get_sttus_cd").set(as()).send({ hist_no: histNo })).text).toBe("6");
    expect((await get("/mrms/get_project_id", { hist_no: histNo })).text).toBe(project.project);
    expect(JSON.parse((await get("/mrms/get_histno_status", { project_id: project.project })).text)).toEqual([
      { learn_hist_no: histNo, learn_sttus_cd: "6" },
    ]);
    const logs = JSON.parse((await get("/mrms/get_learn_logs", { id: histNo, tail: "true" })).text);
    expect(Object.keys(logs)).toEqual(expect.arrayContaining(["training"]));
    expect(logs.training).toContain("result 1");
    expect((await service.http.get("/mrms/get_uuid")).text).toMatch(/^[0-9a-f-]{36}$/);
  });

  test("When a model is aliased, bookmarked and selected through MRMS, then models info shows it and the model downloads", async () => {
    const info = async () => JSON.parse((await get("/mrms/get_models_info", { project_id: project.project })).text)[0];
    expect(await info()).toMatchObject({ learn_hist_no: histNo, learn_sttus_cd: "6", bookmark_yn: "N", select_yn: "N", model_alias: "" });
    expect(
      (await service.http.post("/mrms/model_alias_update").set(as()).send({ learn_hist_no: histNo, model_alias: "champion" })).text,
    ).toBe("1");
    expect((await get("/mrms/bookmark_update", { bookmarkYN: "Y", learn_hist_no: histNo })).text).toBe("1");
    expect((await get("/mrms/update_model_select", { learn_hist_no: histNo, project_id: project.project })).text).toBe("1");
    expect(await info()).toMatchObject({
      bookmark_yn: "Y",
      select_yn: "Y",
      model_alias: "champion",
      start_time: expect.stringMatching(/^\d{14}$/),
    });
    const file = await get("/mrms/model_download", { learn_hist_no: histNo }).buffer(true);
    expect({ status: file.status, body: file.body.toString() }).toEqual({ status: 200, body: "weights" });
  });

  test('When a call is wrong, then it answers "error" with the right status and the detail in a header', async () => {
    const unknown = await service.http.post("/mrms/get_sttus_cd").set(as()).send({ hist_no: "0b6d7d62-3c3c-4c1e-9a1c-7b7b2c1f0e11" });
    expect({ status: unknown.status, text: unknown.text }).toEqual({ status: 404, text: "error" });
    const flag = await get("/mrms/bookmark_update", { bookmarkYN: "maybe", learn_hist_no: histNo });
    expect({ status: flag.status, detail: decodeURIComponent(String(flag.headers["x-error-detail"])) }).toEqual({
      status: 400,
      detail: expect.stringContaining("bookmarkYN"),
    });
    const step = await service.http
      .post("/mrms/eps_update")
      .set("Authorization", "Bearer not-the-token")
      .send({ eps: "1", hist_no: histNo });
    expect({ status: step.status, text: step.text }).toEqual({ status: 401, text: "error" });
    expect((await service.http.get("/mrms/get_histno_status").query({ project_id: project.project })).status).toBe(401);
  });
});
