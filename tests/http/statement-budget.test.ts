/**
 * The hot paths' SQL budget: a submission's accept path and an authenticated registry read,
 * counted statement by statement on the real database, so a regression fails CI.
 */
import { afterAll, beforeAll, describe, expect, jest, test } from "@jest/globals";
import { startTrainingWorld, trainingBody, waitForStatus } from "../support/task-fixture.js";

describe("SQL statements per request on the hot paths", () => {
  let world: Awaited<ReturnType<typeof startTrainingWorld>>;
  let service: typeof world.service;
  let user: typeof world.user;

  beforeAll(async () => {
    world = await startTrainingWorld({ LOCAL_CONCURRENCY: "1" });
    ({ service, user } = world);
  });

  afterAll(async () => {
    await world.running.close();
  });

  const statementsOf = async (request: () => PromiseLike<{ status: number }>) => {
    const before = service.container.sqlStatements();
    const response = await request();
    return { status: response.status, statements: service.container.sqlStatements() - before };
  };

  test("When a member lists projects with a credential the cache knows, then it costs at most 2 statements", async () => {
    const list = () => service.post("a75vPQAyPqVGFwiZ", user, { f_organization_uid: user.organizationUid });
    expect((await list()).status).toBe(200); // the credential is verified (bcrypt) and cached
    const { status, statements } = await statementsOf(list);
    expect(status).toBe(200);
    expect(statements).toBeLessThanOrEqual(2);
  });

  // One joined read, then the rows (model, task, event, audit; steps wait for the engine's first report)
  // in one write: on PostgreSQL one statement of chained INSERTs; on SQLite one transaction of four INSERTs, run in-process.
  const acceptBudget = process.env.TEST_DATABASE_URL ? 2 : 5;

  test(`When a training task is submitted with a cached credential, then the accept path costs at most ${acceptBudget} statements and the run starts after the answer`, async () => {
    await service.post("a75vPQAyPqVGFwiZ", user, { f_organization_uid: user.organizationUid }); // cache the credential
    // Hold the dispatch (which runs after the answer) so only the accept path is counted.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const dispatcher = service.container.dispatcher;
    const dispatch = dispatcher.dispatch.bind(dispatcher);
    const spy = jest.spyOn(dispatcher, "dispatch").mockImplementationOnce(async (...args) => (await held, dispatch(...args)));

    let counted: { status: number; statements: number };
    let uid: string;
    try {
      counted = await statementsOf(async () => {
        const response = await service.post("q8uzMBcM5YJH6dPf", user, trainingBody(user, world.training, world.dataset));
        uid = response.body.data?.uid as string;
        return response;
      });
      // Before the engine reports, task info shows the kind's three steps, pending, in order.
      const info = await service.post("KlnZtRyqy3rPAZWL", user, { uid: uid! });
      expect(info.body.data.steps.map((s: { name: string; sequence: string; phase: string }) => [s.sequence, s.phase])).toEqual([
        ["download", "Pending"],
        ["running", "Pending"],
        ["upload", "Pending"],
      ]);
    } finally {
      release();
    }
    expect(counted.status).toBe(200);
    expect(counted.statements).toBeLessThanOrEqual(acceptBudget);
    expect(spy).toHaveBeenCalledTimes(1);
    const done = await waitForStatus(service, user, uid!, ["success", "fail"]);
    expect(done.status).toBe("success");
    expect(done.steps.map((s: { phase: string }) => s.phase)).toEqual(["Succeeded", "Succeeded", "Succeeded"]);
    spy.mockRestore();
  });

  test("When another organization submits this organization's uids, then the one joined read refuses them as not found", async () => {
    const stranger = await service.user({ organization: "elsewhere" });
    const response = await service.post("q8uzMBcM5YJH6dPf", stranger, trainingBody(stranger, world.training, world.dataset));
    expect(response.status).toBe(404);
    expect(response.body.detail).toMatch(/pipeline/);
  });
});
