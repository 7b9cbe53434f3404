/** Resuming tasks that were accepted but never handed to an engine (their replica died in between). */
import { afterAll, beforeAll, describe, expect, jest, test } from "@jest/globals";
import {
  example,
  registerPipeline,
  registerProject,
  registerTrainingDataset,
  startListeningService,
  trainingBody,
  type PipelineFixture,
} from "../support/task-fixture.js";
import type { TestService, TestUser } from "../support/test-service.js";

describe("Resuming undispatched tasks", () => {
  let running: Awaited<ReturnType<typeof startListeningService>>;
  let service: TestService;
  let user: TestUser;
  let training: PipelineFixture;
  let dataset: string;

  beforeAll(async () => {
    running = await startListeningService({ LOCAL_CONCURRENCY: "1" });
    service = running.service;
    user = await service.user();
    const project = await registerProject(service, user);
    training = await registerPipeline(service, user, project.application, {
      type: "training",
      program: example("train.py"),
      extension: "py",
      config: { target: "y", learning_rate: 0.5, epochs: 2 },
    });
    dataset = await registerTrainingDataset(service, user, project.project);
  });

  afterAll(async () => {
    await running.close();
  });

  test("When more tasks than one read page were accepted and never handed over, then one resume hands over each of them once", async () => {
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
