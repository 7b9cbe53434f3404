import type { ExecuteStep, TaskStatus } from "../records.js";
import type { RunPhase, StepProgress } from "./task-engine.js";

export interface DerivedStatus {
  status: TaskStatus;
  executeStep: ExecuteStep;
  message: string;
}

/**
 * A run's phase in the original's terms. The run exists once this is called, so execute_step is
 * `execute_pipeline` until a step starts, then `run_task`.
 */
export function deriveStatus(phase: RunPhase, message: string, steps: StepProgress[]): DerivedStatus {
  const started = steps.some((s) => s.startedAt !== null || s.phase !== "Pending");
  switch (phase) {
    case "Succeeded":
      return { status: "success", executeStep: "run_task", message };
    case "Failed":
    case "Error": {
      // The failed step says more than Argo's "child '<id>' failed"; a shutdown says it best itself.
      const failed = steps.find((s) => s.phase === "Failed" || s.phase === "Error");
      const stepReason = failed ? `${failed.name}: ${failed.message || `exit code ${failed.exitCode ?? "?"}`}` : undefined;
      const reason = message.startsWith("Stopped with strategy") ? message : (stepReason ?? (message || "the run failed"));
      return { status: "fail", executeStep: started ? "run_task" : "execute_pipeline", message: reason };
    }
    case "Running":
      return started
        ? { status: "running", executeStep: "run_task", message }
        : { status: "pending", executeStep: "execute_pipeline", message };
    default:
      return { status: "pending", executeStep: "execute_pipeline", message };
  }
}
