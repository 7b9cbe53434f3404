import type { Readable } from "node:stream";
import { NotFoundError, ValidationError } from "../errors.js";
import type { Principal } from "../principal.js";
import type { TaskRecord, TaskStepRecord } from "../records.js";
import { kindFromLogType } from "../tasks/task-kinds.js";
import { readCapped } from "../../lib/lines.js";
import type { TaskService } from "../tasks/task-service.js";
import type { LogOptions, LogSource } from "./log-source.js";

export interface StepLogText {
  step: string;
  text: string;
  /** Set when the log was cut at the cap. */
  truncated: boolean;
  /** Set when no source had a log, with the reason. */
  unavailable?: string;
}

/** Task logs per step: the capped JSON view of the original's route, and streams for the rest. */
export class LogService {
  constructor(private readonly deps: { tasks: TaskService; source: LogSource; maxJsonBytesPerStep: number }) {}

  async stepTexts(principal: Principal, taskUid: string, type?: string): Promise<StepLogText[]> {
    const { task, steps } = await this.deps.tasks.get(principal, taskUid);
    if (type !== undefined && kindFromLogType(type) !== task.kind) {
      throw ValidationError.field("logType", `does not match the task, which is a ${task.kind} task`);
    }
    return Promise.all(steps.map((step) => this.capped(task, step)));
  }

  /** Opens the chosen steps' logs for streaming (download, follow). */
  async open(
    principal: Principal,
    taskUid: string,
    stepName: string | undefined,
    options: LogOptions,
  ): Promise<Array<{ step: string; stream: Readable | undefined; reason?: string }>> {
    const { task, steps } = await this.deps.tasks.get(principal, taskUid);
    const chosen = stepName === undefined ? steps : steps.filter((s) => s.name === stepName);
    if (chosen.length === 0) throw ValidationError.field("step", `must be one of ${steps.map((s) => s.name).join(", ")}`);
    return Promise.all(
      chosen.map(async (step) => {
        if (step.phase === "Pending" && !options.follow) return { step: step.name, stream: undefined, reason: "the step has not started" };
        try {
          return { step: step.name, stream: await this.deps.source.open(task, step, options) };
        } catch (error) {
          if (error instanceof NotFoundError) return { step: step.name, stream: undefined, reason: error.message };
          throw error;
        }
      }),
    );
  }

  private async capped(task: TaskRecord, step: TaskStepRecord): Promise<StepLogText> {
    if (step.phase === "Pending") return { step: step.name, text: "", truncated: false };
    let stream: Readable;
    try {
      stream = await this.deps.source.open(task, step, { follow: false });
    } catch (error) {
      if (error instanceof NotFoundError) return { step: step.name, text: "", truncated: false, unavailable: error.message };
      throw error;
    }
    const { text, truncated } = await readCapped(stream, this.deps.maxJsonBytesPerStep);
    return { step: step.name, text, truncated };
  }
}
