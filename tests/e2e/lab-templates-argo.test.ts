/**
 * The same lab programs on the Argo path: the service renders Workflows from the templates, the
 * fake controller builds each step's pod from them, and each pod's container runs for real (its
 * command and environment, the artifacts passed on). So the running step's pod itself carries the
 * runner, whatever the build file's image would do on its own, and gives the local engine's results.
 */
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { ContainerExecutor } from "../support/fake-kube/container-executor.js";
import { argoEnv, eventually, NAMESPACE, startFakeCluster, type FakeCluster } from "../support/fake-kube/fake-cluster.js";
import { runLabTemplates, zipMember, type LabTemplateRun } from "../support/lab-templates.js";
import { startListeningService } from "../support/task-fixture.js";
import type { TestService, TestUser } from "../support/test-service.js";

describe("The lab's KFP v1 pipeline programs on Argo (fake cluster, pods' containers run for real)", () => {
  let cluster: FakeCluster;
  let executor: ContainerExecutor;
  let running: Awaited<ReturnType<typeof startListeningService>>;
  let service: TestService;
  let user: TestUser;
  let run: LabTemplateRun;

  beforeAll(async () => {
    executor = await ContainerExecutor.create();
    cluster = await startFakeCluster({ executor });
    running = await startListeningService(argoEnv(cluster), (url) => (cluster.stepApi.url = url));
    service = running.service;
    user = await service.user();
    await eventually(() => cluster.server.get("leases", NAMESPACE, "argo-entrypoint-leader") !== undefined);
    run = await runLabTemplates(service, user);
  }, 120_000);
  afterAll(async () => {
    await running.close();
    await cluster.close();
    executor.close();
  });

  test("When a task runs, then its running pod runs run-program.sh from its inputs in the running build file's image, and download and upload run the step runner", () => {
    const byTemplate = (template: string) => executor.commands.filter((c) => c.template === template);
    expect(byTemplate("running").map((c) => c.command)).toEqual(Array(3).fill(["sh", "/workspace/inputs/.argo-entrypoint/run-program.sh"]));
    expect(byTemplate("running").every((c) => c.image.startsWith("registry.local/argo-entrypoint/"))).toBe(true);
    expect(byTemplate("download").every((c) => c.command.join(" ") === "node /app/dist/steps/step-runner.js download")).toBe(true);
    expect(byTemplate("upload").every((c) => c.command.join(" ") === "node /app/dist/steps/step-runner.js upload")).toBe(true);
  });

  test("When the three programs ran, then their outputs are what the local engine gives: the dataset's npy, the model's accuracy, the retrained version", async () => {
    const dataset = await service.post("TTiue1sygXrsm0YS", user, { uid: run.trainingDataset }).buffer(true);
    expect(zipMember(dataset.body as Buffer, "training_dataset.npy").names).toEqual(["training_dataset.npy"]);
    const trained = await service.container.db.models.find(run.model);
    expect(trained!.accuracy).toBeGreaterThan(0.9);
    expect(run.tasks.training.metrics).toEqual({ accuracy: trained!.accuracy });
    const retrained = await service.post("TTiue1sygXrsm0YS", user, { uid: run.retrainedModel }).buffer(true);
    expect(JSON.parse(zipMember(retrained.body as Buffer, "model.h5").text)).toMatchObject({ retrained: true, epochs: 50 });
  });

  test("When the Workflows are inspected, then no user key is among their parameters", () => {
    const workflows = JSON.stringify(cluster.server.list("workflows", NAMESPACE));
    expect(workflows).not.toContain(user.secretKey);
    expect(workflows).not.toContain("access_key");
  });
});
