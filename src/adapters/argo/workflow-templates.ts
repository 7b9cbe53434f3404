/**
 * The WorkflowTemplates the service's Workflows refer to, one per task kind, built from the
 * task kinds themselves. `npm run templates` writes them to workflow-templates/ (what the Helm
 * chart installs); a test checks the files are what this builds.
 *
 * Step resources are not in the containers' `resources`: a templated quantity is refused by the
 * API server (the CRD's quantity pattern) and by Argo's controller (Kubernetes' Go types). Each
 * step's pod gets them through `podSpecPatch`, which the service renders per task (see
 * `podSpecPatchOf`), so the templates hold no quantity at all.
 */
import type { ImageSequence, TaskKind } from "../../domain/records.js";
import { TASK_KINDS, type StepDefinition } from "../../domain/tasks/task-kinds.js";
import { stringify } from "yaml";
import { MANAGED_BY, TASK_KIND_LABEL, type Parameter } from "./argo-types.js";

const TEMPLATE_PARAMETERS = [
  "task_uid",
  "step_api_url",
  "credential_secret",
  "config",
  "output_file_name",
  "dataset_file_path",
  "output_file_path",
  "download_image",
  "running_image",
  "upload_image",
  "download_pod_spec_patch",
  "running_pod_spec_patch",
  "upload_pod_spec_patch",
] as const;

const WORKSPACE = { inputs: "/workspace/inputs", outputs: "/workspace/outputs", scratch: "/workspace/scratch" };
const STEP_RUNNER = "/app/dist/steps/step-runner.js";
/** The running step's script, which the download step hands on with the inputs (the build file's image has none of it). */
const RUN_PROGRAM = ["sh", `${WORKSPACE.inputs}/.argo-entrypoint/run-program.sh`];

/** An Argo DAG task name for a step (Argo allows no `_` there). */
function argoTaskName(stepName: string): string {
  return stepName.replace(/_/g, "-");
}

function workflowTemplate(kind: TaskKind, prefix = "argo-entrypoint-"): Record<string, unknown> {
  const steps = TASK_KINDS[kind].steps;
  const [download, running, upload] = steps;
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "WorkflowTemplate",
    metadata: { name: `${prefix}${kind}`, labels: { "app.kubernetes.io/part-of": MANAGED_BY, [TASK_KIND_LABEL]: kind } },
    spec: {
      entrypoint: "main",
      archiveLogs: true,
      arguments: { parameters: TEMPLATE_PARAMETERS.map((name): Parameter => ({ name })) },
      volumes: [
        { name: "outputs", emptyDir: {} },
        { name: "scratch", emptyDir: {} },
      ],
      templates: [
        {
          name: "main",
          dag: {
            tasks: [
              { name: argoTaskName(download.name), template: "download" },
              {
                name: argoTaskName(running.name),
                template: "running",
                dependencies: [argoTaskName(download.name)],
                arguments: { artifacts: [handOn(download)] },
              },
              {
                name: argoTaskName(upload.name),
                template: "upload",
                dependencies: [argoTaskName(running.name)],
                arguments: { artifacts: [handOn(running)] },
              },
            ],
          },
        },
        stepTemplate(kind, download, { command: ["node", STEP_RUNNER, "download"], outputs: true, inputs: false }),
        stepTemplate(kind, running, { command: RUN_PROGRAM, outputs: true, inputs: true }),
        stepTemplate(kind, upload, { command: ["node", STEP_RUNNER, "upload"], outputs: false, inputs: true }),
      ],
    },
  };
}

function handOn(from: StepDefinition) {
  return { name: "inputs", from: `{{tasks.${argoTaskName(from.name)}.outputs.artifacts.outputs}}` };
}

function stepTemplate(
  kind: TaskKind,
  step: StepDefinition,
  options: { command?: string[]; outputs: boolean; inputs: boolean },
): Record<string, unknown> {
  const sequence: ImageSequence = step.sequence;
  const env = [
    { name: "ARGO_ENTRYPOINT_URL", value: "{{workflow.parameters.step_api_url}}" },
    { name: "TASK_UID", value: "{{workflow.parameters.task_uid}}" },
    { name: "TASK_KIND", value: kind },
    { name: "STEP_NAME", value: step.name },
    { name: "STEP_SEQUENCE", value: sequence },
    { name: "TASK_TOKEN", valueFrom: { secretKeyRef: { name: "{{workflow.parameters.credential_secret}}", key: "token" } } },
    { name: "INPUTS_DIR", value: WORKSPACE.inputs },
    { name: "OUTPUTS_DIR", value: WORKSPACE.outputs },
    { name: "OUTPUT_FILE_NAME", value: "{{workflow.parameters.output_file_name}}" },
    { name: "DATASET_FILE_PATH", value: "{{workflow.parameters.dataset_file_path}}" },
    { name: "OUTPUT_FILE_PATH", value: "{{workflow.parameters.output_file_path}}" },
    { name: "METRICS_FILE", value: `${WORKSPACE.outputs}/metrics.json` },
    { name: "CONFIG_FILE", value: `${sequence === "download" ? WORKSPACE.outputs : WORKSPACE.inputs}/config.json` },
    ...(sequence === "running"
      ? [
          { name: "TASK_CONFIG", value: "{{workflow.parameters.config}}" },
          { name: "SCRATCH_DIR", value: WORKSPACE.scratch },
        ]
      : []),
  ];
  const mounts = [
    ...(options.outputs ? [{ name: "outputs", mountPath: WORKSPACE.outputs }] : []),
    ...(sequence === "running" ? [{ name: "scratch", mountPath: WORKSPACE.scratch }] : []),
  ];
  return {
    name: sequence,
    podSpecPatch: `{{workflow.parameters.${sequence}_pod_spec_patch}}`,
    ...(options.inputs ? { inputs: { artifacts: [{ name: "inputs", path: WORKSPACE.inputs }] } } : {}),
    ...(options.outputs ? { outputs: { artifacts: [{ name: "outputs", path: WORKSPACE.outputs }] } } : {}),
    container: {
      name: "main",
      image: `{{workflow.parameters.${sequence}_image}}`,
      ...(options.command ? { command: options.command } : {}),
      env,
      ...(mounts.length ? { volumeMounts: mounts } : {}),
    },
  };
}

/** A template as the YAML file the chart installs, with a header saying where it comes from. */
export function workflowTemplateYaml(kind: TaskKind): string {
  const header = [
    `# The ${kind} task as the service submits it: three containers, download -> running -> upload,`,
    "# handing files on as artifacts through the cluster's artifact repository. The service submits a",
    "# Workflow with spec.workflowTemplateRef and only `arguments`; the step credential comes from the",
    "# per-task Secret named in `credential_secret`; each step's resources come in `<step>_pod_spec_patch`.",
    "# Generated by `npm run templates` from src/adapters/argo/workflow-templates.ts: edit that, not this.",
  ].join("\n");
  return `${header}\n${stringify(workflowTemplate(kind), { lineWidth: 0 })}`;
}
