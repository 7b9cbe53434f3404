import type { Database } from "../ports.js";
import { FINAL_TASK_STATUSES, type ExecuteStep, type TaskRecord, type TaskStatus } from "../records.js";
import type { ProgressSink, TaskProgress } from "./task-engine.js";
import { TASK_KINDS } from "./task-kinds.js";
import { stepsOf, type TaskLifecycle } from "./task-lifecycle.js";
import { deriveStatus } from "./task-status.js";

/**
 * What the engines and the Argo watcher report: steps' phases, times, exit codes and messages,
 * and from them the task's status. It needs nothing but the database, so it exists before the
 * engines, which are handed it when they are built.
 */
export class ProgressRecorder implements ProgressSink {
  private readonly reporting = new Map<string, Promise<unknown>>();

  constructor(private readonly deps: { db: Database; lifecycle: TaskLifecycle }) {}

  /**
   * Applies a report. Reports of one task are applied one at a time, in the order they arrive:
   * an older report finishing late must not overwrite a newer step state.
   */
  report(progress: TaskProgress, beforeEnding?: () => Promise<void>): Promise<void> {
    const previous = this.reporting.get(progress.taskUid) ?? Promise.resolve();
    const current = previous.then(() => this.apply(progress, beforeEnding));
    const settled = current.catch(() => undefined);
    this.reporting.set(progress.taskUid, settled);
    void settled.then(() => {
      if (this.reporting.get(progress.taskUid) === settled) this.reporting.delete(progress.taskUid);
    });
    return current;
  }

  /** Resolves when every report received so far has been applied (for an orderly shutdown). */
  async drain(): Promise<void> {
    await Promise.all([...this.reporting.values()]);
  }

  /** Tasks an engine is running or about to (for reconciliation at start-up). */
  activeTasks(engine: string): Promise<TaskRecord[]> {
    return this.deps.db.tasks.list({ status: { in: ["pending", "running"] }, engine });
  }

  private async apply(progress: TaskProgress, beforeEnding?: () => Promise<void>): Promise<void> {
    const { db, lifecycle } = this.deps;
    const task = await db.tasks.find(progress.taskUid);
    if (!task) return; // deleted while its run was still reporting
    // The run's state from before a retry (an event queued behind the retry, a re-list) would end the reopened task.
    if (progress.attempt !== undefined && progress.attempt < task.attempt) return;
    for (const step of progress.steps) {
      const sequence = TASK_KINDS[task.kind].steps.find((s) => s.name === step.name)?.sequence ?? "running";
      await db.taskSteps.save({
        taskUid: task.uid,
        name: step.name,
        sequence,
        phase: step.phase,
        startedAt: step.startedAt,
        finishedAt: step.finishedAt,
        exitCode: step.exitCode,
        message: step.message,
        resources: JSON.stringify(step.resources),
        nodeId: step.nodeId ?? null,
        podName: step.podName ?? null,
      });
    }
    lifecycle.changed(task.uid);
    // Adopts a run whose dispatch did not live to record it; an ended task's unrecorded run is its dispatcher's to remove.
    if (progress.runName && !task.workflowName && !FINAL_TASK_STATUSES.includes(task.status))
      await db.tasks.update(task.uid, { workflowName: progress.runName, workflowUid: progress.runUid ?? null });
    // A report without steps (the run vanished) is judged on the steps already recorded.
    const steps = progress.steps.length
      ? progress.steps
      : stepsOf(task, await db.taskSteps.listFor(task.uid)).map((s) => ({ ...s, resources: {} }));
    let derived = deriveStatus(progress.phase, progress.message, steps);
    if (derived.status === "success") derived = (await this.publishOutput(task)) ?? derived;
    if (derived.status === task.status && derived.executeStep === task.executeStep) return;
    const ending = FINAL_TASK_STATUSES.includes(derived.status) && !FINAL_TASK_STATUSES.includes(task.status);
    if (ending) await beforeEnding?.();
    await lifecycle.transition(task, derived.status, derived.executeStep, derived.message, {
      ...(progress.finishedAt ? { finishedAt: progress.finishedAt } : {}),
    });
  }

  /** On success the output becomes available, if the upload step stored it; otherwise the task fails. */
  private async publishOutput(task: TaskRecord): Promise<{ status: TaskStatus; executeStep: ExecuteStep; message: string } | undefined> {
    const { db } = this.deps;
    if (!task.outputDatasetUid && !task.outputModelUid) return undefined;
    const output = task.outputDatasetUid ? await db.datasets.find(task.outputDatasetUid) : await db.models.find(task.outputModelUid!);
    if (!output?.fileUid) return { status: "fail", executeStep: "run_task", message: "the upload step finished without storing an output" };
    if (task.outputDatasetUid) await db.datasets.update(task.outputDatasetUid, { status: "available" });
    else await db.models.update(task.outputModelUid!, { status: "unpublish" });
    return undefined;
  }
}
