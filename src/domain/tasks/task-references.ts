import { NotFoundError, UnprocessableError } from "../errors.js";
import type { Database, SubmissionApplication, SubmissionDataset, SubmissionImage, SubmissionModel, SubmissionPipeline } from "../ports.js";
import { canAccess, type Principal } from "../principal.js";
import {
  IMAGE_SEQUENCES,
  type DatasetRecord,
  type DatasetScope,
  type ImageSequence,
  type ModelRecord,
  type TaskKind,
  type TaskRecord,
} from "../records.js";
import { checkExtension } from "../registry/storage-keys.js";
import type { StepResources } from "./task-engine.js";
import { TASK_KINDS } from "./task-kinds.js";

/** What a submission names. Errors about it name these fields (`pipelineUid`, `imageUids.download`, ...). */
import type { EarlyStopRule } from "./metric-history.js";

export interface SubmitInput {
  /** A uid the client chose (an MRMS learn_hist_no, a Prediction One retrain job); a taken one is a conflict. */
  uid?: string;
  name: string;
  description: string;
  pipelineUid: string;
  datasetUid: string;
  /** Where the input dataset lives. */
  datasetScope: DatasetScope;
  configUid: string;
  imageUids: Record<ImageSequence, string>;
  /** Optimization and evaluation: the model they start from. */
  baseModelUid?: string;
  /** Preprocessing: the dataset it produces. */
  outputDataset?: { name: string; description: string; type?: string; extension: string };
  /** Training and optimization: the model they produce. */
  outputModel?: { name: string; description: string; type: string; inputFormat: string; outputFormat: string; extension: string };
  resources?: Partial<Record<ImageSequence, Partial<StepResources>>>;
  /** Stops the run when its reported metric meets the rule (MRMS early_stop_param). */
  earlyStop?: EarlyStopRule;
}

export interface References {
  pipeline: SubmissionPipeline;
  application: SubmissionApplication;
  images: Record<ImageSequence, SubmissionImage>;
  dataset: SubmissionDataset;
  baseModel: SubmissionModel | undefined;
  /** The highest version in the base model's lineage (for the output's version). */
  lineageVersion: number | null;
  /** The early-stop rule (JSON) the project sets for tasks whose body sets none. */
  projectEarlyStop: string | null;
}

const mismatch = (subject: string, detail: string, requirement: string) =>
  new UnprocessableError(detail, { problems: [{ field: subject, message: requirement }] });

/**
 * Checks every uid a submission names, read together in one query: owned by the caller's
 * organization (else "not found", as for a uid that does not exist) and consistent with the
 * pipeline and the task kind.
 */
export async function checkReferences(db: Database, principal: Principal, kind: TaskKind, input: SubmitInput): Promise<References> {
  const definition = TASK_KINDS[kind];
  const rows = await db.readSubmission({
    pipelineUid: input.pipelineUid,
    imageUids: input.imageUids,
    configUid: input.configUid,
    datasetUid: input.datasetUid,
    baseModelUid: kind === "optimization" || kind === "evaluation" ? (input.baseModelUid ?? "") : null,
  });
  const owned = <R extends { organizationUid: string }>(record: R | null, entity: string, subject: string, uid: string): R => {
    if (!record || !canAccess(principal, record.organizationUid)) throw NotFoundError.entity(entity, subject, uid);
    return record;
  };
  const pipeline = owned(rows.pipeline, "pipeline", "pipelineUid", input.pipelineUid);
  if (!definition.pipelineTypes.includes(pipeline.type)) {
    const allowed = definition.pipelineTypes.join(" or ");
    throw mismatch(
      "pipelineUid",
      `pipeline ${pipeline.uid} is a ${pipeline.type} pipeline; this route runs ${allowed} pipelines`,
      `must be a ${allowed} pipeline`,
    );
  }
  const application = rows.application!;
  const images = {} as Record<ImageSequence, SubmissionImage>;
  for (const sequence of IMAGE_SEQUENCES) {
    const subject = `imageUids.${sequence}`;
    const image = owned(rows.images[sequence], "build file", subject, input.imageUids[sequence]);
    if (image.pipelineUid !== pipeline.uid)
      throw mismatch(subject, `build file ${image.uid} belongs to another pipeline`, "must belong to the pipeline");
    if (image.sequence !== sequence)
      throw mismatch(subject, `build file ${image.uid} is a ${image.sequence} build file`, `must have sequence ${sequence}`);
    images[sequence] = image;
  }
  const config = owned(rows.config, "config", "configUid", input.configUid);
  if (config.pipelineUid !== pipeline.uid)
    throw mismatch("configUid", `config ${config.uid} belongs to another pipeline`, "must belong to the pipeline");

  const dataset = owned(rows.dataset, `${input.datasetScope} dataset`, "datasetUid", input.datasetUid);
  if (dataset.scope !== input.datasetScope) throw NotFoundError.entity(`${input.datasetScope} dataset`, "datasetUid", input.datasetUid);
  const parentMatches =
    dataset.scope === "project" ? dataset.projectUid === application.projectUid : dataset.applicationUid === application.uid;
  if (!parentMatches)
    throw mismatch(
      "datasetUid",
      `dataset ${dataset.uid} is not in this pipeline's ${dataset.scope}`,
      `must belong to the pipeline's ${dataset.scope}`,
    );
  if (dataset.status !== "available" || !dataset.fileUid)
    throw mismatch("datasetUid", `dataset ${dataset.uid} has no file yet`, "is not available yet");
  const expectedTypes = kind === "preprocessing" ? ["original"] : dataset.scope === "project" ? ["training"] : ["optimization"];
  if (!expectedTypes.includes(dataset.type))
    throw mismatch("datasetUid", `dataset ${dataset.uid} is a ${dataset.type} dataset`, `must be a ${expectedTypes.join(" or ")} dataset`);

  let baseModel: SubmissionModel | undefined;
  if (kind === "optimization" || kind === "evaluation") {
    baseModel = owned(rows.baseModel, "model", "baseModelUid", input.baseModelUid ?? "");
    if (baseModel.applicationUid !== application.uid)
      throw mismatch("baseModelUid", `model ${baseModel.uid} belongs to another application`, "must belong to the pipeline's application");
    // Usable as ModelRegistry.usable says: a file, and not an output of a task that has not succeeded.
    if (!baseModel.fileUid || rows.baseModelInProduction)
      throw mismatch("baseModelUid", `model ${baseModel.uid} has no file yet`, "is not available yet");
  }
  return {
    pipeline,
    application,
    images,
    dataset,
    baseModel,
    lineageVersion: rows.lineageVersion,
    projectEarlyStop: rows.projectEarlyStop,
  };
}

/** The output dataset a task will produce, written with it (unavailable until the task succeeds). */
export function outputDataset(
  uid: string,
  refs: References,
  output: NonNullable<SubmitInput["outputDataset"]>,
  createdAt: Date,
): DatasetRecord {
  // The output lives where its input did: a project dataset gives a training dataset, an application one an optimization dataset.
  const type = refs.dataset.scope === "project" ? "training" : "optimization";
  if (output.type && output.type !== type)
    throw mismatch(
      "outputDataset.type",
      `a ${refs.dataset.scope} dataset produces a ${type} dataset`,
      `must be ${type} for a ${refs.dataset.scope} dataset`,
    );
  return {
    uid,
    name: output.name,
    description: output.description,
    scope: refs.dataset.scope,
    type,
    status: "unavailable",
    createdAt,
    organizationUid: refs.pipeline.organizationUid,
    projectUid: refs.dataset.scope === "project" ? refs.application.projectUid : null,
    applicationUid: refs.dataset.scope === "application" ? refs.application.uid : null,
    fileUid: null,
    extension: checkExtension("outputDataset.extension", output.extension),
  };
}

/** The output model a task will produce: the next version of its base model's lineage, or version 1. */
export function outputModel(
  uid: string,
  accessToken: string,
  refs: References,
  output: NonNullable<SubmitInput["outputModel"]>,
  createdAt: Date,
): ModelRecord {
  const source = refs.baseModel ? (refs.baseModel.source ?? refs.baseModel.uid) : null;
  const version = refs.baseModel ? Math.max(refs.baseModel.version, refs.lineageVersion ?? 0) + 1 : 1;
  return {
    uid,
    name: output.name,
    description: output.description,
    type: output.type,
    inputFormat: output.inputFormat,
    outputFormat: output.outputFormat,
    status: "unavailable",
    version,
    accuracy: null,
    bookmarked: false,
    accessToken,
    source,
    createdAt,
    organizationUid: refs.pipeline.organizationUid,
    applicationUid: refs.application.uid,
    agentUid: null,
    fileUid: null,
    extension: checkExtension("outputModel.extension", output.extension),
  };
}

/** What resubmitting a task submits: its inputs again, and an output like the one it had. */
export function resubmission(
  old: TaskRecord,
  datasetScope: DatasetScope,
  outputDataset: DatasetRecord | null,
  outputModel: ModelRecord | null,
): SubmitInput {
  return {
    name: old.name,
    description: old.description,
    pipelineUid: old.pipelineUid,
    datasetUid: old.datasetUid,
    datasetScope,
    configUid: old.configUid,
    imageUids: { download: old.downloadImageUid, running: old.runningImageUid, upload: old.uploadImageUid },
    ...(old.baseModelUid ? { baseModelUid: old.baseModelUid } : {}),
    ...(old.outputDatasetUid
      ? {
          outputDataset: {
            name: outputDataset?.name ?? old.name,
            description: outputDataset?.description ?? "",
            extension: outputDataset?.extension ?? "zip",
          },
        }
      : {}),
    ...(old.outputModelUid
      ? {
          outputModel: {
            name: outputModel?.name ?? old.name,
            description: outputModel?.description ?? "",
            type: outputModel?.type ?? "default",
            inputFormat: outputModel?.inputFormat ?? "",
            outputFormat: outputModel?.outputFormat ?? "",
            extension: outputModel?.extension ?? "zip",
          },
        }
      : {}),
    resources: JSON.parse(old.resources) as SubmitInput["resources"],
  };
}
