/** Tb7oRgW2kQ9xLm4s: an organization's tasks, filtered and paged, newest first by default. */
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import {
  preprocessingBody,
  registerPipeline,
  registerProject,
  registerTrainingDataset,
  startListeningService,
  trainingBody,
  waitForStatus,
} from "../support/task-fixture.js";
import type { TestService, TestUser } from "../support/test-service.js";

const LIST = "Tb7oRgW2kQ9xLm4s";
const WRITES_OUTPUT = 'touch "$OUTPUTS_DIR/$OUTPUT_FILE_NAME"\n';

describe("The organization-wide task list", () => {
  let running: { service: TestService; close(): Promise<void> };
  let service: TestService;
  let user: TestUser;
  let colleague: TestUser;
  let stranger: TestUser;
  let admin: TestUser;
  let good: string;
  let failing: string;
  let preprocessing: string;
  /** Oldest first: preprocessing (success), training (success), training (fail), training by the colleague (success). */
  const uids: string[] = [];

  beforeAll(async () => {
    running = await startListeningService({ LOCAL_CONCURRENCY: "2" });
    service = running.service;
    user = await service.user({ organization: "lab" });
    colleague = await service.user({ organization: "lab" });
    stranger = await service.user({ organization: "elsewhere" });
    admin = await service.user({ organization: "ops", role: "admin" });
    const project = await registerProject(service, user);
    const dataset = await registerTrainingDataset(service, user, project.project);
    const pipeline = (type: string, program: string) =>
      registerPipeline(service, user, project.application, { type, program, extension: "sh", config: {} });
    const [pre, ok, bad] = [
      await pipeline("preprocessing", WRITES_OUTPUT),
      await pipeline("training", WRITES_OUTPUT),
      await pipeline("training", "exit 4\n"),
    ];
    good = ok.pipeline;
    failing = bad.pipeline;
    preprocessing = pre.pipeline;
    const submit = async (who: TestUser, body: Record<string, unknown>) => {
      const response = await service.post(body.dataset_name ? "jPqyAFWh7hBKRRNK" : "q8uzMBcM5YJH6dPf", who, body);
      expect(response.status).toBe(200);
      uids.push(response.body.data.uid);
      await waitForStatus(service, who, response.body.data.uid, ["success", "fail"]);
    };
    await submit(user, preprocessingBody(user, pre, project.originalDataset));
    await submit(user, trainingBody(user, ok, dataset));
    await submit(user, trainingBody(user, bad, dataset));
    await submit(colleague, trainingBody(colleague, ok, dataset));
  });

  afterAll(async () => {
    await running.close();
  });

  const list = (who: TestUser, body: Record<string, unknown> = {}) => service.post(LIST, who, body);
  const uidsOf = (response: { body: { data: Array<{ uid: string }> } }) => response.body.data.map((t) => t.uid);

  test("When a member lists the organization's tasks, then every pipeline's and every member's come back, newest first", async () => {
    const response = await list(user);
    expect(response.status).toBe(200);
    expect(uidsOf(response)).toEqual([...uids].reverse());
    expect(response.body.data[0]).toMatchObject({ uid: uids[3], type: "training", status: "success" });
    expect(uidsOf(await list(user, { order: "oldest" }))).toEqual(uids);
  });

  test("When another organization lists its tasks, then it sees none of these; naming this organization or its pipeline is a 404", async () => {
    expect(uidsOf(await list(stranger))).toEqual([]);
    const named = await list(stranger, { f_organization_uid: user.organizationUid });
    expect({ status: named.status, detail: named.body.detail }).toEqual({ status: 404, detail: expect.stringMatching(/organization/) });
    expect((await list(stranger, { f_pipeline_uid: good })).status).toBe(404);
    expect((await list(stranger, { f_created_by_uid: user.userUid })).status).toBe(404);
  });

  test("When filtered by status, type, pipeline, creator or time, then only the matching tasks come back", async () => {
    expect(uidsOf(await list(user, { status: ["fail"] }))).toEqual([uids[2]]);
    expect(uidsOf(await list(user, { status: ["success", "fail"], type: ["preprocessing"] }))).toEqual([uids[0]]);
    expect(uidsOf(await list(user, { f_pipeline_uid: good }))).toEqual([uids[3], uids[1]]);
    expect(uidsOf(await list(user, { f_pipeline_uid: failing, status: ["success"] }))).toEqual([]);
    expect(uidsOf(await list(user, { f_created_by_uid: colleague.userUid }))).toEqual([uids[3]]);
    const tasks = (await list(user, { order: "oldest" })).body.data as Array<{ created_time: string }>;
    const third = tasks[2]!.created_time;
    expect(uidsOf(await list(user, { since: third, order: "oldest" }))).toEqual(uids.slice(2));
    expect(uidsOf(await list(user, { until: third, order: "oldest" }))).toEqual(uids.slice(0, 2));
    expect(uidsOf(await list(user, { f_pipeline_uid: preprocessing, type: ["training"] }))).toEqual([]);
  });

  test("When paged, then next_cursor walks the list in its order without gaps or repeats", async () => {
    for (const order of ["newest", "oldest"]) {
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const response = await list(user, { order, limit: 1, ...(cursor ? { cursor } : {}) });
        expect(response.status).toBe(200);
        seen.push(...uidsOf(response));
        cursor = response.body.next_cursor;
      } while (cursor);
      expect(seen).toEqual(order === "newest" ? [...uids].reverse() : uids);
    }
  });

  test("When a filter value is unknown, then the answer is a 400 that names the field, never an ignored filter", async () => {
    for (const [body, field] of [
      [{ status: ["done"] }, "status"],
      [{ status: "fail" }, "status"],
      [{ type: ["deploy"] }, "type"],
      [{ order: "random" }, "order"],
      [{ since: "yesterday" }, "since"],
      [{ f_pipeline_uid: "not-a-uid" }, "f_pipeline_uid"],
      [{ colour: "red" }, "colour"],
    ] as const) {
      const response = await list(user, body);
      expect({ field, status: response.status, names: JSON.stringify(response.body).includes(field) }).toEqual({
        field,
        status: 400,
        names: true,
      });
    }
  });

  test("When an admin lists without an organization, then every organization's tasks come back; naming one narrows it", async () => {
    expect(uidsOf(await list(admin))).toEqual(expect.arrayContaining(uids));
    expect(uidsOf(await list(admin, { f_organization_uid: user.organizationUid }))).toEqual([...uids].reverse());
    expect(uidsOf(await list(admin, { f_organization_uid: admin.organizationUid }))).toEqual([]);
  });
});
