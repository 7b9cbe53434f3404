import type { Readable } from "node:stream";
import { ValidationError } from "../errors.js";
import type { Principal } from "../principal.js";
import { ACTIVE_TASK_STATUSES, type TaskStepRecord } from "../records.js";
import type { TaskLifecycle } from "../tasks/task-lifecycle.js";
import type { TaskService } from "../tasks/task-service.js";
import { splitLines } from "../../lib/lines.js";
import type { LogFanout } from "./log-fanout.js";

export interface FollowSettings {
  /** Longest wait between re-reading the task when no change event arrives (another replica may be writing it). */
  recheckMs: number;
}

/** What following a task's logs yields, in order; the HTTP layer frames it (Server-Sent Events). */
export type LogEvent =
  | { type: "log"; step: string; line: string }
  | { type: "unavailable"; step: string; reason: string }
  | { type: "end"; status: string; executeStep: string; message: string };

/**
 * Follows a task's logs: one step or all of them in order, as they start, line by line, then
 * the task's status. It ends when the chosen step (or the task) has ended, or when `signal`
 * aborts (the client left): every upstream it opened is released then.
 */
export class LogFollower {
  constructor(private readonly deps: { tasks: TaskService; lifecycle: TaskLifecycle; fanout: LogFanout; settings: FollowSettings }) {}

  /** Checks the request, then returns the events (checked first, so a bad request is an error, not an empty stream). */
  async follow(
    principal: Principal,
    taskUid: string,
    stepName: string | undefined,
    options: { tailLines?: number; sinceSeconds?: number },
    signal: AbortSignal,
  ): Promise<AsyncGenerator<LogEvent>> {
    const { task, steps } = await this.deps.tasks.get(principal, taskUid);
    const problems = this.deps.fanout.unsupported(task, options);
    if (problems.length)
      throw new ValidationError(`Invalid request: ${problems.map((p) => `${p.field} ${p.message}`).join("; ")}`, { problems });
    if (stepName !== undefined && !steps.some((s) => s.name === stepName)) {
      throw ValidationError.field("step", `must be one of ${steps.map((s) => s.name).join(", ")}`);
    }
    return this.events(
      principal,
      taskUid,
      stepName === undefined ? steps.map((s) => s.name) : [stepName],
      stepName === undefined,
      options,
      signal,
    );
  }

  private async *events(
    principal: Principal,
    taskUid: string,
    chosen: string[],
    wholeTask: boolean,
    options: { tailLines?: number; sinceSeconds?: number },
    signal: AbortSignal,
  ): AsyncGenerator<LogEvent> {
    for (const name of chosen) {
      const step = await this.started(principal, taskUid, name, signal);
      if (signal.aborted) return;
      if (!step) continue; // the task ended before this step ran
      const { task } = await this.deps.tasks.get(principal, taskUid);
      let upstream: Readable;
      try {
        upstream = await this.deps.fanout.follow(task, step, options);
      } catch (error) {
        yield { type: "unavailable", step: name, reason: (error as Error).message };
        continue;
      }
      const release = () => upstream.destroy();
      signal.addEventListener("abort", release, { once: true });
      try {
        for await (const line of splitLines(upstream)) yield { type: "log", step: name, line };
      } finally {
        signal.removeEventListener("abort", release);
        upstream.destroy();
      }
    }
    // Following the whole task ends with the task itself; following one step, with that step.
    if (wholeTask) await this.ended(principal, taskUid, signal);
    if (signal.aborted) return;
    const { task } = await this.deps.tasks.get(principal, taskUid);
    yield { type: "end", status: task.status, executeStep: task.executeStep, message: task.statusMessage };
  }

  /** Waits until the step has started; undefined when the task ends first. */
  private async started(principal: Principal, taskUid: string, name: string, signal: AbortSignal): Promise<TaskStepRecord | undefined> {
    for (;;) {
      const { task, steps } = await this.deps.tasks.get(principal, taskUid);
      const step = steps.find((s) => s.name === name)!;
      if (step.phase !== "Pending") return step;
      if (!ACTIVE_TASK_STATUSES.includes(task.status) || signal.aborted) return undefined;
      await this.nextChange(taskUid, signal);
    }
  }

  private async ended(principal: Principal, taskUid: string, signal: AbortSignal): Promise<void> {
    while (!signal.aborted && ACTIVE_TASK_STATUSES.includes((await this.deps.tasks.get(principal, taskUid)).task.status)) {
      await this.nextChange(taskUid, signal);
    }
  }

  /** The next change of the task in this process, the recheck interval (another replica may be the writer), or the end of following. */
  private nextChange(taskUid: string, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const onChange = (uid: string) => uid === taskUid && done();
      const timer = setTimeout(() => done(), this.deps.settings.recheckMs);
      const done = () => {
        clearTimeout(timer);
        this.deps.lifecycle.changes.off("change", onChange);
        signal.removeEventListener("abort", done);
        resolve();
      };
      this.deps.lifecycle.changes.on("change", onChange);
      signal.addEventListener("abort", done, { once: true });
    });
  }
}
