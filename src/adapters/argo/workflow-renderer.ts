import { UnprocessableError } from "../../domain/errors.js";
import type { StepResources, TaskPlan } from "../../domain/tasks/task-engine.js";
import {
  ARGO_GROUP,
  ARGO_VERSION,
  MANAGED_BY,
  MANAGED_BY_LABEL,
  TASK_KIND_LABEL,
  TASK_UID_LABEL,
  TASK_ATTEMPT_ANNOTATION,
  type Parameter,
  type Workflow,
} from "./argo-types.js";

export interface RenderSettings {
  namespace: string;
  templatePrefix: string;
  stepApiUrl: string;
  /** Image of the built-in download and upload steps. */
  stepImage: string;
}

/** Workflow names derive from the task uid, so a repeated create of one task is a 409, never a second run. */
export function workflowName(taskUid: string): string {
  return `ae-${taskUid}`;
}

export function credentialSecretName(taskUid: string): string {
  return `ae-${taskUid}-credential`;
}

/** The original's step name from an Argo DAG task name (Argo allows no `_` there). */
export function stepNameOf(argoTaskName: string): string {
  return argoTaskName.replace(/-/g, "_");
}

/**
 * The Workflow submitted for a task: a reference to the kind's WorkflowTemplate plus
 * arguments, built as an object (never by string templating). Only `arguments`,
 * `workflowTemplateRef` and labels are set, which Argo's `templateReferencing: Strict` allows.
 */
export function renderWorkflow(plan: TaskPlan, settings: RenderSettings): Workflow {
  const { task } = plan;
  const image = (sequence: string) => {
    const { run } = plan.steps.find((s) => s.sequence === sequence)!;
    if (sequence !== "running" && !run.own) return settings.stepImage;
    if (!run.image) throw new UnprocessableError(`the ${sequence} step of task ${task.uid} has no image: its build file was never built`);
    return run.image;
  };
  const parameters: Parameter[] = [
    { name: "task_uid", value: task.uid },
    { name: "step_api_url", value: settings.stepApiUrl },
    { name: "credential_secret", value: credentialSecretName(task.uid) },
    { name: "config", value: inertJson(plan.config) },
    { name: "output_file_name", value: plan.outputFileName ?? "" },
    { name: "dataset_file_path", value: plan.datasetFilePath ?? "" },
    { name: "output_file_path", value: plan.outputFilePath ?? "" },
    { name: "download_image", value: image("download") },
    { name: "running_image", value: image("running") },
    { name: "upload_image", value: image("upload") },
  ];
  for (const step of plan.steps)
    parameters.push({ name: `${step.sequence}_pod_spec_patch`, value: podSpecPatchOf(step.resources, step.run.own) });
  return {
    apiVersion: `${ARGO_GROUP}/${ARGO_VERSION}`,
    kind: "Workflow",
    metadata: {
      name: workflowName(task.uid),
      namespace: settings.namespace,
      labels: { [MANAGED_BY_LABEL]: MANAGED_BY, [TASK_UID_LABEL]: task.uid, [TASK_KIND_LABEL]: task.kind },
      annotations: { [TASK_ATTEMPT_ANNOTATION]: String(task.attempt) },
    },
    spec: { workflowTemplateRef: { name: `${settings.templatePrefix}${task.kind}` }, arguments: { parameters } },
  };
}

/**
 * A step's resources as the pod spec patch its template applies (Argo's documented way to set
 * resources from parameters): requests of cpu and memory, a memory limit, and a GPU limit only
 * when GPUs are asked for (a zero limit would be refused by a cluster without the device plugin).
 * The values are quantities checked at submission, so the JSON carries nothing else. A download or
 * upload step that runs its build file's own image drops the template's built-in command
 * (`null` deletes a field in the strategic merge patch Argo applies), so the image's
 * ENTRYPOINT/CMD runs.
 */
function podSpecPatchOf(resources: StepResources, ownCommand: boolean): string {
  const limits: Record<string, string> = { memory: resources.memory };
  if (resources.gpu > 0) limits[GPU_RESOURCE] = String(resources.gpu);
  const resourcesPatch = { requests: { cpu: resources.cpu, memory: resources.memory }, limits };
  return JSON.stringify({ containers: [{ name: "main", ...(ownCommand ? { command: null } : {}), resources: resourcesPatch }] });
}

const GPU_RESOURCE = "nvidia.com/gpu";

/**
 * JSON that Argo's `{{...}}` substitution cannot touch. An expression needs its opening `{{`,
 * which in JSON can only occur inside a string (an object key is always a string, so `{{` is
 * never structural); escaping the second brace there (`{\u007b`) keeps the same value. (`}}`
 * does occur structurally and needs nothing.)
 */
export function inertJson(value: unknown): string {
  return JSON.stringify(value).replace(/\{\{/g, "{\\u007b");
}
