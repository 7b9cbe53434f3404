/** How the local engine launches each step: its command line and environment, with paths as the step sees them. */
import path from "node:path";
import type { TaskPlan } from "../../domain/tasks/task-engine.js";
import type { Sandbox, StepDirectories } from "./sandbox.js";
import { PROGRAM_RUNTIME_DIR, STEP_RUNNER_FILE } from "./step-runtime.js";

/**
 * The step's command line. The running step is the same script the Argo templates run
 * (`run-program.sh`: the KFP runner for a lab template, else the interpreter the program's
 * extension names), so both engines run a program the same way.
 */
export function stepCommand(
  sequence: string,
  view: StepDirectories,
  replaced: { download?: string[] | undefined; upload?: string[] | undefined },
): string[] {
  const builtIn = (name: string) => [process.execPath, path.join(view.runtime, STEP_RUNNER_FILE), name];
  if (sequence === "download") return replaced.download ?? builtIn("download");
  if (sequence === "upload") return replaced.upload ?? builtIn("upload");
  return ["sh", path.join(view.runtime, PROGRAM_RUNTIME_DIR, "run-program.sh")];
}

/** Only what the step contract names: nothing of the service's own environment. */
export function stepEnvironment(options: {
  plan: TaskPlan;
  stepName: string;
  sequence: string;
  view: StepDirectories;
  sandbox: Sandbox;
  serviceUrl: string;
}): NodeJS.ProcessEnv {
  const { plan, view } = options;
  return {
    PATH: options.sandbox.path,
    HOME: options.sandbox.kind === "none" ? process.env.HOME : "/tmp",
    LANG: "C.UTF-8",
    ARGO_ENTRYPOINT_URL: options.serviceUrl,
    TASK_UID: plan.task.uid,
    TASK_KIND: plan.task.kind,
    TASK_TOKEN: plan.stepToken,
    STEP_NAME: options.stepName,
    STEP_SEQUENCE: options.sequence,
    INPUTS_DIR: view.inputs,
    OUTPUTS_DIR: view.outputs,
    TASK_CONFIG: JSON.stringify(plan.config),
    // The interpreter of .js programs: this service's own node, which the sandbox shows the step.
    NODE: process.execPath,
    ...(options.sequence === "running" ? { SCRATCH_DIR: path.join(view.outputs, ".scratch") } : {}),
    ...(plan.datasetFilePath ? { DATASET_FILE_PATH: plan.datasetFilePath } : {}),
    ...(plan.outputFilePath ? { OUTPUT_FILE_PATH: plan.outputFilePath } : {}),
    CONFIG_FILE: path.join(options.sequence === "download" ? view.outputs : view.inputs, "config.json"),
    METRICS_FILE: path.join(view.outputs, "metrics.json"),
    ...(plan.outputFileName ? { OUTPUT_FILE_NAME: plan.outputFileName } : {}),
  };
}
