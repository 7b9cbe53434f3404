import { NotFoundError, UnprocessableError } from "../errors.js";
import type { Database, IdGenerator, Stores } from "../ports.js";
import type { Principal } from "../principal.js";
import {
  IMAGE_SEQUENCES,
  type ApplicationRecord,
  type DatasetRecord,
  type DatasetScope,
  type ImageRecord,
  type ImageSequence,
  type ModelRecord,
  type PipelineRecord,
  type TaskKind,
  type TaskRecord,
} from "../records.js";
import type { DatasetRegistry } from "../registry/dataset-registry.js";
import type { ModelRegistry } from "../registry/model-registry.js";
import type { RegistryService } from "../registry/registry-service.js";
import { checkExtension } from "../registry/storage-keys.js";
import type { StepResources } from "./task-engine.js";
import { TASK_KINDS } from "./task-kinds.js";

/** What a submission names. Errors about it name these fields (`pipelineUid`, `imageUids.download`, ...). */
export interface SubmitInput {
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
}

export interface References {
  pipeline: PipelineRecord;
  application: ApplicationRecord;
  images: Record<ImageSequence, ImageRecord>;
  dataset: DatasetRecord;
  baseModel: ModelRecord | undefined;
}

const mismatch = (subject: string, detail: string, requirement: string) =>
  new UnprocessableError(detail, { problems: [{ field: subject, message: requirement }] });

/** Checks every uid a submission names: owned by the caller's organization and consistent with the pipeline and the task kind. */
export async function checkReferences(
  deps: { db: Database; registry: RegistryService; datasets: DatasetRegistry; models: ModelRegistry },
  principal: Principal,
  kind: TaskKind,
  input: SubmitInput,
): Promise<References> {
  const { db, registry, datasets, models } = deps;
  const definition = TASK_KINDS[kind];
  const { record: pipeline } = await registry.getPipeline(principal, input.pipelineUid, "pipelineUid");
  if (!definition.pipelineTypes.includes(pipeline.type)) {
    const allowed = definition.pipelineTypes.join(" or ");
    throw mismatch(
      "pipelineUid",
      `pipeline ${pipeline.uid} is a ${pipeline.type} pipeline; this route runs ${allowed} pipelines`,
      `must be a ${allowed} pipeline`,
    );
  }
  const application = (await db.applications.find(pipeline.applicationUid))!;
  const images = {} as Record<ImageSequence, ImageRecord>;
  for (const sequence of IMAGE_SEQUENCES) {
    const subject = `imageUids.${sequence}`;
    const image = await registry.owned(db.images, "build file", subject, principal, input.imageUids[sequence]);
    if (image.pipelineUid !== pipeline.uid)
      throw mismatch(subject, `build file ${image.uid} belongs to another pipeline`, "must belong to the pipeline");
    if (image.sequence !== sequence)
      throw mismatch(subject, `build file ${image.uid} is a ${image.sequence} build file`, `must have sequence ${sequence}`);
    images[sequence] = image;
  }
  const config = await registry.owned(db.configs, "config", "configUid", principal, input.configUid);
  if (config.pipelineUid !== pipeline.uid)
    throw mismatch("configUid", `config ${config.uid} belongs to another pipeline`, "must belong to the pipeline");

  const dataset = await datasets.getDataset(principal, input.datasetScope, input.datasetUid, "datasetUid").catch((error: unknown) => {
    if (error instanceof NotFoundError) throw NotFoundError.entity(`${input.datasetScope} dataset`, "datasetUid", input.datasetUid);
    throw error;
  });
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

  let baseModel: ModelRecord | undefined;
  if (kind === "optimization" || kind === "evaluation") {
    baseModel = await models.getModel(principal, input.baseModelUid ?? "", "baseModelUid");
    if (baseModel.applicationUid !== application.uid)
      throw mismatch("baseModelUid", `model ${baseModel.uid} belongs to another application`, "must belong to the pipeline's application");
    if (!(await models.usable([baseModel])).length)
      throw mismatch("baseModelUid", `model ${baseModel.uid} has no file yet`, "is not available yet");
  }
  return { pipeline, application, images, dataset, baseModel };
}

/** The output a task will produce, created with it (unavailable until the task succeeds). */
export async function createOutputDataset(
  stores: Stores,
  ids: IdGenerator,
  refs: References,
  output: NonNullable<SubmitInput["outputDataset"]>,
): Promise<string> {
  // The output lives where its input did: a project dataset gives a training dataset, an application one an optimization dataset.
  const type = refs.dataset.scope === "project" ? "training" : "optimization";
  if (output.type && output.type !== type)
    throw mismatch(
      "outputDataset.type",
      `a ${refs.dataset.scope} dataset produces a ${type} dataset`,
      `must be ${type} for a ${refs.dataset.scope} dataset`,
    );
  const uid = ids.uid();
  await stores.datasets.create({
    uid,
    name: output.name,
    description: output.description,
    scope: refs.dataset.scope,
    type,
    status: "unavailable",
    organizationUid: refs.pipeline.organizationUid,
    projectUid: refs.dataset.scope === "project" ? refs.application.projectUid : null,
    applicationUid: refs.dataset.scope === "application" ? refs.application.uid : null,
    fileUid: null,
    extension: checkExtension("outputDataset.extension", output.extension),
  });
  return uid;
}

export async function createOutputModel(
  stores: Stores,
  ids: IdGenerator,
  refs: References,
  output: NonNullable<SubmitInput["outputModel"]>,
): Promise<string> {
  const uid = ids.uid();
  const source = refs.baseModel ? (refs.baseModel.source ?? refs.baseModel.uid) : null;
  const version = source ? Math.max(refs.baseModel!.version, ...(await stores.models.list({ source })).map((m) => m.version)) + 1 : 1;
  await stores.models.create({
    uid,
    name: output.name,
    description: output.description,
    type: output.type,
    inputFormat: output.inputFormat,
    outputFormat: output.outputFormat,
    status: "unavailable",
    version,
    accuracy: null,
    accessToken: ids.token(32),
    source,
    organizationUid: refs.pipeline.organizationUid,
    applicationUid: refs.application.uid,
    agentUid: null,
    fileUid: null,
    extension: checkExtension("outputModel.extension", output.extension),
  });
  return uid;
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
