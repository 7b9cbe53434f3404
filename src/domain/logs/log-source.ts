import type { Readable } from "node:stream";
import { NotFoundError, type FieldProblem } from "../errors.js";
import type { TaskRecord, TaskStepRecord } from "../records.js";

export interface LogOptions {
  /** Keep the stream open and pass on new lines until the step ends. */
  follow: boolean;
  /** Only the last N lines. */
  tailLines?: number;
  /** Only lines written in the last N seconds. */
  sinceSeconds?: number;
  /**
   * Where a followed read has got to. A source that knows when each line was written (the pod
   * logs) records the last one here, and a read given the same position again starts after it:
   * a log reopened after its stream ended repeats nothing. Others ignore it.
   */
  position?: LogPosition;
}

/** The write time of the last line passed on, as the source orders them (opaque to others). */
export interface LogPosition {
  last?: string;
}

/** What a log belongs to: a task's run, or an image build's (its uid, engine and Workflow). */
export type LogRun = Pick<TaskRecord, "uid" | "engine" | "workflowName">;
/** The step of that run whose log it is (an image build has one, `build`). */
export type LogStep = Pick<TaskStepRecord, "name" | "nodeId" | "podName">;

/** One place a step's log may be read from: live pods, the artifact archive, local files. */
export interface LogSource {
  readonly name: string;
  /** NotFoundError (with the reason) when this source has no log for the step. */
  open(run: LogRun, step: LogStep, options: LogOptions): Promise<Readable>;
  /** The options this source cannot honour for the run, as field problems (checked before streaming). */
  unsupported?(run: LogRun, options: LogOptions): FieldProblem[];
}

/**
 * Tries each source in order and answers with the first that has the log. Only "not here"
 * (NotFoundError) moves on to the next source; any other failure is reported as it is. When no
 * source has it, the error says why for each.
 */
export function firstAvailable(sources: LogSource[]): LogSource {
  return {
    name: sources.map((s) => s.name).join(" > "),
    unsupported: (run, options) => sources.flatMap((source) => source.unsupported?.(run, options) ?? []),
    async open(run, step, options) {
      const reasons: string[] = [];
      for (const source of sources) {
        try {
          return await source.open(run, step, options);
        } catch (error) {
          if (!(error instanceof NotFoundError)) throw error;
          reasons.push(`${source.name}: ${error.message}`);
        }
      }
      throw new NotFoundError(`no log for step ${step.name} (${reasons.join("; ") || "no log source configured"})`);
    },
  };
}
