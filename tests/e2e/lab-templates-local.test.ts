/**
 * The lab's pipeline programs, unchanged KFP v1 templates, on the embedded local engine: only
 * each running function runs (kfp and the SDK's compress helpers supplied), inputs staged under
 * the lab's file names, config keys passed by name, the output collected and
 * model_accuracy.txt reported; no user key reaches a step.
 */
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { runLabTemplates, zipMember, type LabTemplateRun } from "../support/lab-templates.js";
import { startListeningService } from "../support/task-fixture.js";
import type { TestService, TestUser } from "../support/test-service.js";

describe("The lab's KFP v1 pipeline programs on the local engine", () => {
  let running: Awaited<ReturnType<typeof startListeningService>>;
  let service: TestService;
  let user: TestUser;
  let run: LabTemplateRun;

  beforeAll(async () => {
    running = await startListeningService();
    service = running.service;
    user = await service.user();
    run = await runLabTemplates(service, user);
  }, 120_000);
  afterAll(() => running.close());

  test("When preprocessing, training and optimization run in turn, then each succeeds with the original's step names", () => {
    expect(run.tasks.preprocessing.steps.map((s: { name: string }) => s.name)).toEqual([
      "download_original_dataset",
      "preprocessing",
      "upload_training_dataset",
    ]);
    expect(run.tasks.optimization.steps.map((s: { name: string }) => s.name)).toEqual([
      "download_training_dataset",
      "retrain",
      "upload_model",
    ]);
  });

  test("When preprocessing ran, then its output dataset is the running function's training_dataset.zip with training_dataset.npy at the root", async () => {
    const file = await service.post("TTiue1sygXrsm0YS", user, { uid: run.trainingDataset }).buffer(true);
    expect(file.status).toBe(200);
    const { names, text } = zipMember(file.body as Buffer, "training_dataset.npy");
    expect(names).toEqual(["training_dataset.npy"]);
    expect(text.slice(1, 6)).toBe("NUMPY");
  });

  test("When training ran, then model.zip holds model.h5 with the config's learning_rate, and model_accuracy.txt became the model's accuracy", async () => {
    const trained = await service.container.db.models.find(run.model);
    expect(trained).toMatchObject({ status: "unpublish" });
    expect(trained!.accuracy).toBeGreaterThan(0.9);
    expect(run.tasks.training.metrics).toEqual({ accuracy: trained!.accuracy });
    const file = await service
      .post("gTJsFsf5JIjeAmNb", user, { model_uid: run.model, model_access_token: trained!.accessToken })
      .buffer(true);
    const { names, text } = zipMember(file.body as Buffer, "model.h5");
    expect(names).toEqual(["model.h5"]);
    expect(JSON.parse(text)).toMatchObject({ learning_rate: 0.5, epochs: 300 });
  });

  test("When the optimization ran, then the new version's model.h5 was retrained from the base model's weights", async () => {
    const retrained = await service.container.db.models.find(run.retrainedModel);
    expect(retrained).toMatchObject({ source: run.model, version: 2, status: "unpublish" });
    const file = await service.post("TTiue1sygXrsm0YS", user, { uid: run.retrainedModel }).buffer(true);
    expect(JSON.parse(zipMember(file.body as Buffer, "model.h5").text)).toMatchObject({ retrained: true, epochs: 50 });
  });

  test("When the running step's log is read, then it shows the runner calling only the running function, and no user key appears in any step log", async () => {
    for (const task of Object.values(run.tasks)) {
      const logs = await service.post("bJ7xLmgp4WSWK498", user, { task_uid: task.uid });
      const text = JSON.stringify(logs.body.data);
      expect(text).not.toContain(user.secretKey);
      const running = task.steps[1].name;
      expect(logs.body.data[running]).toContain(`kfp_runner: running ${running} of program.py`);
    }
  });
});
