/** Ts5pWq8LmN3vXc2z: status changes pushed as Server-Sent Events, resumable with Last-Event-ID (local engine). */
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { readSse, type ReadEvent } from "../support/sse.js";
import {
  registerPipeline,
  registerProject,
  registerTrainingDataset,
  startListeningService,
  trainingBody,
  waitForStatus,
  type PipelineFixture,
} from "../support/task-fixture.js";
import { API, type TestService, type TestUser } from "../support/test-service.js";

const STREAM = "Ts5pWq8LmN3vXc2z";

describe("The task status stream", () => {
  let running: { service: TestService; url: string; close(): Promise<void> };
  let service: TestService;
  let user: TestUser;
  let stranger: TestUser;
  let pipeline: PipelineFixture;
  let dataset: string;

  beforeAll(async () => {
    running = await startListeningService({ LOCAL_CONCURRENCY: "2", WEBHOOK_POLL_MS: "60000" }); // no webhook looks while statements are counted
    service = running.service;
    user = await service.user({ organization: "lab" });
    stranger = await service.user({ organization: "elsewhere" });
    const project = await registerProject(service, user);
    dataset = await registerTrainingDataset(service, user, project.project);
    pipeline = await registerPipeline(service, user, project.application, {
      type: "training",
      program: 'sleep 0.5\ntouch "$OUTPUTS_DIR/$OUTPUT_FILE_NAME"\n',
      extension: "sh",
      config: {},
    });
  });

  afterAll(async () => {
    await running.close();
  });

  const stream = (body: Record<string, unknown>, options: Parameters<typeof readSse>[2] = {}, who: TestUser = user) =>
    readSse(`${running.url}${API}/${STREAM}`, { access_key: who.accessKey, secret_key: who.secretKey, ...body }, options);
  const submit = async () => {
    const response = await service.post("q8uzMBcM5YJH6dPf", user, trainingBody(user, pipeline, dataset));
    expect(response.status).toBe(200);
    return response.body.data.uid as string;
  };
  const statuses = (events: ReadEvent[]) => events.filter((e) => e.event === "status").map((e) => e.data.status as string);

  test("When a client follows one task, then it gets the task's history and each change as it happens, with growing ids, then its end", async () => {
    const uid = await submit();
    const events = await stream({ task_uid: uid });
    const changes = events.filter((e) => e.event === "status");
    expect(changes[0]!.data).toMatchObject({ task_uid: uid, type: "training", status: "init", execute_step: "prepare_file" });
    expect(statuses(events)).toEqual(expect.arrayContaining(["init", "pending", "running", "success"]));
    const ids = changes.map((e) => Number(e.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(ids.length);
    expect(events.at(-1)).toEqual({ event: "end", data: { task_uid: uid, status: "success", execute_step: "run_task", message: "" } });
    // The stream carried exactly the history task info shows.
    const info = await waitForStatus(service, user, uid, ["success"]);
    expect(statuses(events)).toEqual(info.history.map((h: { status: string }) => h.status));
  });

  test("When an organization's stream drops and resumes with Last-Event-ID, then nothing is repeated or lost", async () => {
    const controller = new AbortController();
    const first = stream({}, { until: (events) => events.length >= 2, signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 200)); // the stream is open before the task exists
    const uid = await submit();
    const before = await first;
    controller.abort();
    expect(before.every((e) => e.data.task_uid === uid)).toBe(true);
    await waitForStatus(service, user, uid, ["success"]);
    const after = await stream(
      {},
      { headers: { "Last-Event-ID": before.at(-1)!.id! }, until: (events) => events.some((e) => e.data.status === "success") },
    );
    const info = await waitForStatus(service, user, uid, ["success"]);
    expect([...statuses(before), ...statuses(after)]).toEqual(info.history.map((h: { status: string }) => h.status));
    const ids = [...before, ...after].map((e) => Number(e.id));
    expect(new Set(ids).size).toBe(ids.length);
  });

  test("When the organization's stream is read at its REST alias with GET (a browser's EventSource), then it carries the task's changes", async () => {
    const headers = { "X-Access-Key": user.accessKey, "X-Secret-Key": user.secretKey };
    const controller = new AbortController();
    let uid = "";
    const reading = readSse(`${running.url}/api/v1/organizations/${user.organizationUid}/task-events`, null, {
      headers,
      signal: controller.signal,
      until: (events) => events.some((e) => e.data.task_uid === uid && e.data.status === "success"),
    });
    await new Promise((resolve) => setTimeout(resolve, 200)); // the stream is open before the task exists
    uid = await submit();
    const events = await reading;
    controller.abort();
    expect(statuses(events.filter((e) => e.data.task_uid === uid)).at(-1)).toBe("success");
    const refused = await fetch(`${running.url}/api/v1/organizations/${user.organizationUid}/task-events`, {
      headers: { "X-Access-Key": stranger.accessKey, "X-Secret-Key": stranger.secretKey },
    });
    expect(refused.status).toBe(404);
  });

  test("When another organization names the task or this organization, then 404; a malformed Last-Event-ID or both targets is a 400", async () => {
    const uid = await submit();
    const task = await service.post(STREAM, stranger, { task_uid: uid });
    expect({ status: task.status, detail: task.body.detail }).toEqual({ status: 404, detail: expect.stringMatching(/task/) });
    expect((await service.post(STREAM, stranger, { f_organization_uid: user.organizationUid })).status).toBe(404);
    const badHeader = await service.post(STREAM, user, { task_uid: uid }).set("Last-Event-ID", "yesterday");
    expect({ status: badHeader.status, names: JSON.stringify(badHeader.body).includes("Last-Event-ID") }).toEqual({
      status: 400,
      names: true,
    });
    const both = await service.post(STREAM, user, { task_uid: uid, f_organization_uid: user.organizationUid });
    expect(both.status).toBe(400);
    await waitForStatus(service, user, uid, ["success"]);
  });

  test("When the client goes away, then the stream stops reading the database", async () => {
    const controller = new AbortController();
    const open = stream({}, { signal: controller.signal }).catch(() => []);
    await new Promise((resolve) => setTimeout(resolve, 1200)); // a few polls
    controller.abort();
    await open;
    await new Promise((resolve) => setTimeout(resolve, 300));
    const settled = service.container.sqlStatements();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(service.container.sqlStatements()).toBe(settled);
  });
});
