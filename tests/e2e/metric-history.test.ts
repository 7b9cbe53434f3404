/** Metric history and early stopping: a running step reports points through the step API on the local engine. */
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

/** A training program that reports loss = 1/(step+1) and accuracy per step, one report per step, then a batch too large. */
const REPORTING_PROGRAM = `
import json, os, sys, time, urllib.request, urllib.error
def report(points):
    request = urllib.request.Request(
        f"{os.environ['ARGO_ENTRYPOINT_URL']}/api/steps/v1/tasks/{os.environ['TASK_UID']}/metric-points",
        data=json.dumps({"points": points, "step_name": os.environ["STEP_NAME"]}).encode(),
        headers={"Authorization": "Bearer " + os.environ["TASK_TOKEN"], "Content-Type": "application/json"},
        method="POST")
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)
steps = int(json.loads(os.environ["TASK_CONFIG"]).get("steps", 10))
for step in range(steps):
    status, answer = report([{"key": "loss", "value": 1 / (step + 1), "step": step}, {"key": "accuracy", "value": step / steps, "step": step}])
    print(f"step {step}: {status}", flush=True)
    time.sleep(0.05)
status, answer = report([{"key": "loss", "value": 0.0, "step": 10_000 + i} for i in range(25)])
print(f"oversized: {status} {answer.get('detail')}", flush=True)
status, answer = report([None, 1, "loss"])
print(f"malformed: {status} {answer['errors'][0]['field']}", flush=True)
open(os.path.join(os.environ["OUTPUTS_DIR"], os.environ["OUTPUT_FILE_NAME"]), "w").write("weights")
`;

/** Reports one point and one final metric per thread, all at once: the updates of the task's summary and metrics race each other. */
const CONCURRENT_PROGRAM = `
import json, os, threading, urllib.request
def post(route, body):
    urllib.request.urlopen(urllib.request.Request(
        f"{os.environ['ARGO_ENTRYPOINT_URL']}/api/steps/v1/tasks/{os.environ['TASK_UID']}/{route}",
        data=json.dumps(body).encode(),
        headers={"Authorization": "Bearer " + os.environ["TASK_TOKEN"], "Content-Type": "application/json"},
        method="POST")).read()
def report(step):
    post("metric-points", {"points": [{"key": "loss", "value": 1 / (step + 1), "step": step}], "step_name": os.environ["STEP_NAME"]})
    post("metrics", {f"score_{step}": step})
threads = [threading.Thread(target=report, args=(step,)) for step in range(24)]
for thread in threads: thread.start()
for thread in threads: thread.join()
open(os.path.join(os.environ["OUTPUTS_DIR"], os.environ["OUTPUT_FILE_NAME"]), "w").write("weights")
`;

describe("Metric history and early stopping", () => {
  let running: Awaited<ReturnType<typeof startListeningService>>;
  let service: TestService;
  let user: TestUser;
  let run: (config: Record<string, unknown>, extra?: Record<string, unknown>, program?: string) => Promise<string>;

  beforeAll(async () => {
    running = await startListeningService({ METRIC_POINTS_PER_REPORT: "20" });
    service = running.service;
    user = await service.user();
    const project = await registerProject(service, user);
    const dataset = await registerTrainingDataset(service, user, project.project);
    run = async (config, extra = {}, program = REPORTING_PROGRAM) => {
      const pipeline = await registerPipeline(service, user, project.application, { type: "training", program, extension: "py", config });
      const submitted = await service.post("q8uzMBcM5YJH6dPf", user, { ...trainingBody(user, pipeline, dataset), ...extra });
      expect(submitted.status).toBe(200);
      return submitted.body.data.uid as string;
    };
  });
  afterAll(() => running.close());

  test("When a step reports its loss curve, then it comes back in step order, thinned on request, with latest and best in task info", async () => {
    const uid = await run({ steps: 12 });
    const done = await waitForStatus(service, user, uid, ["success", "fail"], 60_000);
    expect(done.status).toBe("success");
    const curve = await service.post("Mh7tQx2LpV9kRz4n", user, { task_uid: uid, key: "loss", after_step: -1, limit: 100 });
    expect(curve.status).toBe(200);
    const loss = curve.body.data.filter((p: { step: number }) => p.step < 10_000);
    expect(loss.map((p: { step: number }) => p.step)).toEqual([...Array(12).keys()]);
    // Doubles come back as the driver reads them (SQLite's text form keeps 15-17 significant digits).
    expect(loss.map((p: { value: number }) => p.value)).toEqual([...Array(12).keys()].map((s) => expect.closeTo(1 / (s + 1), 12)));
    expect(loss[0]).toMatchObject({ key: "loss", step_name: "training" });
    const thinned = await service.http
      .get(`/api/v1/tasks/${uid}/metrics?key=accuracy&max_points=4`)
      .set({ "X-Access-Key": user.accessKey, "X-Secret-Key": user.secretKey });
    expect(thinned.body.data.map((p: { step: number }) => p.step)).toEqual([2, 5, 8, 11]);
    expect(done.metric_summary.loss).toEqual({ count: 12, latest: { value: 1 / 12, step: 11 }, best: { value: 1 / 12, step: 11 } });
    expect(done.metric_summary.accuracy.best).toEqual({ value: 11 / 12, step: 11 });
    expect(done.early_stop).toBeNull();
    // The oversized report was refused as a whole, with a clear 413.
    const logs = await service.post("bJ7xLmgp4WSWK498", user, { task_uid: uid });
    expect(logs.body.data.training).toMatch(/oversized: 413 a report may carry at most 20 points/);
    expect(logs.body.data.training).toMatch(/malformed: 400 points\.0\n/);
  });

  test("When a step sends many reports at once, then the task keeps every one (no report's update is lost)", async () => {
    const uid = await run({}, {}, CONCURRENT_PROGRAM);
    const done = await waitForStatus(service, user, uid, ["success", "fail"], 60_000);
    expect(done.status).toBe("success");
    expect(done.metric_summary.loss).toEqual({ count: 24, latest: { value: 1 / 24, step: 23 }, best: { value: 1 / 24, step: 23 } });
    expect(Object.keys(done.metrics).filter((key) => key.startsWith("score_"))).toHaveLength(24);
  });

  test("When an early-stop rule is met, then the run is stopped and task info says which rule fired", async () => {
    const uid = await run({ steps: 200 }, { early_stop_param: { early_type: "1", early_key: "loss", early_value: 0.2, minsteps: 3 } });
    const done = await waitForStatus(service, user, uid, ["success", "fail"], 60_000);
    expect(done.early_stop).toEqual({
      rule: { type: "min", key: "loss", value: 0.2, minSteps: 3 },
      fired: {
        rule: { type: "min", key: "loss", value: 0.2, minSteps: 3 },
        step: 4,
        value: 0.2,
        message: "early stop: loss reached 0.2 at step 4 (at or below 0.2, after at least 3 steps)",
      },
    });
    expect(done.history.map((h: { message: string }) => h.message)).toContain(done.early_stop.fired.message);
    expect(done.metric_summary.loss.count).toBeLessThan(200);
  });

  test("When an early-stop rule is malformed, then the submission is refused naming the field", async () => {
    const refused = await service.post("q8uzMBcM5YJH6dPf", user, {
      ...trainingBody(user, { pipeline: "x", config: "x", images: { download_uid: "x", running_uid: "x", upload_uid: "x" } }, "x"),
      early_stop_param: { early_type: "sometimes", early_key: "loss", early_value: 0.2 },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.errors.map((e: { field: string }) => e.field)).toContain("early_stop_param.early_type");
  });
});
