/** The port every execution engine (Argo, local) implements, and what they report back. */
import type { StepImage } from "../builds/image-builds.js";
import type { TaskRecord } from "../records.js";
import type { StepDefinition } from "./task-kinds.js";

export interface StepResources {
  cpu: string;
  memory: string;
  gpu: number;
}

export interface TaskPlan {
  task: TaskRecord;
  /** Each step with what it runs (its build file's image, or the built-in step) and its resources. */
  steps: ReadonlyArray<StepDefinition & { run: StepImage; resources: StepResources }>;
  /** The task's config object, handed to the running step as one JSON document. */
  config: Record<string, unknown>;
  /** The file the running step writes and the upload step stores (`training_dataset.zip`, `model.zip`); none for an evaluation. */
  outputFileName: string | null;
  /** The input dataset's and the output's `file_path` as the original's SDK names them (steps may download or upload by them). */
  datasetFilePath: string | null;
  outputFilePath: string | null;
  /** The steps' credential, in clear: engines pass it to steps through a Secret or the environment. */
  stepToken: string;
  /** Nothing of an earlier attempt can exist (the task was just accepted); else engines clear what one may have left. */
  firstAttempt: boolean;
}

/** A workflow's phase in Argo's words; the local engine uses the same ones. */
export type RunPhase = "" | "Pending" | "Running" | "Succeeded" | "Failed" | "Error";

export interface StepProgress {
  name: string;
  phase: string;
  startedAt: Date | null;
  finishedAt: Date | null;
  exitCode: number | null;
  message: string;
  resources: Record<string, unknown>;
  nodeId?: string | null;
  podName?: string | null;
}

export interface TaskProgress {
  taskUid: string;
  phase: RunPhase;
  message: string;
  finishedAt: Date | null;
  steps: StepProgress[];
  runName?: string;
  runUid?: string | null;
  /** The task's attempt the run was made or retried for (`TaskRecord.attempt`), when the engine knows it. */
  attempt?: number;
}

export type ShutdownStrategy = "Stop" | "Terminate";

export interface TaskEngine {
  readonly name: string;
  /** Starts the run. Idempotent per task: submitting a task that already runs is not an error. */
  submit(plan: TaskPlan): Promise<{ runName: string; runUid: string | null }>;
  shutdown(task: TaskRecord, strategy: ShutdownStrategy): Promise<void>;
  /** Re-runs the failed steps of the same run (a new step credential comes with the plan). */
  retry(plan: TaskPlan): Promise<void>;
  /** Removes the run and everything it left (workflow, Secret, pods, work directory). */
  remove(task: TaskRecord): Promise<void>;
}

/** Where engines report progress; the task service is the one implementation. */
export interface ProgressSink {
  /**
   * `beforeEnding` runs once, just before the report moves the task into a final status: what
   * must be gone before anyone can see the task ended (its credential: a retry may follow at once
   * and write a new one). A failure of it is the engine's to log; the task ends regardless.
   */
  report(progress: TaskProgress, beforeEnding?: () => Promise<void>): Promise<void>;
}
