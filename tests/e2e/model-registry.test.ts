/** The model registry: aliases that move atomically with a recorded history, selection, bookmarks and lineage both ways. */
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import {
  registerPipeline,
  registerProject,
  registerTrainingDataset,
  startListeningService,
  trainingBody,
  waitForStatus,
} from "../support/task-fixture.js";
import type { TestService, TestUser } from "../support/test-service.js";

describe("The model registry", () => {
  let running: Awaited<ReturnType<typeof startListeningService>>;
  let service: TestService;
  let user: TestUser;
  let colleague: TestUser;
  let application: string;
  let dataset: string;
  let base: Record<string, any>;
  let retrained: Record<string, any>;

  beforeAll(async () => {
    running = await startListeningService();
    service = running.service;
    user = await service.user({ organization: "registry-lab" });
    colleague = await service.user({ organization: "registry-lab" });
    const project = await registerProject(service, user);
    application = project.application;
    dataset = await registerTrainingDataset(service, user, project.project);
    const program = 'echo weights > "$OUTPUTS_DIR/$OUTPUT_FILE_NAME"\n';
    const training = await registerPipeline(service, user, application, { type: "training", program, extension: "sh", config: {} });
    const retrain = await registerPipeline(service, user, application, { type: "retrain", program, extension: "sh", config: {} });
    const trained = await service.post("q8uzMBcM5YJH6dPf", user, trainingBody(user, training, dataset));
    base = await waitForStatus(service, user, trained.body.data.uid, ["success"]);
    const optimized = await service.post("Oi6u8dkur8GTKPxS", user, {
      ...trainingBody(user, retrain, dataset),
      model_uid: base.f_output_model_uid,
    });
    retrained = await waitForStatus(service, user, optimized.body.data.uid, ["success"]);
  });
  afterAll(() => running.close());

  test("When an alias is set and moved, then it resolves to the new model and the history shows who moved it from where", async () => {
    const set = await service.post("Ma1sEt7AlQ3xRk8v", user, { model_uid: base.f_output_model_uid, alias: "champion" });
    expect(set.body.data).toMatchObject({ alias: "champion", model_uid: base.f_output_model_uid, updated_by_uid: user.userUid });
    await service.post("Ma1sEt7AlQ3xRk8v", colleague, { model_uid: retrained.f_output_model_uid, alias: "champion" });
    const resolved = await service.post("Ma3rSv8AlE2uPq5c", user, { f_application_uid: application, alias: "champion" });
    expect(resolved.body.data).toMatchObject({ uid: retrained.f_output_model_uid, version: 2 });
    const moves = (await service.post("Ma4hSt6AlR1iOp3d", user, { f_application_uid: application })).body.data;
    expect(moves.map((m: any) => [m.alias, m.previous_model_uid, m.model_uid, m.by_user_uid])).toEqual([
      ["champion", null, base.f_output_model_uid, user.userUid],
      ["champion", base.f_output_model_uid, retrained.f_output_model_uid, colleague.userUid],
    ]);
    expect(moves[1].time).toEqual(expect.any(String));
  });

  test("When many moves of one alias race, then each goes through once and the history is an unbroken chain", async () => {
    const models = [base.f_output_model_uid, retrained.f_output_model_uid];
    const outcomes = await Promise.all(
      Array.from({ length: 12 }, (_, i) => service.post("Ma1sEt7AlQ3xRk8v", user, { model_uid: models[i % 2], alias: "racer" })),
    );
    expect(outcomes.map((o) => o.status)).toEqual(Array(12).fill(200));
    const moves = (await service.post("Ma4hSt6AlR1iOp3d", user, { f_application_uid: application })).body.data.filter(
      (m: any) => m.alias === "racer",
    );
    expect(moves[0].previous_model_uid).toBeNull();
    for (let i = 1; i < moves.length; i += 1) expect(moves[i].previous_model_uid).toBe(moves[i - 1].model_uid);
    const final = await service.post("Ma3rSv8AlE2uPq5c", user, { f_application_uid: application, alias: "racer" });
    expect(final.body.data.uid).toBe(moves.at(-1).model_uid);
  });

  test("When a model is selected and bookmarked, then the application has one selected model and the bookmark shows", async () => {
    await service.post("Ma5sEl2MoT8yUi4e", user, { model_uid: base.f_output_model_uid });
    await service.post("Ma5sEl2MoT8yUi4e", user, { model_uid: retrained.f_output_model_uid });
    const selected = await service.post("Ma3rSv8AlE2uPq5c", user, { f_application_uid: application, alias: "selected" });
    expect(selected.body.data.uid).toBe(retrained.f_output_model_uid);
    const refused = await service.post("Ma1sEt7AlQ3xRk8v", user, { model_uid: base.f_output_model_uid, alias: "selected" });
    expect({ status: refused.status, field: refused.body.errors[0].field }).toEqual({ status: 400, field: "alias" });
    const marked = await service.post("Ma6bKm9MoY3tRe7f", user, { model_uid: base.f_output_model_uid, bookmarked: true });
    expect(marked.body.data.bookmarked).toBe(true);
    const lineage = await service.post("Ma7lNg5MoU2wQa1g", user, { model_uid: base.f_output_model_uid });
    expect(lineage.body.data.model.bookmarked).toBe(true);
    await service.post("Ma2dEl4AlW9yTn6b", user, { f_application_uid: application, alias: "racer" });
    expect((await service.post("Ma3rSv8AlE2uPq5c", user, { f_application_uid: application, alias: "racer" })).status).toBe(404);
  });

  test("When lineage is asked, then a model leads to the task that made it and its inputs, and a dataset to the tasks that used it", async () => {
    const lineage = (await service.post("Ma7lNg5MoU2wQa1g", user, { model_uid: retrained.f_output_model_uid })).body.data;
    expect(lineage).toMatchObject({
      model: { uid: retrained.f_output_model_uid, version: 2 },
      aliases: expect.arrayContaining(["champion", "selected"]),
      produced_by: { task: { uid: retrained.uid, type: "optimization" }, dataset: { uid: dataset }, pipeline: { type: "retrain" } },
      base_model: { uid: base.f_output_model_uid, version: 1 },
      used_by: [],
    });
    const baseLineage = (await service.post("Ma7lNg5MoU2wQa1g", user, { model_uid: base.f_output_model_uid })).body.data;
    expect(baseLineage.used_by.map((t: any) => t.uid)).toEqual([retrained.uid]);
    const used = (await service.post("Ma8dSu3DaI6eWs9h", user, { dataset_uid: dataset })).body.data;
    expect(used.map((t: any) => t.uid)).toEqual([base.uid, retrained.uid]);
    const stranger = await service.user({ organization: "elsewhere" });
    expect((await service.post("Ma7lNg5MoU2wQa1g", stranger, { model_uid: base.f_output_model_uid })).status).toBe(404);
    expect((await service.post("Ma1sEt7AlQ3xRk8v", stranger, { model_uid: base.f_output_model_uid, alias: "mine" })).status).toBe(404);
  });
});
