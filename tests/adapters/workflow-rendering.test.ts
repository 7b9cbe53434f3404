import { readFileSync, readdirSync } from "node:fs";
import { gzipSync } from "node:zlib";
import path from "node:path";
import { describe, expect, test } from "@jest/globals";
import { parse } from "yaml";
import { inertJson, renderWorkflow, stepNameOf, workflowName } from "../../src/adapters/argo/workflow-renderer.js";
import { progressOf } from "../../src/adapters/argo/workflow-status.js";
import type { Workflow } from "../../src/adapters/argo/argo-types.js";
import type { TaskPlan } from "../../src/domain/tasks/task-engine.js";
import { TASK_KINDS } from "../../src/domain/tasks/task-kinds.js";
import type { TaskKind } from "../../src/domain/records.js";
import { workflowTemplateYaml } from "../../src/adapters/argo/workflow-templates.js";
import { argoSchemaProblems } from "../support/argo-schema.js";
import { admit, crdSchema } from "../support/fake-kube/crd-admission.js";

const TEMPLATE_DIR = path.resolve("workflow-templates");
const templates = readdirSync(TEMPLATE_DIR)
  .filter((f) => f.endsWith(".yaml"))
  .map((file) => ({ file, doc: parse(readFileSync(path.join(TEMPLATE_DIR, file), "utf8")) }));
const taskTemplates = templates.filter((t) => t.doc.metadata.labels["argo-entrypoint.io/task-kind"]);

const BUILT = `registry.example/ml/step-image:${"ab".repeat(32)}`;

function plan(
  kind: TaskKind,
  config: Record<string, unknown> = { learning_rate: 0.01 },
  own: Partial<Record<string, string>> = {},
): TaskPlan {
  const run = (sequence: string) =>
    sequence === "running"
      ? { image: BUILT, own: false }
      : own[sequence]
        ? { image: own[sequence]!, own: true }
        : { image: null, own: false };
  return {
    task: { uid: "169920c2-0441-4f47-82b1-41b9c859bf06", kind } as TaskPlan["task"],
    steps: TASK_KINDS[kind].steps.map((step) => ({
      ...step,
      run: run(step.sequence),
      resources: { cpu: "500m", memory: "4000Mi", gpu: step.sequence === "running" ? 1 : 0 },
    })),
    config,
    outputFileName: kind === "evaluation" ? null : "model.zip",
    datasetFilePath: "o/p/training/d.zip",
    outputFilePath: kind === "evaluation" ? null : "o/p/a/model/m.zip",
    stepToken: "never-rendered",
    firstAttempt: true,
  };
}

const settings = {
  namespace: "argo",
  templatePrefix: "argo-entrypoint-",
  stepApiUrl: "http://argo-entrypoint.argo.svc:8080",
  stepImage: "argo-entrypoint:1.0",
};

describe("WorkflowTemplates in workflow-templates/", () => {
  test("When the folder is read, then there is one template per task kind and the image build's", () => {
    expect(templates.map((t) => t.doc.metadata.name).sort()).toEqual(
      [...Object.keys(TASK_KINDS), "image-build"].map((k) => `argo-entrypoint-${k}`).sort(),
    );
  });

  test.each(templates.map((t) => [t.file, t.doc]))("When %s is checked against Argo's schema, then it is valid", (_file, doc) => {
    expect(argoSchemaProblems("WorkflowTemplate", doc)).toEqual([]);
  });

  test.each(Object.keys(TASK_KINDS))(
    "When the %s template is generated, then the committed file is exactly it (npm run templates)",
    (kind) => {
      expect(readFileSync(path.join(TEMPLATE_DIR, `${kind}.yaml`), "utf8")).toBe(workflowTemplateYaml(kind as TaskKind));
    },
  );

  test.each(templates.map((t) => [t.file, t.doc]))(
    "When %s goes through the full CRD as a real API server takes it, then it is accepted and loses nothing",
    (_file, doc) => {
      const { object, problems } = admit(crdSchema("workflowtemplates"), doc);
      expect(problems).toEqual([]);
      expect(object).toMatchObject(doc);
      // A task's resources come through podSpecPatch only; the image build's are fixed quantities.
      if (doc.metadata.name !== "argo-entrypoint-image-build") expect(JSON.stringify(doc)).not.toMatch(/resources/);
    },
  );

  test("When a template puts a parameter in a quantity, then the CRD refuses it with the API server's text", () => {
    const templated = structuredClone(templates[0]!.doc);
    templated.spec.templates[2].container.resources = { requests: { cpu: "{{workflow.parameters.running_cpu}}" } };
    const { problems } = admit(crdSchema("workflowtemplates"), templated);
    expect(problems).toEqual([
      `spec.templates[2].container.resources.requests.cpu: Invalid value: "{{workflow.parameters.running_cpu}}": spec.templates[2].container.resources.requests.cpu in body should match '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$'`,
    ]);
  });

  test("When a template is malformed, then the schema check reports it (the check can fail)", () => {
    const broken = structuredClone(templates[0]!.doc);
    broken.spec.templates[1].container.resources = "lots";
    broken.spec.entrypoint = 7;
    expect(argoSchemaProblems("WorkflowTemplate", broken)).toEqual(
      expect.arrayContaining(["/spec/entrypoint must be string", "/spec/templates/1/container/resources must be object"]),
    );
  });

  test.each(taskTemplates.map((t) => [t.file, t.doc]))(
    "When %s is read, then its DAG runs the original's three steps in order",
    (_file, doc) => {
      const kind = doc.metadata.labels["argo-entrypoint.io/task-kind"] as TaskKind;
      const tasks = doc.spec.templates.find((t: { name: string }) => t.name === "main").dag.tasks;
      expect(tasks.map((t: { name: string }) => stepNameOf(t.name))).toEqual(TASK_KINDS[kind].steps.map((s) => s.name));
      expect(tasks.map((t: { template: string }) => t.template)).toEqual(["download", "running", "upload"]);
      const containers = doc.spec.templates
        .filter((t: { container?: unknown }) => t.container)
        .map((t: { container: { env: Array<{ name: string; value?: string; valueFrom?: unknown }> } }) => t.container);
      for (const container of containers) {
        const token = container.env.find((e: { name: string }) => e.name === "TASK_TOKEN")!;
        expect(token.valueFrom).toEqual({ secretKeyRef: { name: "{{workflow.parameters.credential_secret}}", key: "token" } });
      }
      const parameters = doc.spec.arguments.parameters.map((p: { name: string }) => p.name);
      expect(parameters).not.toContain("access_key");
      expect(parameters).not.toContain("secret_key");
    },
  );
});

describe("renderWorkflow", () => {
  test.each(Object.keys(TASK_KINDS))("When a %s task is rendered, then the Workflow is valid and only refers to its template", (kind) => {
    const workflow = renderWorkflow(plan(kind as TaskKind), settings);
    expect(argoSchemaProblems("Workflow", workflow)).toEqual([]);
    expect(Object.keys(workflow.spec).sort()).toEqual(["arguments", "workflowTemplateRef"]);
    expect(workflow.spec.workflowTemplateRef).toEqual({ name: `argo-entrypoint-${kind}` });
    expect(workflow.metadata.name).toBe("ae-169920c2-0441-4f47-82b1-41b9c859bf06");
    expect(workflow.metadata.name!.length).toBeLessThanOrEqual(63);
    expect(workflow.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    const declared = templates
      .find((t) => t.doc.metadata.name === `argo-entrypoint-${kind}`)!
      .doc.spec.arguments.parameters.map((p: { name: string }) => p.name)
      .sort();
    expect(workflow.spec.arguments!.parameters!.map((p) => p.name).sort()).toEqual(declared);
    const admitted = admit(crdSchema("workflows"), workflow);
    expect(admitted.problems).toEqual([]);
    expect(admitted.object).toEqual(workflow); // stored exactly as rendered: nothing pruned, nothing added
  });

  test("When a task is rendered, then images, resources and the credential's Secret come through, and no secret does", () => {
    const workflow = renderWorkflow(plan("training"), settings);
    const value = (name: string) => workflow.spec.arguments!.parameters!.find((p) => p.name === name)?.value;
    expect(value("download_image")).toBe("argo-entrypoint:1.0");
    expect(value("running_image")).toBe(BUILT);
    expect(JSON.parse(value("running_pod_spec_patch")!)).toEqual({
      containers: [
        { name: "main", resources: { requests: { cpu: "500m", memory: "4000Mi" }, limits: { memory: "4000Mi", "nvidia.com/gpu": "1" } } },
      ],
    });
    // No GPU asked for: no GPU limit at all (a zero one is refused where the device plugin is missing).
    expect(JSON.parse(value("download_pod_spec_patch")!).containers[0].resources.limits).toEqual({ memory: "4000Mi" });
    expect(value("credential_secret")).toBe("ae-169920c2-0441-4f47-82b1-41b9c859bf06-credential");
    expect(value("config")).toBe('{"learning_rate":0.01}');
    expect(JSON.stringify(workflow)).not.toContain("never-rendered");
  });

  test("When a download build file runs its own image, then the step runs that image and the pod spec patch drops the built-in command", () => {
    const workflow = renderWorkflow(plan("training", {}, { download: "registry.example/ml/step-image:own" }), settings);
    const value = (name: string) => workflow.spec.arguments!.parameters!.find((p) => p.name === name)?.value;
    expect(value("download_image")).toBe("registry.example/ml/step-image:own");
    expect(JSON.parse(value("download_pod_spec_patch")!).containers[0]).toMatchObject({ name: "main", command: null });
    expect(value("upload_image")).toBe("argo-entrypoint:1.0");
    expect(JSON.parse(value("upload_pod_spec_patch")!).containers[0]).not.toHaveProperty("command");
  });

  test("When a running step has no image (its build file was never built), then rendering refuses with 422", () => {
    const broken = plan("training");
    const steps = broken.steps.map((s) => (s.sequence === "running" ? { ...s, run: { image: null, own: false } } : s));
    expect(() => renderWorkflow({ ...broken, steps }, settings)).toThrow(/has no image/);
  });

  test("When the config holds Argo expressions, then they arrive as inert text with the same JSON value", () => {
    const hostile = { cmd: "{{workflow.parameters.credential_secret}}", nested: { x: "}}{{=sprig.env('HOME')}}" }, "{{key}}": [1] };
    const workflow = renderWorkflow(plan("training", hostile), settings);
    const config = workflow.spec.arguments!.parameters!.find((p) => p.name === "config")!.value!;
    expect(config).not.toContain("{{");
    expect(JSON.parse(config)).toEqual(hostile);
    expect(inertJson("{{{{")).toBe('"{\\u007b{\\u007b"');
  });

  test("When the workflow name is derived twice for a task, then it is the same", () => {
    expect(workflowName("169920c2-0441-4f47-82b1-41b9c859bf06")).toBe(workflowName("169920c2-0441-4f47-82b1-41b9c859bf06"));
  });
});

describe("progressOf", () => {
  const fixture = (name: string) => JSON.parse(readFileSync(path.resolve("..", "shared", "argo", "fixtures", name), "utf8")) as Workflow;
  const labelled = (wf: Workflow) => ({
    ...wf,
    metadata: { ...wf.metadata, labels: { ...wf.metadata.labels, "argo-entrypoint.io/task-uid": "t1" } },
  });

  test("When Argo's failed-steps fixture is read, then the failing pod's exit code and message become the step's", () => {
    const progress = progressOf(labelled(fixture("failed-steps-second-step-exit-1.json")))!;
    expect(progress.phase).toBe("Failed");
    expect(progress.steps.map((s) => [s.name, s.phase, s.exitCode, s.message])).toEqual([
      ["pass", "Succeeded", 0, ""],
      ["fail", "Failed", 1, "failed with exit code 1"],
    ]);
  });

  test("When the nodes are compressed, then they are read the same", () => {
    const wf = labelled(fixture("failed-steps-second-step-exit-1.json"));
    const compressed = {
      ...wf,
      status: { ...wf.status, nodes: undefined, compressedNodes: gzipSync(JSON.stringify(wf.status!.nodes)).toString("base64") },
    };
    expect(progressOf(compressed)!.steps).toEqual(progressOf(wf)!.steps);
  });

  const fixtures = readdirSync(path.resolve("..", "shared", "argo", "fixtures")).filter(
    (f) => f.endsWith(".json") && !f.startsWith("pod-names"),
  );
  test.each(fixtures)("When %s is stored through the full CRD, then everything the service reads of its status survives", (file) => {
    const workflow = labelled(fixture(file));
    const { object, problems } = admit(crdSchema("workflows"), workflow);
    expect(problems).toEqual([]);
    const stored = object as Workflow;
    expect(progressOf(stored)).toEqual(progressOf(workflow));
    expect(stored.status?.artifactRepositoryRef).toEqual(workflow.status?.artifactRepositoryRef);
    expect(stored.metadata).toEqual(workflow.metadata);
  });

  test("When a workflow does not carry this service's task label, then it is ignored", () => {
    expect(progressOf(fixture("failed-steps-second-step-exit-1.json"))).toBeUndefined();
  });
});
