import type { Database } from "../ports.js";
import type { TaskDispatcher } from "../tasks/task-dispatcher.js";
import type { BuildProgress, ImageBuilds } from "./image-builds.js";

/** Where an engine reports its image builds: the build's record, then the tasks that waited for it. */
export class BuildRecorder {
  constructor(private readonly deps: { db: Database; builds: ImageBuilds; dispatcher: TaskDispatcher }) {}

  async report(progress: BuildProgress): Promise<void> {
    if (await this.deps.builds.report(progress)) await this.deps.dispatcher.resumeWaiting(progress.buildUid);
  }

  /** Builds still running, by their run's name (to find those whose run vanished). */
  async activeRuns(): Promise<Array<{ buildUid: string; attempt: number; runName: string }>> {
    const building = await this.deps.db.imageBuilds.list({ state: "building" });
    return building.filter((b) => b.workflowName).map((b) => ({ buildUid: b.uid, attempt: b.attempt, runName: b.workflowName! }));
  }
}
