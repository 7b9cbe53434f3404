import { createHash } from "node:crypto";
import type { Clock } from "../clock.js";
import { UnprocessableError } from "../errors.js";
import type { Database, IdGenerator } from "../ports.js";
import type { StepImage } from "../builds/image-builds.js";
import type { ImageSequence, TaskRecord } from "../records.js";
import type { StepResources, TaskPlan } from "./task-engine.js";
import { TASK_KINDS } from "./task-kinds.js";
import { outputTargetOf } from "./task-outputs.js";

/** Turns a stored task into what an engine runs, with a fresh step credential (only its hash is kept). */
export class TaskPlanner {
  constructor(private readonly deps: { db: Database; ids: IdGenerator; clock: Clock; stepTokenTtlSeconds: number }) {}

  /**
   * The run of `task`, whose steps run `images` (see ImageBuilds.readiness). `stepToken` is the
   * credential whose hash was stored with the task at submission; without it a fresh one is made.
   */
  async plan(task: TaskRecord, images: Record<ImageSequence, StepImage>, stepToken?: string): Promise<TaskPlan> {
    const { db } = this.deps;
    const [config, pipeline] = await Promise.all([db.configs.find(task.configUid), db.pipelines.find(task.pipelineUid)]);
    if (!config || !pipeline) throw new UnprocessableError(`an input of task ${task.uid} no longer exists`);
    const dataset = await db.datasets.find(task.datasetUid);
    const [datasetFile, output] = await Promise.all([
      dataset?.fileUid ? db.files.find(dataset.fileUid) : null,
      task.outputDatasetUid || task.outputModelUid ? outputTargetOf(db, task) : null,
    ]);
    const outputFileName = output ? `${output.kind === "dataset" ? "training_dataset" : "model"}.${output.extension}` : null;
    const resources = JSON.parse(task.resources) as Record<ImageSequence, StepResources>;
    let token = stepToken;
    if (!token) {
      const fresh = this.newCredential();
      token = fresh.token;
      await db.tasks.update(task.uid, { stepTokenHash: fresh.hash, stepTokenExpires: fresh.expires });
    }
    return {
      task,
      steps: TASK_KINDS[task.kind].steps.map((step) => ({ ...step, run: images[step.sequence], resources: resources[step.sequence] })),
      config: JSON.parse(config.data) as Record<string, unknown>,
      outputFileName,
      datasetFilePath: datasetFile?.storageKey ?? null,
      outputFilePath: output?.key ?? null,
      stepToken: token,
      firstAttempt: stepToken !== undefined,
    };
  }

  /** A step credential: the token in clear for the engine, its hash and expiry for the task's row. */
  newCredential(): { token: string; hash: string; expires: Date } {
    const token = this.deps.ids.token(32);
    return {
      token,
      hash: createHash("sha256").update(token).digest("hex"),
      expires: new Date(this.deps.clock.now().getTime() + this.deps.stepTokenTtlSeconds * 1000),
    };
  }
}
