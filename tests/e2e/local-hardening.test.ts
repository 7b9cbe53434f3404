import path from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { loadConfig } from "../../src/config/config.js";
import { buildContainer } from "../../src/container.js";
import { createLogger } from "../../src/logging/logger.js";
import { upload } from "../support/registry-fixture.js";
import {
  example,
  registerPipeline,
  registerProject,
  startListeningService,
  trainingBody,
  waitForStatus,
  type PipelineFixture,
} from "../support/task-fixture.js";
import { API, type TestService, type TestUser } from "../support/test-service.js";

const MAX_UPLOAD = 1024 * 1024;

/** A training program that probes what it can reach, prints the findings as one JSON line, and writes a model. */
const PROBE = String.raw`
import glob, json, os
cfg = json.load(open(os.environ["CONFIG_FILE"]))
found = {}
for name, target in cfg["probe"].items():
    try:
        os.listdir(target) if os.path.isdir(target) else open(target, "rb").read(1)
        found[name] = "read"
    except Exception:
        found[name] = "denied"
mine = os.environ["TASK_UID"]
others = 0
for env in glob.glob("/proc/*/environ"):
    try:
        data = open(env, "rb").read()
    except Exception:
        continue
    for item in data.split(b"\0"):
        if item.startswith(b"TASK_UID=") and item[9:].decode() != mine:
            others += 1
found["other_tasks_environ"] = others
found["service_environment"] = "DATABASE_URL" in os.environ or "FILES_DIR" in os.environ
print("PROBE " + json.dumps(found), flush=True)
open(os.path.join(os.environ["OUTPUTS_DIR"], os.environ["OUTPUT_FILE_NAME"]), "wb").write(b"model")
`;

describe("Local steps are confined and their outputs checked", () => {
  let running: { service: TestService; url: string; close(): Promise<void> };
  let service: TestService;
  let user: TestUser;
  let project: { project: string; application: string; originalDataset: string };
  let trainingDataset: string;

  const pipeline = (program: string, config: Record<string, unknown>, extension = "py"): Promise<PipelineFixture> =>
    registerPipeline(service, user, project.application, { type: "training", program, extension, config });
  const run = async (fixture: PipelineFixture) => {
    const response = await service.http.post(`${API}/q8uzMBcM5YJH6dPf`).send(trainingBody(user, fixture, trainingDataset));
    expect(response.status).toBe(200);
    return response.body.data as { uid: string; model_uid: string };
  };
  const logOf = async (taskUid: string, step: string) =>
    (await service.post("bJ7xLmgp4WSWK498", user, { task_uid: taskUid })).body.data[step] as string;

  beforeAll(async () => {
    running = await startListeningService({ LOCAL_CONCURRENCY: "2", MAX_UPLOAD_BYTES: String(MAX_UPLOAD), LOCAL_SANDBOX: "require" });
    service = running.service;
    user = await service.user();
    project = await registerProject(service, user);
    const dataset = await upload(
      service,
      "OFbaCJE62lcPVbZj",
      user,
      { name: "train", type: "training", f_project_uid: project.project, extension: "zip" },
      { content: example("dataset.zip"), name: "d.zip" },
    );
    trainingDataset = dataset.body.data.uid;
  });
  afterAll(() => running.close());

  test("When a program looks for the database, the stored files, other tasks and their processes, then it finds none of them", async () => {
    expect((service.container.engine as { sandboxKind?: string }).sandboxKind).toBe("bubblewrap");
    const sleeper = await run(
      await pipeline("sleep 6\necho '{}' > /dev/null\nprintf model > \"$OUTPUTS_DIR/$OUTPUT_FILE_NAME\"\n", {}, "sh"),
    );
    await waitForStatus(service, user, sleeper.uid, ["running"]);
    const workDir = service.config.local.workDir;
    const probe: Record<string, string> = {
      files: service.filesDir,
      work: workDir,
      other_task: path.join(workDir, sleeper.uid),
      service_source: path.resolve("src"),
    };
    if (service.config.database.url.startsWith("file:")) probe.database = service.config.database.url.slice("file:".length);
    const prober = await run(await pipeline(PROBE, { probe }));
    const done = await waitForStatus(service, user, prober.uid, ["success", "fail"]);
    expect(done.status).toBe("success");
    const line = (await logOf(prober.uid, "training")).split("\n").find((l) => l.startsWith("PROBE "))!;
    const found = JSON.parse(line.slice("PROBE ".length)) as Record<string, unknown>;
    expect(found).toEqual({
      ...Object.fromEntries(Object.keys(probe).map((k) => [k, "denied"])),
      other_tasks_environ: 0,
      service_environment: false,
    });
    await waitForStatus(service, user, sleeper.uid, ["success"]);
  });

  test("When a program writes its output as a symbolic link (to the database), then the upload refuses it and the task fails", async () => {
    const target = service.config.database.url.startsWith("file:") ? service.config.database.url.slice("file:".length) : "/etc/passwd";
    const linker = await pipeline(
      `import json, os\nos.symlink(${JSON.stringify(target)}, os.path.join(os.environ["OUTPUTS_DIR"], os.environ["OUTPUT_FILE_NAME"]))\n`,
      {},
    );
    const task = await run(linker);
    const done = await waitForStatus(service, user, task.uid, ["success", "fail"]);
    expect(done.status).toBe("fail");
    expect(done.status_message).toMatch(/symbolic link/);
    const model = await service.container.db.models.find(task.model_uid);
    expect(model?.fileUid).toBeNull();
  });

  test("When a step's output is exactly MAX_UPLOAD_BYTES, then the step API stores it; one byte more fails the upload with 413", async () => {
    const exact = await run(await pipeline(`head -c ${MAX_UPLOAD} /dev/zero > "$OUTPUTS_DIR/$OUTPUT_FILE_NAME"\n`, {}, "sh"));
    expect((await waitForStatus(service, user, exact.uid, ["success", "fail"])).status).toBe("success");
    const over = await run(await pipeline(`head -c ${MAX_UPLOAD + 1} /dev/zero > "$OUTPUTS_DIR/$OUTPUT_FILE_NAME"\n`, {}, "sh"));
    const failed = await waitForStatus(service, user, over.uid, ["success", "fail"]);
    expect(failed.status).toBe("fail");
    expect(await logOf(over.uid, "upload_model")).toMatch(/HTTP 413/);
  });

  test("When an output arrives after its task ended, then it is refused and never linked", async () => {
    const task = await run(await pipeline("sleep 30\n", {}, "sh"));
    await waitForStatus(service, user, task.uid, ["running"]);
    const snapshot = (await service.container.db.tasks.find(task.uid))!;
    expect((await service.post("Xq7TnR2vKp9LmW4c", user, { uid: task.uid })).status).toBe(200);
    await waitForStatus(service, user, task.uid, ["fail"]);
    const staged = await service.container.objects.stage(Readable.from([Buffer.from("late")]));
    await expect(service.container.steps.storeOutput(snapshot, staged)).rejects.toThrow(/has ended/);
    await staged.discard();
    expect((await service.container.db.models.find(task.model_uid))?.fileUid).toBeNull();
  });

  test("When a second service starts on the same work directory, then it refuses with a clear message and the first keeps working", async () => {
    const config = loadConfig({
      ...process.env,
      DATABASE_URL: service.config.database.url,
      FILES_DIR: service.filesDir,
      WORK_DIR: service.config.local.workDir,
      BCRYPT_COST: "4",
    });
    await expect(buildContainer(config, { logger: createLogger("silent") })).rejects.toThrow(
      /is in use by another argo-entrypoint \(pid \d+\)/,
    );
    expect((await service.post("mGlkFLqgBQgNRvU3", user, { uid: user.organizationUid })).status).toBe(200);
  });
});
