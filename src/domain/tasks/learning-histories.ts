import { NotFoundError, ValidationError } from "../errors.js";
import type { Database } from "../ports.js";
import { canAccess, type Principal } from "../principal.js";
import { IMAGE_SEQUENCES, type ImageSequence } from "../records.js";
import type { LearningReports } from "./learning-reports.js";
import type { SubmittedTask, TaskService } from "./task-service.js";

export interface LearningHistoryInput {
  /** learn_hist_no: the task's uid, chosen by the client. */
  uid: string;
  /** alg_id: the training pipeline (the algorithm). */
  pipelineUid: string;
  /** param_id: the config (the hyperparameters HPRS recommends). */
  configUid: string;
  /** dp_analysis_id: the training dataset. */
  datasetUid: string;
  /** project_id: must be the pipeline's project. */
  projectUid: string;
  /** start_time as the client wrote it, kept as the reported start. */
  startTime?: string;
}

/**
 * MRMS's insert_learn_hist: a hyperparameter search (HPRS) adds a learning history to run. Here
 * it is a training task of the named pipeline with the named config and dataset, run with the
 * pipeline's newest build file of each step, under the uid the client chose.
 */
export class LearningHistories {
  constructor(private readonly deps: { db: Database; tasks: TaskService; reports: LearningReports }) {}

  async insert(principal: Principal, input: LearningHistoryInput): Promise<SubmittedTask> {
    const { db } = this.deps;
    const pipeline = await db.pipelines.find(input.pipelineUid);
    if (!pipeline || !canAccess(principal, pipeline.organizationUid)) throw NotFoundError.entity("pipeline", "alg_id", input.pipelineUid);
    const application = await db.applications.find(pipeline.applicationUid);
    if (application?.projectUid !== input.projectUid)
      throw ValidationError.field("project_id", `is not the project of pipeline ${pipeline.uid} (alg_id)`);
    const buildFiles = await db.images.list({ pipelineUid: pipeline.uid }); // oldest first
    const images = {} as Record<ImageSequence, string>;
    for (const sequence of IMAGE_SEQUENCES) {
      const newest = buildFiles.filter((image) => image.sequence === sequence).at(-1);
      if (!newest) throw ValidationError.field("alg_id", `names a pipeline without a ${sequence} build file`);
      images[sequence] = newest.uid;
    }
    const submitted = await this.deps.tasks.submit(principal, "training", {
      uid: input.uid,
      name: `learn_hist ${input.uid}`,
      description: "added by MRMS insert_learn_hist",
      pipelineUid: pipeline.uid,
      datasetUid: input.datasetUid,
      datasetScope: "project",
      configUid: input.configUid,
      imageUids: images,
      outputModel: {
        name: `learn_hist ${input.uid}`,
        description: "",
        type: "default",
        inputFormat: "",
        outputFormat: "",
        extension: "zip",
      },
    });
    if (input.startTime) await this.deps.reports.reportTime(submitted.task, "start", input.startTime);
    return submitted;
  }
}
