import type { Database, Logger, Stores } from "../ports.js";
import { ACTIVE_TASK_STATUSES, type TaskRecord } from "../records.js";

/** MRMS's learn_sttus_cd as a worker reports it: 5 learning, 6 done, 7 error. */
type LearningStatusCode = "5" | "6" | "7";

export interface ReportedLearning {
  status?: { code: LearningStatusCode; worker: string; message: string };
  start_time?: string;
  end_time?: string;
}

/**
 * What a running step says about its own learning (MRMS's status_update/learn and time_update):
 * kept on the task beside what the engine measures, shown in task info. The engine's phases stay
 * the task's status; a worker that reports an error (7) stops the run with its message, since
 * the original platform ended a learning on that report.
 */
export class LearningReports {
  constructor(
    private readonly deps: {
      db: Database;
      logger: Logger;
      /** Stops the task's run (the engine's stop), with the reason in its history. */
      stop(task: TaskRecord, message: string): Promise<void>;
    },
  ) {}

  async reportStatus(task: TaskRecord, status: NonNullable<ReportedLearning["status"]>): Promise<void> {
    await this.merge(task, { status });
    if (status.code === "7" && ACTIVE_TASK_STATUSES.includes(task.status)) {
      this.deps.logger.info({ task: task.uid, worker: status.worker }, "action=learning-error-reported");
      await this.deps.stop(task, `worker ${status.worker} reported a learning error: ${status.message}`.slice(0, 2000));
    }
  }

  /** A reported start or end of learning (YYYYmmddHHMMSS as MRMS wrote it). */
  async reportTime(task: TaskRecord, which: "start" | "end", time: string): Promise<void> {
    await this.merge(task, which === "start" ? { start_time: time } : { end_time: time });
  }

  private async merge(task: TaskRecord, report: ReportedLearning): Promise<void> {
    await this.deps.db.transaction(async (stores: Stores) => {
      const current = (await stores.tasks.lock(task.uid)) ?? task;
      const summary = JSON.parse(current.metricSummary) as { reported?: ReportedLearning };
      summary.reported = { ...summary.reported, ...report };
      await stores.tasks.update(task.uid, { metricSummary: JSON.stringify(summary) });
    });
  }
}
