/** The audit log: each audited action leaves one record with who did it, readable by admins (route and CLI). */
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { runCli } from "../../src/cli.js";
import {
  registerPipeline,
  registerProject,
  registerTrainingDataset,
  startListeningService,
  trainingBody,
  waitForStatus,
} from "../support/task-fixture.js";
import type { TestService, TestUser } from "../support/test-service.js";

describe("The audit log", () => {
  let running: Awaited<ReturnType<typeof startListeningService>>;
  let service: TestService;
  let admin: TestUser;
  let member: TestUser;
  const audit = (body: Record<string, unknown>) => service.post("Au4dTq7LmZ2xRk9w", admin, body);

  beforeAll(async () => {
    running = await startListeningService();
    service = running.service;
    admin = await service.user({ organization: "operations", role: "admin" });
    member = await service.user({ organization: "audited-lab" });
  });

  afterAll(() => running.close());

  test("When a task is submitted, stopped, resubmitted and deleted, then each action is one record naming who did it", async () => {
    const project = await registerProject(service, member);
    const dataset = await registerTrainingDataset(service, member, project.project);
    const pipeline = await registerPipeline(service, member, project.application, {
      type: "training",
      program: "sleep 30\n",
      extension: "sh",
      config: {},
    });
    const submitted = await service.post("q8uzMBcM5YJH6dPf", member, trainingBody(member, pipeline, dataset));
    const uid = submitted.body.data.uid as string;
    await waitForStatus(service, member, uid, ["running"]);
    expect((await service.post("CNNfUmDpcWXp7vdM", member, { task_uid: uid })).status).toBe(200);
    const stopped = await waitForStatus(service, member, uid, ["fail"]);
    expect(stopped.history.map((h: { message: string }) => h.message)).toContain(`stop requested by ${member.accessKey}`);
    const resubmitted = await service.post("Ms2kVf9LcX4nTj7e", member, { uid });
    expect(resubmitted.status).toBe(200);
    const copy = resubmitted.body.data.uid as string;
    await waitForStatus(service, member, copy, ["running"]);
    await service.post("Xq7TnR2vKp9LmW4c", member, { uid: copy });
    await waitForStatus(service, member, copy, ["fail"]);
    expect((await service.post("AoTqlTmu8l47CbMU", member, { uid })).status).toBe(200);

    const records = (await audit({ subject_uid: uid })).body.data;
    expect(records.map((r: { action: string }) => r.action)).toEqual(["task.submit", "task.stop", "task.delete"]);
    for (const record of records)
      expect(record).toMatchObject({
        actor_uid: member.userUid,
        actor_access_key: member.accessKey,
        f_organization_uid: member.organizationUid,
      });
    const copyRecords = (await audit({ subject_uid: copy })).body.data;
    expect(copyRecords.map((r: { action: string; details: unknown }) => [r.action, r.details])).toEqual([
      ["task.resubmit", { kind: "training", resubmitted_from: uid }],
      ["task.terminate", {}],
    ]);
  }, 60_000);

  test("When an admin changes a webhook and the admin CLI changes a user, then those are recorded too, and the CLI reads them", async () => {
    const hook = await service.post("Wh3kQz8NcR1vTb6m", admin, {
      f_organization_uid: member.organizationUid,
      url: "http://127.0.0.1:9/hook",
    });
    const webhookUid = hook.body.data.uid as string;
    await service.post("Wh5rMn1VbK8uJc3q", admin, { webhook_uid: webhookUid, enabled: false });
    await service.post("Wh2tGy6HsP0wEd9x", admin, { webhook_uid: webhookUid });
    const webhookRecords = (await audit({ subject_uid: webhookUid })).body.data;
    expect(webhookRecords.map((r: { action: string; actor_uid: string }) => [r.action, r.actor_uid])).toEqual([
      ["webhook.create", admin.userUid],
      ["webhook.update", admin.userUid],
      ["webhook.delete", admin.userUid],
    ]);
    expect(JSON.stringify(webhookRecords)).not.toContain(hook.body.data.secret);

    const lines: string[] = [];
    const cli = (...argv: string[]) =>
      runCli(argv, { DATABASE_URL: service.config.database.url, BCRYPT_COST: "4" }, (line) => lines.push(line));
    expect(await cli("user", "revoke", member.accessKey)).toBe(0);
    expect(await cli("user", "enable", member.accessKey)).toBe(0);
    const other = await service.user({ organization: "audited-lab" });
    expect(await cli("user", "rotate", other.accessKey)).toBe(0);
    expect(await cli("user", "unlock", other.accessKey)).toBe(0);
    lines.length = 0;
    expect(await cli("audit", "--subject", other.userUid)).toBe(0);
    expect((JSON.parse(lines.join("\n")) as Array<{ action: string }>).map((r) => r.action)).toEqual([
      "user.create",
      "user.rotate",
      "user.unlock",
    ]);
    lines.length = 0;
    expect(await cli("audit", "--subject", member.userUid)).toBe(0);
    const printed = JSON.parse(lines.join("\n")) as Array<{ action: string; actorUid: string }>;
    expect(printed.map((r) => [r.action, r.actorUid])).toEqual([
      ["user.create", "admin-cli"],
      ["user.revoke", "admin-cli"],
      ["user.enable", "admin-cli"],
    ]);
    expect(await cli("audit", "--action", "user.explode")).toBe(2);
  });

  test("When a failed task is retried, then the retry is recorded", async () => {
    const project = await registerProject(service, member);
    const dataset = await registerTrainingDataset(service, member, project.project);
    const failing = await registerPipeline(service, member, project.application, {
      type: "training",
      program: "exit 3\n",
      extension: "sh",
      config: {},
    });
    const uid = (await service.post("q8uzMBcM5YJH6dPf", member, trainingBody(member, failing, dataset))).body.data.uid as string;
    await waitForStatus(service, member, uid, ["fail"]);
    expect((await service.post("Rt5yHb8NqZ3wPd6s", member, { uid })).status).toBe(200);
    const records = (await audit({ subject_uid: uid })).body.data;
    expect(records.map((r: { action: string; actor_uid: string }) => [r.action, r.actor_uid])).toEqual([
      ["task.submit", member.userUid],
      ["task.retry", member.userUid],
    ]);
    await waitForStatus(service, member, uid, ["fail"]);
  });

  test("When a member asks for the audit log, then it is refused", async () => {
    expect((await service.post("Au4dTq7LmZ2xRk9w", member, {})).status).toBe(403);
    expect((await audit({ action: "task.explode" })).status).toBe(400);
  });
});
