import { PassThrough, type Readable } from "node:stream";
import { ValidationError } from "../errors.js";
import type { Principal } from "../principal.js";
import { ACTIVE_TASK_STATUSES, type TaskStepRecord } from "../records.js";
import type { TaskService } from "../tasks/task-service.js";
import type { LogFanout } from "./log-fanout.js";

export interface FollowSettings {
  /** Seconds between keep-alive comments, so proxies keep an idle stream open. */
  keepAliveSeconds: number;
  /** Longest wait between re-reading the task when no change event arrives (another replica may be writing it). */
  recheckMs: number;
}

/**
 * Follows a task's logs as Server-Sent Events: one step or all of them in order, each line an
 * `event: log` with `{"step", "line"}`, then `event: end` with the task's status. Steps are
 * followed as they start; the stream ends when the chosen step (or the task) has ended.
 */
export class LogFollower {
  constructor(private readonly deps: { tasks: TaskService; fanout: LogFanout; settings: FollowSettings }) {}

  async follow(principal: Principal, taskUid: string, stepName?: string, options: { tailLines?: number; sinceSeconds?: number } = {}): Promise<Readable> {
    const { task: current, steps } = await this.deps.tasks.get(principal, taskUid, "task_uid");
    const problems = this.deps.fanout.unsupported(current, options);
    if (problems.length) throw new ValidationError(`Invalid request: ${problems.map((p) => `${p.field} ${p.message}`).join("; ")}`, { problems });
    if (stepName !== undefined && !steps.some((s) => s.name === stepName)) {
      throw ValidationError.field("step", `must be one of ${steps.map((s) => s.name).join(", ")}`);
    }
    const chosen = stepName === undefined ? steps.map((s) => s.name) : [stepName];
    const out = new PassThrough();
    const keepAlive = setInterval(() => out.write(": keep-alive\n\n"), this.deps.settings.keepAliveSeconds * 1000);
    let closed = false;
    out.on("close", () => {
      closed = true;
      clearInterval(keepAlive);
    });
    out.write(": following\n\n");

    (async () => {
      for (const name of chosen) {
        const step = await this.started(principal, taskUid, name, () => closed);
        if (closed) return;
        if (!step) continue; // the task ended before this step ran
        const view = await this.deps.tasks.get(principal, taskUid, "task_uid");
        let upstream: Readable;
        try {
          upstream = await this.deps.fanout.follow(view.task, step, options);
        } catch (error) {
          out.write(event("unavailable", { step: name, reason: (error as Error).message }));
          continue;
        }
        out.on("close", () => upstream.destroy());
        let partial = "";
        for await (const chunk of upstream) {
          const lines = (partial + String(chunk)).split("\n");
          partial = lines.pop() ?? "";
          for (const line of lines) if (!out.write(event("log", { step: name, line }))) await new Promise((resolve) => out.once("drain", resolve));
        }
        if (partial) out.write(event("log", { step: name, line: partial }));
      }
      // Following the whole task ends with the task itself; following one step, with that step.
      if (stepName === undefined) await this.ended(principal, taskUid, () => closed);
      const { task } = await this.deps.tasks.get(principal, taskUid, "task_uid");
      out.end(event("end", { status: task.status, execute_step: task.executeStep, message: task.statusMessage }));
    })().catch((error: unknown) => {
      if (!closed) out.end(event("error", { reason: (error as Error).message }));
    });
    return out;
  }

  /** Waits until the step has started; undefined when the task ends first. */
  private async started(principal: Principal, taskUid: string, name: string, isClosed: () => boolean): Promise<TaskStepRecord | undefined> {
    for (;;) {
      const { task, steps } = await this.deps.tasks.get(principal, taskUid, "task_uid");
      const step = steps.find((s) => s.name === name)!;
      if (step.phase !== "Pending") return step;
      if (!ACTIVE_TASK_STATUSES.includes(task.status) || isClosed()) return undefined;
      await this.nextChange(taskUid);
    }
  }

  private async ended(principal: Principal, taskUid: string, isClosed: () => boolean): Promise<void> {
    while (!isClosed() && ACTIVE_TASK_STATUSES.includes((await this.deps.tasks.get(principal, taskUid, "task_uid")).task.status)) {
      await this.nextChange(taskUid);
    }
  }

  /** The next change of the task in this process, or the recheck interval (another replica may be the writer). */
  private nextChange(taskUid: string): Promise<void> {
    return new Promise<void>((resolve) => {
      const onChange = (uid: string) => uid === taskUid && done();
      const timer = setTimeout(() => done(), this.deps.settings.recheckMs);
      const done = () => {
        clearTimeout(timer);
        this.deps.tasks.changes.off("change", onChange);
        resolve();
      };
      this.deps.tasks.changes.on("change", onChange);
    });
  }
}

function event(name: string, data: unknown): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}
