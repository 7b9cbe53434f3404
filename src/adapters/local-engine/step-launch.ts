/** How the local engine launches each step: its command line and environment, with paths as the step sees them. */
import path from "node:path";
import type { TaskPlan } from "../../domain/tasks/task-engine.js";
import type { Sandbox, StepDirectories } from "./sandbox.js";
import { STEP_RUNNER_FILE } from "./step-runtime.js";

/** The running step's interpreter, from the pipeline program's extension. */
const INTERPRETERS: Record<string, string[]> = {
  py: ["python3"],
  js: [process.execPath],
  mjs: [process.execPath],
  cjs: [process.execPath],
  sh: ["bash"],
};

/** The step's command line, or undefined when no interpreter runs the program's extension. */
export function stepCommand(
  sequence: string,
  view: StepDirectories,
  plan: TaskPlan,
  replaced: { download?: string[] | undefined; upload?: string[] | undefined },
): string[] | undefined {
  const builtIn = (name: string) => [process.execPath, path.join(view.runtime, STEP_RUNNER_FILE), name];
  if (sequence === "download") return replaced.download ?? builtIn("download");
  if (sequence === "upload") return replaced.upload ?? builtIn("upload");
  const interpreter = INTERPRETERS[plan.programExtension];
  return interpreter ? [...interpreter, path.join(view.inputs, `program.${plan.programExtension}`)] : undefined;
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
    CONFIG_FILE: path.join(options.sequence === "download" ? view.outputs : view.inputs, "config.json"),
    METRICS_FILE: path.join(view.outputs, "metrics.json"),
    ...(plan.outputFileName ? { OUTPUT_FILE_NAME: plan.outputFileName } : {}),
  };
}
