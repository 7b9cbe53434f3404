import { createHash } from "node:crypto";
import type { Clock } from "../clock.js";
import { UnprocessableError } from "../errors.js";
import type { Database, IdGenerator } from "../ports.js";
import type { ImageRecord, ImageSequence, TaskRecord } from "../records.js";
import type { StepResources, TaskPlan } from "./task-engine.js";
import { TASK_KINDS } from "./task-kinds.js";

/** Turns a stored task into what an engine runs, with a fresh step credential (only its hash is kept). */
export class TaskPlanner {
  constructor(private readonly deps: { db: Database; ids: IdGenerator; clock: Clock; stepTokenTtlSeconds: number }) {}

  async plan(task: TaskRecord): Promise<TaskPlan> {
    const { db } = this.deps;
    const [config, pipeline, download, running, upload] = await Promise.all([
      db.configs.find(task.configUid),
      db.pipelines.find(task.pipelineUid),
      db.images.find(task.downloadImageUid),
      db.images.find(task.runningImageUid),
      db.images.find(task.uploadImageUid),
    ]);
    if (!config || !pipeline || !download || !running || !upload)
      throw new UnprocessableError(`an input of task ${task.uid} no longer exists`);
    const [programFile, outputDataset, outputModel] = await Promise.all([
      db.files.find(pipeline.fileUid),
      task.outputDatasetUid ? db.datasets.find(task.outputDatasetUid) : null,
      task.outputModelUid ? db.models.find(task.outputModelUid) : null,
    ]);
    const outputFileName = outputDataset
      ? `training_dataset.${outputDataset.extension}`
      : outputModel
        ? `model.${outputModel.extension}`
        : null;
    const resources = JSON.parse(task.resources) as Record<ImageSequence, StepResources>;
    const images: Record<ImageSequence, ImageRecord> = { download, running, upload };
    const stepToken = this.deps.ids.token(32);
    await db.tasks.update(task.uid, {
      stepTokenHash: createHash("sha256").update(stepToken).digest("hex"),
      stepTokenExpires: new Date(this.deps.clock.now().getTime() + this.deps.stepTokenTtlSeconds * 1000),
    });
    return {
      task,
      steps: TASK_KINDS[task.kind].steps.map((step) => ({ ...step, image: images[step.sequence], resources: resources[step.sequence] })),
      config: JSON.parse(config.data) as Record<string, unknown>,
      programExtension: programFile?.extension ?? "py",
      outputFileName,
      stepToken,
    };
  }
}
