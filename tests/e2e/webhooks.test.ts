/** Webhooks: signed deliveries of task status changes to a local receiver, through a real service on the local engine. */
import { createHmac } from "node:crypto";
import http, { type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { createTestDatabase } from "../support/test-database.js";
import {
  registerPipeline,
  registerProject,
  registerTrainingDataset,
  startListeningService,
  trainingBody,
  waitForStatus,
} from "../support/task-fixture.js";
import type { TestService, TestUser } from "../support/test-service.js";

const WEBHOOK_ENV = {
  WEBHOOK_POLL_MS: "50",
  WEBHOOK_RETRY_BASE_MS: "100",
  WEBHOOK_RETRY_MAX_MS: "400",
  WEBHOOK_MAX_ATTEMPTS: "4",
  WEBHOOK_DISABLE_AFTER_FAILURES: "6",
};

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  answered?: number;
}

/** A webhook endpoint on loopback; `answer` decides each request's status (and may hold it). */
async function startReceiver() {
  const received: Received[] = [];
  let answer: (request: Received) => number | Promise<number> = () => 200;
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const entry: Received = { path: request.url ?? "", headers: request.headers, body: Buffer.concat(chunks).toString("utf8") };
      received.push(entry);
      void Promise.resolve(answer(entry)).then((status) => {
        entry.answered = status;
        response.writeHead(status).end();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    received,
    url: (path: string) => `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`,
    answerWith(next: typeof answer) {
      answer = next;
    },
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(resolve))),
  };
}

/** The documented check: HMAC-SHA256 of "<t>.<raw body>" keyed by the secret, hex, in `v1`. */
function verifySignature(header: string, body: string, secret: string): boolean {
  const parts = Object.fromEntries(header.split(",").map((part) => part.split("=") as [string, string]));
  const expected = createHmac("sha256", secret).update(`${parts.t}.${body}`).digest("hex");
  return parts.v1 === expected && Math.abs(Date.now() / 1000 - Number(parts.t)) < 300;
}

async function until<T>(read: () => T | undefined | Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** An organization with a member who runs training tasks that succeed. */
async function organizationWithPipeline(service: TestService, organization: string) {
  const member = await service.user({ organization });
  const project = await registerProject(service, member);
  const dataset = await registerTrainingDataset(service, member, project.project);
  const pipeline = await registerPipeline(service, member, project.application, {
    type: "training",
    program: 'echo "epoch 1"\ntouch "$OUTPUTS_DIR/$OUTPUT_FILE_NAME"\n',
    extension: "sh",
    config: {},
  });
  return {
    member,
    /** The task's status history as webhook event names, oldest first. */
    async history(taskUid: string, via: TestService = service): Promise<string[]> {
      const info = await via.post("KlnZtRyqy3rPAZWL", member, { uid: taskUid });
      return info.body.data.history.map((h: { status: string }) => `task.${h.status.replace(" ", "_")}`);
    },
    async runTask(): Promise<string> {
      const submitted = await service.post("q8uzMBcM5YJH6dPf", member, trainingBody(member, pipeline, dataset));
      expect(submitted.status).toBe(200);
      const uid = submitted.body.data.uid as string;
      await waitForStatus(service, member, uid, ["success"]);
      return uid;
    },
  };
}

const eventsOf = (received: Received[], taskUid: string) =>
  received.map((r) => JSON.parse(r.body)).filter((delivery) => delivery.data.task_uid === taskUid);

/**
 * Waits until `deliveries` holds as many as the finished task has events. Deliveries go out side
 * by side, so the success may arrive before an earlier event: it does not mark the last one.
 */
const everyEventOf = (
  lab: Awaited<ReturnType<typeof organizationWithPipeline>>,
  taskUid: string,
  deliveries: () => Array<{ event: string; event_id: number; data: Record<string, unknown> }>,
  via?: TestService,
) =>
  until(async () => {
    const history = await lab.history(taskUid, via);
    const found = deliveries();
    return history.includes("task.success") && found.length >= history.length ? found : undefined;
  }, `every event of task ${taskUid}`);

describe("Webhooks", () => {
  let running: Awaited<ReturnType<typeof startListeningService>>;
  let service: TestService;
  let admin: TestUser;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const register = (organizationUid: string, path: string, extra: Record<string, unknown> = {}) =>
    service.post("Wh3kQz8NcR1vTb6m", admin, { f_organization_uid: organizationUid, url: receiver.url(path), ...extra });

  beforeAll(async () => {
    receiver = await startReceiver();
    running = await startListeningService(WEBHOOK_ENV);
    service = running.service;
    admin = await service.user({ organization: "operations", role: "admin" });
  });

  afterAll(async () => {
    await running.close();
    await receiver.close();
  });

  test("When a task runs, then each of its status changes arrives once, signed with the documented scheme", async () => {
    const lab = await organizationWithPipeline(service, "signed-lab");
    const created = await register(lab.member.organizationUid, "/signed");
    expect(created.status).toBe(200);
    const { secret, uid } = created.body.data;
    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    expect(created.body.data).toMatchObject({ events: ["task.*"], enabled: true, f_organization_uid: lab.member.organizationUid });

    const taskUid = await lab.runTask();
    const deliveries = await everyEventOf(lab, taskUid, () => eventsOf(receiver.received, taskUid));
    // Deliveries go out side by side, so they may arrive in any order; event_id orders them.
    deliveries.sort((a, b) => a.event_id - b.event_id);
    expect(deliveries.map((d) => d.event)).toEqual(await lab.history(taskUid));
    expect(deliveries.map((d) => d.event)).toEqual(expect.arrayContaining(["task.init", "task.pending", "task.running", "task.success"]));
    expect(new Set(deliveries.map((d) => d.event_id)).size).toBe(deliveries.length);
    expect(deliveries.at(-1)?.data).toMatchObject({ task_uid: taskUid, type: "training", status: "success" });
    for (const request of receiver.received.filter((r) => r.path === "/signed")) {
      expect(request.headers["x-entrypoint-event"]).toBe(JSON.parse(request.body).event);
      expect(verifySignature(String(request.headers["x-entrypoint-signature"]), request.body, secret)).toBe(true);
      expect(verifySignature(String(request.headers["x-entrypoint-signature"]), request.body, "another-secret-of-32-characters")).toBe(
        false,
      );
    }

    const listed = await service.post("Wh7pLs2XgD9yFa4e", admin, { f_organization_uid: lab.member.organizationUid });
    expect(listed.body.data).toEqual([expect.objectContaining({ uid, url: receiver.url("/signed") })]);
    expect(JSON.stringify(listed.body)).not.toContain(secret);
    expect(service.logs.join("")).not.toContain(secret);
  });

  test("When the receiver answers 500 twice, then the delivery is retried with the same body and recorded with its outcome", async () => {
    const lab = await organizationWithPipeline(service, "retry-lab");
    const hook = (await register(lab.member.organizationUid, "/flaky", { events: ["task.success"] })).body.data;
    let failuresLeft = 2;
    receiver.answerWith((request) => (request.path === "/flaky" && failuresLeft-- > 0 ? 500 : 200));
    const taskUid = await lab.runTask();
    const attempts = await until(() => {
      const found = receiver.received.filter((r) => r.path === "/flaky");
      return found.some((r) => r.answered === 200) ? found : undefined;
    }, "a successful attempt");
    expect(attempts.map((r) => r.answered)).toEqual([500, 500, 200]);
    expect(new Set(attempts.map((r) => r.body)).size).toBe(1);
    expect(new Set(attempts.map((r) => r.headers["x-entrypoint-delivery"])).size).toBe(1);
    expect(JSON.parse(attempts[0]!.body)).toMatchObject({ event: "task.success", data: { task_uid: taskUid } });

    const deliveries = await service.post("Wh9cBv4NzQ7kLm1r", admin, { webhook_uid: hook.uid });
    expect(deliveries.status).toBe(200);
    expect(deliveries.body.data).toEqual([
      expect.objectContaining({ event: "task.success", status: "delivered", attempts: 3, last_status_code: 200, last_error: "" }),
    ]);
    receiver.answerWith(() => 200);
  });

  test("When an endpoint keeps failing, then it is disabled after the limit; enabling it again restarts it", async () => {
    const lab = await organizationWithPipeline(service, "down-lab");
    const hook = (await register(lab.member.organizationUid, "/down")).body.data;
    receiver.answerWith((request) => (request.path === "/down" ? 503 : 200));
    await lab.runTask();
    const disabled = await until(async () => {
      const listed = await service.post("Wh7pLs2XgD9yFa4e", admin, { f_organization_uid: lab.member.organizationUid });
      const [webhook] = listed.body.data;
      return webhook.enabled ? undefined : webhook;
    }, "the webhook to be disabled");
    // Attempts under way when the limit is reached still count.
    expect(disabled.consecutive_failures).toBeGreaterThanOrEqual(6);
    expect(disabled.disabled_time).toEqual(expect.any(String));
    const failed = await service.post("Wh9cBv4NzQ7kLm1r", admin, { webhook_uid: hook.uid });
    expect(failed.body.data.every((d: { last_status_code: number }) => d.last_status_code === 503)).toBe(true);

    receiver.answerWith(() => 200);
    const enabled = await service.post("Wh5rMn1VbK8uJc3q", admin, { webhook_uid: hook.uid, enabled: true });
    expect(enabled.body.data).toMatchObject({ enabled: true, consecutive_failures: 0, disabled_time: null });
    await until(async () => {
      const pending = await service.post("Wh9cBv4NzQ7kLm1r", admin, { webhook_uid: hook.uid, status: "pending" });
      return pending.body.data.length === 0 ? true : undefined;
    }, "the pending deliveries to go out");
  });

  test("When the receiver is slow, then tasks still run at their own pace and the deliveries follow", async () => {
    const lab = await organizationWithPipeline(service, "slow-lab");
    await register(lab.member.organizationUid, "/slow");
    let release!: () => void;
    const gate = new Promise<number>((resolve) => (release = () => resolve(200)));
    receiver.answerWith((request) => (request.path === "/slow" ? gate : 200));
    await lab.runTask();
    await until(() => (receiver.received.some((r) => r.path === "/slow") ? true : undefined), "a held delivery");
    const taskUid = await lab.runTask(); // runs while the receiver holds every delivery the relay sends
    const held = receiver.received.filter((r) => r.path === "/slow");
    expect(held.every((r) => r.answered === undefined)).toBe(true);
    release();
    await until(() => (eventsOf(receiver.received, taskUid).some((d) => d.event === "task.success") ? true : undefined), "success");
    receiver.answerWith(() => 200);
  });

  test("When a member or a bad body manages webhooks, then it is refused and the field is named", async () => {
    const member = await service.user({ organization: "signed-lab" });
    const refused = await service.post("Wh3kQz8NcR1vTb6m", member, { f_organization_uid: member.organizationUid, url: receiver.url("/x") });
    expect(refused.status).toBe(403);
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ url: "ftp://example.org/hook" }, "url"],
      [{ url: "http://user:pass@example.org/hook" }, "url"],
      [{ url: receiver.url("/x"), events: ["task.done"] }, "events"],
      [{ url: receiver.url("/x"), secret: "short" }, "secret"],
      [{ url: receiver.url("/x"), colour: "blue" }, "colour"],
    ];
    for (const [body, field] of cases) {
      const response = await service.post("Wh3kQz8NcR1vTb6m", admin, { f_organization_uid: member.organizationUid, ...body });
      expect({ status: response.status, detail: response.body.detail }).toEqual({ status: 400, detail: expect.stringContaining(field) });
    }
    const missing = await service.post("Wh5rMn1VbK8uJc3q", admin, { webhook_uid: "00000000-0000-4000-8000-000000000000" });
    expect(missing.status).toBe(404);
  });
});

describe("Webhooks across a restart", () => {
  test("When the service restarts with deliveries outstanding, then each event is delivered exactly once", async () => {
    const database = await createTestDatabase();
    const receiver = await startReceiver();
    receiver.answerWith(() => 500);
    const env = { ...WEBHOOK_ENV, WEBHOOK_MAX_ATTEMPTS: "50", WEBHOOK_DISABLE_AFTER_FAILURES: "1000", DATABASE_URL: database.url };
    let running = await startListeningService(env);
    try {
      const admin = await running.service.user({ organization: "operations", role: "admin" });
      const lab = await organizationWithPipeline(running.service, "restart-lab");
      const created = await running.service.post("Wh3kQz8NcR1vTb6m", admin, {
        f_organization_uid: lab.member.organizationUid,
        url: receiver.url("/restart"),
      });
      const taskUid = await lab.runTask();
      await until(() => (receiver.received.length > 0 ? true : undefined), "a first attempt");
      await running.close();

      receiver.answerWith(() => 200);
      running = await startListeningService(env);
      const delivered = await everyEventOf(
        lab,
        taskUid,
        () => receiver.received.filter((r) => r.answered === 200).map((r) => JSON.parse(r.body)),
        running.service,
      );
      await new Promise((resolve) => setTimeout(resolve, 500)); // any duplicate would come within a few looks
      const okAgain = receiver.received.filter((r) => r.answered === 200).map((r) => JSON.parse(r.body));
      expect(okAgain).toHaveLength(delivered.length);
      expect(okAgain.map((d) => d.event).sort()).toEqual((await lab.history(taskUid, running.service)).sort());
      expect(new Set(okAgain.map((d) => d.event_id)).size).toBe(okAgain.length);
      expect(okAgain.every((d) => d.data.task_uid === taskUid)).toBe(true);
      const records = await running.service.post("Wh9cBv4NzQ7kLm1r", admin, { webhook_uid: created.body.data.uid });
      expect(records.body.data).toHaveLength(okAgain.length);
      expect(records.body.data.every((d: { status: string }) => d.status === "delivered")).toBe(true);
    } finally {
      await running.close();
      await receiver.close();
      await database.drop();
    }
  });
});
