/**
 * Tasks: the original's run, info, list, update and delete keys, and the control keys this
 * service adds (stop, terminate, retry, resubmit), listed in the README.
 */
import { Type, type Static, type TObject } from "@sinclair/typebox";
import { ValidationError } from "../../domain/errors.js";
import { TASK_STATUSES, type TaskKind } from "../../domain/records.js";
import { TASK_KINDS } from "../../domain/tasks/task-kinds.js";
import type { EarlyStopRule } from "../../domain/tasks/metric-history.js";
import type { SubmitInput } from "../../domain/tasks/task-references.js";
import type { SubmittedTask, TaskService } from "../../domain/tasks/task-service.js";
import type { Presenter } from "../shared/presenters.js";
import { EXECUTED, LISTED, RETRIEVED, UPDATED } from "./messages.js";
import { listed, operation, record, type OperationResult } from "./operation.js";
import { EarlyStopParam, earlyStopRule } from "./early-stop.js";
import { Name, Optional, Quantity, Text, Uid, oneOf } from "./schemas.js";

const TASK_KIND_NAMES = Object.keys(TASK_KINDS) as readonly TaskKind[];

const StepResources = Type.Object(
  { cpu: Optional(Quantity), memory: Optional(Quantity), gpu: Optional(Type.Integer({ minimum: 0, maximum: 16 })) },
  { additionalProperties: false },
);
const Resources = Type.Object(
  { download: Optional(StepResources), running: Optional(StepResources), upload: Optional(StepResources) },
  { additionalProperties: false },
);
const Common = {
  task_name: Name,
  pipeline_uid: Uid,
  dataset_uid: Uid,
  config_uid: Uid,
  image_uid: Type.Object({ download_uid: Uid, running_uid: Uid, upload_uid: Uid }),
  task_description: Optional(Text),
  resources: Optional(Resources),
  early_stop_param: Optional(EarlyStopParam),
};
const ModelOutput = {
  model_name: Name,
  model_type: Name,
  model_input_format: Name,
  model_output_format: Name,
  model_file_extension: Name,
  model_description: Optional(Text),
};

/** Where each submission subject came from in the original's run bodies. */
const RUN_FIELDS = {
  pipelineUid: "pipeline_uid",
  datasetUid: "dataset_uid",
  configUid: "config_uid",
  baseModelUid: "model_uid",
  "imageUids.download": "image_uid.download_uid",
  "imageUids.running": "image_uid.running_uid",
  "imageUids.upload": "image_uid.upload_uid",
  "outputDataset.type": "dataset_type",
  "outputDataset.extension": "dataset_file_extension",
  "outputModel.extension": "model_file_extension",
};

type CommonBody = Static<TObject<typeof Common>> & { type: "project" | "application" };

function commonInput(body: CommonBody): SubmitInput {
  return {
    name: body.task_name,
    description: body.task_description ?? "",
    pipelineUid: body.pipeline_uid,
    datasetUid: body.dataset_uid,
    datasetScope: body.type,
    configUid: body.config_uid,
    imageUids: { download: body.image_uid.download_uid, running: body.image_uid.running_uid, upload: body.image_uid.upload_uid },
    ...(body.resources ? { resources: body.resources } : {}),
    ...earlyStop(earlyStopRule(body.early_stop_param)),
  };
}

function earlyStop(rule: EarlyStopRule | undefined): Pick<SubmitInput, "earlyStop"> {
  return rule ? { earlyStop: rule } : {};
}

function modelOutput(body: Static<TObject<typeof ModelOutput>>): SubmitInput["outputModel"] {
  return {
    name: body.model_name,
    description: body.model_description ?? "",
    type: body.model_type,
    inputFormat: body.model_input_format,
    outputFormat: body.model_output_format,
    extension: body.model_file_extension,
  };
}

/** The original's run answer: the task, with the uid of the output it will produce. */
function executed(submitted: SubmittedTask, present: Presenter): OperationResult {
  const output = submitted.outputDatasetUid
    ? { training_dataset_uid: submitted.outputDatasetUid }
    : submitted.outputModelUid
      ? { model_uid: submitted.outputModelUid }
      : {};
  // Added to the presented task in place: spreading 30 fields into a new literal made V8 build a
  // fresh chain of hidden classes for every answer (10 KB of old-space garbage each, measured).
  return record(EXECUTED, Object.assign(present.task(submitted.task), output), { created: true });
}

export function taskOperations({ tasks, present }: { tasks: TaskService; present: Presenter }) {
  const submit = async (
    kind: TaskKind,
    principal: Parameters<TaskService["submit"]>[0],
    input: SubmitInput,
    body: unknown,
    headers: Record<string, string | string[] | undefined>,
  ) => {
    const key = idempotencyKeyOf(headers);
    return executed(await tasks.submit(principal, kind, input, key ? { key, body } : undefined), present);
  };
  const run = <B extends TObject>(kind: TaskKind, mitlabKey: string, summary: string, body: B, build: (body: Static<B>) => SubmitInput) =>
    operation({
      id: `tasks.run-${kind}`,
      rest: [{ method: "post", path: `/tasks/${kind}` }],
      // Prediction One's purposes: a retrain key may run optimizations, a submit key anything.
      apiKey: kind === "optimization" ? "retrain" : "submit",
      summary,
      mitlabKey,
      body,
      fields: RUN_FIELDS,
      handle: ({ principal, body: sent, headers }) => submit(kind, principal, build(sent), sent, headers),
    });

  return {
    runPreprocessing: run(
      "preprocessing",
      "jPqyAFWh7hBKRRNK",
      "TaskWorker/preprocessing",
      Type.Object({
        ...Common,
        type: oneOf(["project", "application"]),
        dataset_name: Name,
        dataset_file_extension: Name,
        dataset_description: Optional(Text),
        dataset_type: Optional(oneOf(["training", "optimization"])),
      }),
      (body) => ({
        ...commonInput(body),
        outputDataset: {
          name: body.dataset_name,
          description: body.dataset_description ?? "",
          extension: body.dataset_file_extension,
          ...(body.dataset_type ? { type: body.dataset_type } : {}),
        },
      }),
    ),
    runTraining: run(
      "training",
      "q8uzMBcM5YJH6dPf",
      "TaskWorker/training",
      Type.Object({ ...Common, ...ModelOutput, type: oneOf(["project"]) }),
      (body) => ({ ...commonInput(body), outputModel: modelOutput(body) }),
    ),
    runOptimization: run(
      "optimization",
      "Oi6u8dkur8GTKPxS",
      "TaskWorker/retrain",
      Type.Object({ ...Common, ...ModelOutput, type: oneOf(["project", "application"]), model_uid: Uid, f_agent_uid: Optional(Uid) }),
      (body) => ({ ...commonInput(body), baseModelUid: body.model_uid, outputModel: modelOutput(body) }),
    ),
    runEvaluation: run(
      "evaluation",
      "u8Wo0fVM6pFEthFH",
      "TaskWorker/evaluation",
      Type.Object({ ...Common, type: oneOf(["project", "application"]), model_uid: Uid }),
      (body) => ({ ...commonInput(body), baseModelUid: body.model_uid }),
    ),

    getTask: operation({
      id: "tasks.get",
      apiKey: "read",
      rest: [{ method: "get", path: "/tasks/{uid}" }],
      summary: "TaskMetadataWriter/retrieve",
      mitlabKey: "KlnZtRyqy3rPAZWL",
      body: Type.Object({ uid: Uid }),
      handle: async ({ principal, body }) => record(RETRIEVED, present.taskView(await tasks.get(principal, body.uid))),
    }),
    listTasks: operation({
      id: "tasks.list-by-pipeline",
      apiKey: "read",
      rest: [{ method: "get", path: "/pipelines/{uid}/tasks", params: { uid: "f_pipeline_uid" } }],
      summary: "TaskMetadataWriter/filter_by_pipeline",
      mitlabKey: "s8i1TNiTXwwv02mv",
      paginated: true,
      body: Type.Object({ f_pipeline_uid: Uid }),
      fields: { pipelineUid: "f_pipeline_uid" },
      handle: async ({ principal, body, page }) =>
        listed(LISTED, await tasks.list(principal, body.f_pipeline_uid, page), (t) => present.task(t)),
    }),
    searchTasks: operation({
      id: "tasks.list-by-organization",
      apiKey: "read",
      rest: [{ method: "get", path: "/tasks" }],
      summary: "TaskMetadataWriter/filter_by_organization (added: an organization's tasks, filtered, newest first)",
      mitlabKey: "Tb7oRgW2kQ9xLm4s",
      paginated: true,
      body: Type.Object(
        {
          f_organization_uid: Optional(Uid),
          status: Optional(Type.Array(oneOf(TASK_STATUSES), { minItems: 1, maxItems: TASK_STATUSES.length })),
          type: Optional(Type.Array(oneOf(TASK_KIND_NAMES), { minItems: 1, maxItems: TASK_KIND_NAMES.length })),
          f_pipeline_uid: Optional(Uid),
          f_created_by_uid: Optional(Uid),
          since: Optional(Type.String({ format: "date-time" })),
          until: Optional(Type.String({ format: "date-time" })),
          order: Optional(oneOf(["newest", "oldest"] as const)),
        },
        { additionalProperties: false },
      ),
      fields: { organizationUid: "f_organization_uid", pipelineUid: "f_pipeline_uid", createdByUid: "f_created_by_uid" },
      handle: async ({ principal, body, page }) =>
        listed(
          LISTED,
          await tasks.search(
            principal,
            {
              ...(body.f_organization_uid ? { organizationUid: body.f_organization_uid } : {}),
              ...(body.status ? { statuses: body.status } : {}),
              ...(body.type ? { kinds: body.type } : {}),
              ...(body.f_pipeline_uid ? { pipelineUid: body.f_pipeline_uid } : {}),
              ...(body.f_created_by_uid ? { createdByUid: body.f_created_by_uid } : {}),
              ...(body.since ? { since: new Date(body.since) } : {}),
              ...(body.until ? { until: new Date(body.until) } : {}),
              ...(body.order ? { order: body.order } : {}),
            },
            page!,
          ),
          (t) => present.task(t),
        ),
    }),
    renameTask: operation({
      id: "tasks.update",
      rest: [{ method: "patch", path: "/tasks/{uid}" }],
      summary: "TaskMetadataWriter/update",
      mitlabKey: "05wVeQQBhvFRTq54",
      body: Type.Object({ uid: Uid, name: Optional(Name), description: Optional(Text) }),
      handle: async ({ principal, body }) =>
        record(
          UPDATED,
          present.task(
            await tasks.rename(principal, body.uid, {
              ...(body.name === undefined ? {} : { name: body.name }),
              ...(body.description === undefined ? {} : { description: body.description }),
            }),
          ),
        ),
    }),
    deleteTask: operation({
      id: "tasks.delete",
      rest: [{ method: "delete", path: "/tasks/{uid}" }],
      summary: "TaskMetadataWriter/delete (also deletes the run)",
      mitlabKey: "AoTqlTmu8l47CbMU",
      body: Type.Object({ uid: Uid }),
      handle: async ({ principal, body }) => (await tasks.remove(principal, body.uid), record("Metadata deleted successfully", {})),
    }),
    stopTask: operation({
      id: "tasks.stop",
      apiKey: "submit",
      rest: [{ method: "post", path: "/tasks/{uid}/stop", params: { uid: "task_uid" } }],
      summary: "TaskWorker/delete (stop the run)",
      mitlabKey: "CNNfUmDpcWXp7vdM",
      body: Type.Object({ task_uid: Uid, type: Optional(Text) }),
      fields: { uid: "task_uid" },
      handle: async ({ principal, body }) =>
        record("Task stopped successfully", present.task(await tasks.shutdown(principal, body.task_uid, "Stop"))),
    }),
    terminateTask: operation({
      id: "tasks.terminate",
      apiKey: "submit",
      rest: [{ method: "post", path: "/tasks/{uid}/terminate" }],
      summary: "TaskWorker/terminate",
      mitlabKey: "Xq7TnR2vKp9LmW4c",
      body: Type.Object({ uid: Uid }),
      handle: async ({ principal, body }) =>
        record("Task terminated successfully", present.task(await tasks.shutdown(principal, body.uid, "Terminate"))),
    }),
    retryTask: operation({
      id: "tasks.retry",
      rest: [{ method: "post", path: "/tasks/{uid}/retry" }],
      summary: "TaskWorker/retry (failed steps, same run)",
      mitlabKey: "Rt5yHb8NqZ3wPd6s",
      body: Type.Object({ uid: Uid }),
      handle: async ({ principal, body }) => record("Task retried successfully", present.task(await tasks.retry(principal, body.uid))),
    }),
    resubmitTask: operation({
      id: "tasks.resubmit",
      rest: [{ method: "post", path: "/tasks/{uid}/resubmit" }],
      summary: "TaskWorker/resubmit (new task, same inputs)",
      mitlabKey: "Ms2kVf9LcX4nTj7e",
      body: Type.Object({ uid: Uid }),
      handle: async ({ principal, body, headers }) =>
        executed(await tasks.resubmit(principal, body.uid, idempotencyKeyOf(headers)), present),
    }),
  };
}

const IDEMPOTENCY_KEY = /^[\x20-\x7e]{1,255}$/;

/**
 * A submission's or resubmission's `Idempotency-Key` header (the first, if sent twice), checked
 * before anything is read or written: it is stored in a unique index, which bounds its size.
 */
function idempotencyKeyOf(headers: Record<string, string | string[] | undefined>): string | undefined {
  const header = headers["idempotency-key"];
  const key = Array.isArray(header) ? header[0] : header;
  if (key === undefined) return undefined;
  if (!IDEMPOTENCY_KEY.test(key)) throw ValidationError.field("Idempotency-Key", "must be 1 to 255 printable ASCII characters");
  return key;
}
