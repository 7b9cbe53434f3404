/**
 * Task route keys: the original's run/info/list/update/delete keys, and the control keys this
 * service adds (terminate, retry, resubmit), listed in the README.
 */
import type { SubmitInput, TaskService } from "../../domain/tasks/task-service.js";
import type { TaskKind } from "../../domain/records.js";
import type { Presenter } from "../presenters.js";
import { NAME, TEXT, UUID, enumOf, fields, json, type RouteContext, type RouteDefinition } from "../route-definition.js";

const EXECUTED = "Excute task successfully"; // sic: the original's message

const QUANTITY = { type: "string", pattern: "^[0-9]+(\\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$", maxLength: 20 };
const STEP_RESOURCES = { type: "object", additionalProperties: false, properties: { cpu: QUANTITY, memory: QUANTITY, gpu: { type: "integer", minimum: 0, maximum: 16 } } };
const RESOURCES = { type: "object", additionalProperties: false, properties: { download: STEP_RESOURCES, running: STEP_RESOURCES, upload: STEP_RESOURCES } };
const IMAGE_UIDS = fields({ download_uid: UUID, running_uid: UUID, upload_uid: UUID });
const COMMON_REQUIRED = { task_name: NAME, pipeline_uid: UUID, dataset_uid: UUID, config_uid: UUID, image_uid: IMAGE_UIDS };
const COMMON_OPTIONAL = { task_description: TEXT, resources: RESOURCES };
const MODEL_OUTPUT = { model_name: NAME, model_type: NAME, model_input_format: NAME, model_output_format: NAME, model_file_extension: NAME };

const str = (body: Record<string, unknown>, field: string) => body[field] as string;

function commonInput(body: Record<string, unknown>): SubmitInput {
  const images = body.image_uid as Record<string, string>;
  return {
    name: str(body, "task_name"), description: (body.task_description as string | undefined) ?? "", pipelineUid: str(body, "pipeline_uid"),
    datasetUid: str(body, "dataset_uid"), datasetScope: body.type as "project" | "application", configUid: str(body, "config_uid"),
    imageUids: { download: images.download_uid!, running: images.running_uid!, upload: images.upload_uid! },
    ...(body.resources ? { resources: body.resources as SubmitInput["resources"] } : {}),
  };
}

function modelOutput(body: Record<string, unknown>): SubmitInput["outputModel"] {
  return {
    name: str(body, "model_name"), description: (body.model_description as string | undefined) ?? "", type: str(body, "model_type"),
    inputFormat: str(body, "model_input_format"), outputFormat: str(body, "model_output_format"), extension: str(body, "model_file_extension"),
  };
}

export function taskRoutes({ tasks, present }: { tasks: TaskService; present: Presenter }): RouteDefinition[] {
  const run = (key: string, action: string, kind: TaskKind, schema: Record<string, unknown>, build: (body: Record<string, unknown>) => SubmitInput): RouteDefinition => ({
    key, action, body: "json", schema,
    handle: async ({ principal, body, headers }: RouteContext) => {
      const idempotencyKey = headers["idempotency-key"];
      const key = Array.isArray(idempotencyKey) ? idempotencyKey[0] : idempotencyKey;
      const submitted = await tasks.submit(principal, kind, build(body), key ? { key, body } : undefined);
      const output = submitted.outputDatasetUid ? { training_dataset_uid: submitted.outputDatasetUid } : submitted.outputModelUid ? { model_uid: submitted.outputModelUid } : {};
      return json(EXECUTED, { ...output, ...present.task(submitted.task) });
    },
  });

  return [
    run("jPqyAFWh7hBKRRNK", "TaskWorker/preprocessing", "preprocessing",
      fields({ ...COMMON_REQUIRED, type: enumOf(["project", "application"]), dataset_name: NAME, dataset_file_extension: NAME },
        { ...COMMON_OPTIONAL, dataset_description: TEXT, dataset_type: enumOf(["training", "optimization"]) }),
      (body) => ({
        ...commonInput(body),
        outputDataset: {
          name: str(body, "dataset_name"), description: (body.dataset_description as string | undefined) ?? "", extension: str(body, "dataset_file_extension"),
          ...(body.dataset_type ? { type: str(body, "dataset_type") } : {}),
        },
      })),
    run("q8uzMBcM5YJH6dPf", "TaskWorker/training", "training",
      fields({ ...COMMON_REQUIRED, type: enumOf(["project"]), ...MODEL_OUTPUT }, { ...COMMON_OPTIONAL, model_description: TEXT }),
      (body) => ({ ...commonInput(body), outputModel: modelOutput(body) })),
    run("Oi6u8dkur8GTKPxS", "TaskWorker/retrain", "optimization",
      fields({ ...COMMON_REQUIRED, type: enumOf(["project", "application"]), model_uid: UUID, ...MODEL_OUTPUT }, { ...COMMON_OPTIONAL, model_description: TEXT, f_agent_uid: UUID }),
      (body) => ({ ...commonInput(body), baseModelUid: str(body, "model_uid"), outputModel: modelOutput(body) })),
    run("u8Wo0fVM6pFEthFH", "TaskWorker/evaluation", "evaluation",
      fields({ ...COMMON_REQUIRED, type: enumOf(["project", "application"]), model_uid: UUID }, COMMON_OPTIONAL),
      (body) => ({ ...commonInput(body), baseModelUid: str(body, "model_uid") })),
    {
      key: "KlnZtRyqy3rPAZWL", action: "TaskMetadataWriter/retrieve", body: "json", schema: fields({ uid: UUID }),
      handle: async ({ principal, body }) => json("Metadata retrieved successfully", present.taskView(await tasks.get(principal, str(body, "uid")))),
    },
    {
      key: "s8i1TNiTXwwv02mv", action: "TaskMetadataWriter/filter_by_pipeline", body: "json", paginated: true, schema: fields({ f_pipeline_uid: UUID }),
      handle: async ({ principal, body, page }) => {
        const result = await tasks.list(principal, str(body, "f_pipeline_uid"), page);
        return { kind: "json", detail: "Metadatas retrieved successfully", data: result.items.map((t) => present.task(t)), ...(result.next ? { next: result.next } : {}) };
      },
    },
    {
      key: "05wVeQQBhvFRTq54", action: "TaskMetadataWriter/update", body: "json", schema: fields({ uid: UUID }, { name: NAME, description: TEXT }),
      handle: async ({ principal, body }) => json("Metadata updated successfully", present.task(await tasks.rename(principal, str(body, "uid"), {
        ...(body.name === undefined ? {} : { name: str(body, "name") }), ...(body.description === undefined ? {} : { description: str(body, "description") }),
      }))),
    },
    {
      key: "AoTqlTmu8l47CbMU", action: "TaskMetadataWriter/delete (also deletes the run)", body: "json", schema: fields({ uid: UUID }),
      handle: async ({ principal, body }) => (await tasks.remove(principal, str(body, "uid")), json("Metadata deleted successfully", {})),
    },
    {
      key: "CNNfUmDpcWXp7vdM", action: "TaskWorker/delete (stop the run)", body: "json", schema: fields({ task_uid: UUID }, { type: TEXT }),
      handle: async ({ principal, body }) => json("Task stopped successfully", present.task(await tasks.shutdown(principal, str(body, "task_uid"), "Stop", "task_uid"))),
    },
    {
      key: "Xq7TnR2vKp9LmW4c", action: "TaskWorker/terminate", body: "json", schema: fields({ uid: UUID }),
      handle: async ({ principal, body }) => json("Task terminated successfully", present.task(await tasks.shutdown(principal, str(body, "uid"), "Terminate"))),
    },
    {
      key: "Rt5yHb8NqZ3wPd6s", action: "TaskWorker/retry (failed steps, same run)", body: "json", schema: fields({ uid: UUID }),
      handle: async ({ principal, body }) => json("Task retried successfully", present.task(await tasks.retry(principal, str(body, "uid")))),
    },
    {
      key: "Ms2kVf9LcX4nTj7e", action: "TaskWorker/resubmit (new task, same inputs)", body: "json", schema: fields({ uid: UUID }),
      handle: async ({ principal, body }) => {
        const submitted = await tasks.resubmit(principal, str(body, "uid"));
        const output = submitted.outputDatasetUid ? { training_dataset_uid: submitted.outputDatasetUid } : submitted.outputModelUid ? { model_uid: submitted.outputModelUid } : {};
        return json(EXECUTED, { ...output, ...present.task(submitted.task) });
      },
    },
  ];
}
