/** Resuming tasks that were accepted but never handed to an engine (their replica died in between, or the queue was full). */
import { afterAll, beforeAll, describe, expect, jest, test } from "@jest/globals";
import { startTrainingWorld, trainingBody, waitForStatus } from "../support/task-fixture.js";

describe("Resuming undispatched tasks", () => {
  let world: Awaited<ReturnType<typeof startTrainingWorld>>;

  beforeAll(async () => {
    world = await startTrainingWorld({ LOCAL_CONCURRENCY: "1" });
  });

  afterAll(async () => {
    await world.running.close();
  });

  test("When more tasks than one read page were accepted and never handed over, then one resume hands over each of them once", async () => {
    const { service, user, training, dataset } = world;
    const dispatcher = service.container.dispatcher;
    const enqueue = jest.spyOn(dispatcher, "enqueue").mockReturnValue(false); // accepted, never handed over
    const accepted = new Set<string>();
    try {
      for (let i = 0; i < 450; i += 1)
        accepted.add((await service.post("q8uzMBcM5YJH6dPf", user, trainingBody(user, training, dataset))).body.data.uid as string);
    } finally {
      enqueue.mockRestore();
    }
    const handed: string[] = [];
    const dispatch = jest.spyOn(dispatcher, "dispatch").mockImplementation(async (task) => (handed.push(task.uid), task));
    try {
      expect(await dispatcher.resumeUndispatched(0)).toBe(450);
      await dispatcher.idle();
    } finally {
      dispatch.mockRestore();
    }
    expect(handed).toHaveLength(450);
    expect(new Set(handed)).toEqual(accepted);
  }, 60_000);
});

describe("A resume whose read is stale", () => {
  let world: Awaited<ReturnType<typeof startTrainingWorld>>;

  beforeAll(async () => {
    world = await startTrainingWorld();
  });

  afterAll(async () => {
    await world.running.close();
  });

  test("When a resume read a task that a dispatch then moved on, then it is not dispatched again", async () => {
    const { service, user, training, dataset } = world;
    const { dispatcher, engine, db } = service.container;
    const enqueue = jest.spyOn(dispatcher, "enqueue").mockReturnValue(false);
    let uid: string;
    try {
      uid = (await service.post("q8uzMBcM5YJH6dPf", user, trainingBody(user, training, dataset))).body.data.uid as string;
    } finally {
      enqueue.mockRestore();
    }
    const asRead = (await db.tasks.find(uid))!; // what a resume's read saw, before the dispatch below
    const submit = jest.spyOn(engine, "submit");
    const listed = jest.spyOn(db.tasks, "listUndispatched");
    try {
      expect(await dispatcher.resumeUndispatched(0)).toBeGreaterThanOrEqual(1);
      expect((await waitForStatus(service, user, uid, ["success", "fail"])).status).toBe("success");
      listed.mockImplementation(async (which) => (which === "accepted" ? [asRead] : []));
      expect(await dispatcher.resumeUndispatched(0)).toBe(1);
      await dispatcher.idle();
      expect(submit.mock.calls.filter(([plan]) => plan.task.uid === uid)).toHaveLength(1);
      expect((await db.tasks.find(uid))!.status).toBe("success");
    } finally {
      listed.mockRestore();
      submit.mockRestore();
    }
  });
});

describe("A full dispatch queue", () => {
  let world: Awaited<ReturnType<typeof startTrainingWorld>>;

  beforeAll(async () => {
    world = await startTrainingWorld({ DISPATCH_QUEUE_CAPACITY: "2", DISPATCH_CONCURRENCY: "1", DISPATCH_STRANDED_SECONDS: "1" });
  });

  afterAll(async () => {
    await world.running.close();
  });

  test("When more tasks are accepted than the queue holds, then every submission answers at once, a pause holds them all, and the resume hands over the rest once", async () => {
    const { service, user, training, dataset } = world;
    const { dispatcher, engine } = service.container;
    const submit = jest.spyOn(engine, "submit");
    dispatcher.pauseDispatch();
    let uids: string[];
    try {
      const answers = await Promise.all(
        Array.from({ length: 5 }, () => service.post("q8uzMBcM5YJH6dPf", user, trainingBody(user, training, dataset))),
      );
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
      uids = answers.map((a) => a.body.data.uid as string);
      expect(dispatcher.queued).toBe(2);
      await new Promise((resolve) => setTimeout(resolve, 1_500)); // a periodic resume ran, and only queued
      expect(submit).not.toHaveBeenCalled();
      for (const uid of uids) expect((await service.container.db.tasks.find(uid))!.status).toBe("init");
    } finally {
      dispatcher.resumeDispatch();
    }
    try {
      for (const uid of uids) expect((await waitForStatus(service, user, uid, ["success", "fail"], 20_000)).status).toBe("success");
      expect(submit.mock.calls.map(([plan]) => plan.task.uid).sort()).toEqual([...uids].sort());
    } finally {
      submit.mockRestore();
    }
  }, 60_000);
});
