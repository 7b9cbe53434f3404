/** Resuming tasks that were accepted but never handed to an engine (their replica died in between). */
import { afterAll, beforeAll, describe, expect, jest, test } from "@jest/globals";
import { startTrainingWorld, trainingBody } from "../support/task-fixture.js";

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
    const enqueue = jest.spyOn(dispatcher, "enqueue").mockResolvedValue(undefined); // accepted, never handed over
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
    } finally {
      dispatch.mockRestore();
    }
    expect(handed).toHaveLength(450);
    expect(new Set(handed)).toEqual(accepted);
  }, 60_000);
});
