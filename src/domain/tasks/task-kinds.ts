import type { ImageSequence, PipelineType, TaskKind } from "../records.js";

export interface StepDefinition {
  /** The original's step name (the key of the log route's answer). */
  name: string;
  sequence: ImageSequence;
}

export interface TaskKindDefinition {
  pipelineTypes: readonly PipelineType[];
  steps: readonly [StepDefinition, StepDefinition, StepDefinition];
  output: "dataset" | "model" | "metrics";
}

const step = (name: string, sequence: ImageSequence): StepDefinition => ({ name, sequence });

/** Step names as the original's KFP templates named them (original-system.md §4.2). */
export const TASK_KINDS: Record<TaskKind, TaskKindDefinition> = {
  preprocessing: {
    pipelineTypes: ["preprocessing"],
    output: "dataset",
    steps: [step("download_original_dataset", "download"), step("preprocessing", "running"), step("upload_training_dataset", "upload")],
  },
  training: {
    pipelineTypes: ["training"],
    output: "model",
    steps: [step("download_training_dataset", "download"), step("training", "running"), step("upload_model", "upload")],
  },
  optimization: {
    pipelineTypes: ["retrain", "tuning"],
    output: "model",
    steps: [step("download_training_dataset", "download"), step("retrain", "running"), step("upload_model", "upload")],
  },
  evaluation: {
    pipelineTypes: ["evaluation"],
    output: "metrics",
    steps: [step("download_evaluation_files", "download"), step("evaluation", "running"), step("upload_metrics", "upload")],
  },
};

/** The log route's `type` as the original's clients sent it (`preprocessing`, `Optimization`, `retrain`, ...). */
export function kindFromLogType(type: string): TaskKind | undefined {
  const normalized = type.trim().toLowerCase();
  if (normalized === "retrain" || normalized === "tuning") return "optimization";
  return (Object.keys(TASK_KINDS) as TaskKind[]).find((kind) => kind === normalized);
}
