import { EventEmitter } from "node:events";
import type { Clock } from "../clock.js";
import { ConflictError, NotFoundError } from "../errors.js";
import type { Database, Logger } from "../ports.js";
import {
  FAILED_TASK_STATUSES,
  FINAL_TASK_STATUSES,
  type ExecuteStep,
  type TaskRecord,
  type TaskStatus,
  type TaskStepRecord,
} from "../records.js";
import { TASK_KINDS } from "./task-kinds.js";

/**
 * The one writer of a task's status: every change is stored with its history event and
 * announced on `changes` (followers of logs and statuses wait on it). A task that has ended
 * stays ended, whatever a caller holding an older copy of it writes (a late report, a dispatch
 * that began before a stop); only a retry reopens it.
 */
export class TaskLifecycle {
  /** Emits the task uid whenever a task's status or steps change in this process. */
  readonly changes = new EventEmitter().setMaxListeners(0);

  constructor(private readonly deps: { db: Database; clock: Clock; logger: Logger }) {}

  /**
   * Moves an active task to `status`, in one conditional write. A task that ended meanwhile is
   * left as it is and returned as it is now (`task`, when it has been deleted).
   * `finishedAt`: when the run ended, as its engine saw it (else now), for a status that ends the task.
   */
  async transition(
    task: TaskRecord,
    status: TaskStatus,
    executeStep: ExecuteStep,
    message: string,
    options: { finishedAt?: Date } = {},
  ): Promise<TaskRecord> {
    const updated = await this.transitionIfActive(task, status, executeStep, message, options);
    return updated ?? (await this.deps.db.tasks.find(task.uid)) ?? task;
  }

  /** `transition`, answering null when the task ended (or was deleted) meanwhile and nothing was written. */
  async transitionIfActive(
    task: TaskRecord,
    status: TaskStatus,
    executeStep: ExecuteStep,
    message: string,
    options: { finishedAt?: Date } = {},
  ): Promise<TaskRecord | null> {
    const now = this.deps.clock.now();
    const ended = FINAL_TASK_STATUSES.includes(status);
    // With its history event, or a reader could see the status without it.
    const updated = await this.deps.db.transaction(async (stores) => {
      const written = await stores.tasks.updateUnlessEnded(task.uid, {
        status,
        executeStep,
        statusMessage: message,
        updatedAt: now,
        // A finished task's credential is worthless from now on: forget it.
        ...(ended ? { finishedAt: options.finishedAt ?? now, stepTokenHash: null, stepTokenExpires: null } : {}),
      });
      if (written) await stores.taskEvents.append({ taskUid: task.uid, status, executeStep, message, at: now });
      return written;
    });
    if (!updated) return null;
    this.deps.logger.info({ task: task.uid, status, executeStep }, "action=task-status");
    this.changed(task.uid);
    return updated;
  }

  /**
   * Reopens a failed task for a retry, as one conditional write: of two retries that both read it
   * failed, only one reopens it and the other gets a conflict (two would each renew the step
   * credential, and the loser's refused restart would end the winner's run). The new attempt
   * makes the old run's late reports stale.
   */
  async reopen(task: TaskRecord, status: TaskStatus, executeStep: ExecuteStep, message: string): Promise<TaskRecord> {
    const now = this.deps.clock.now();
    const reopened = await this.deps.db.transaction(async (stores) => {
      const current = await stores.tasks.lock(task.uid);
      if (!current) throw NotFoundError.entity("task", "uid", task.uid); // deleted meanwhile
      if (!FAILED_TASK_STATUSES.includes(current.status))
        throw new ConflictError(`task ${task.uid} is ${current.status}; only a failed task can be retried`);
      if (current.attempt !== task.attempt) throw new ConflictError(`task ${task.uid} was retried meanwhile; read it again`);
      const updated = await stores.tasks.update(task.uid, {
        status,
        executeStep,
        statusMessage: message,
        updatedAt: now,
        finishedAt: null,
        attempt: current.attempt + 1,
      });
      await stores.taskEvents.append({ taskUid: task.uid, status, executeStep, message, at: now });
      return updated;
    });
    this.deps.logger.info({ task: task.uid, status, executeStep, attempt: reopened.attempt }, "action=task-status");
    this.changed(task.uid);
    return reopened;
  }

  /** Announces a change that is not a status change (a step's progress). */
  changed(taskUid: string): void {
    this.changes.emit("change", taskUid);
  }
}

/** A step that has not run (yet, or again after a retry). */
export function pendingStep(taskUid: string, name: string, sequence: string): TaskStepRecord {
  return {
    taskUid,
    name,
    sequence,
    phase: "Pending",
    startedAt: null,
    finishedAt: null,
    exitCode: null,
    message: "",
    resources: "{}",
    nodeId: null,
    podName: null,
  };
}

/**
 * The task's steps in the order its kind runs them. A step is stored once its engine first
 * reports it (the accept path writes none); until then it is pending.
 */
export function stepsOf(task: TaskRecord, stored: TaskStepRecord[]): TaskStepRecord[] {
  const definition = TASK_KINDS[task.kind].steps;
  const unreported = definition.filter((step) => !stored.some((s) => s.name === step.name));
  const order = definition.map((s) => s.name);
  return [...stored, ...unreported.map((step) => pendingStep(task.uid, step.name, step.sequence))].sort(
    (a, b) => order.indexOf(a.name) - order.indexOf(b.name),
  );
}
