/** Models: upload, update, lineage, publication, accuracy and downloads (original-system.md §3.2). */
import { Type } from "@sinclair/typebox";
import type { ModelRegistry } from "../../domain/registry/model-registry.js";
import { MODEL_STATUSES } from "../../domain/records.js";
import type { Presenter } from "../shared/presenters.js";
import { CREATED_WITH_FILE, DELETED, LISTED, UPDATED } from "./messages.js";
import { listed, operation, record, type OperationResult } from "./operation.js";
import { described } from "./registry.operations.js";
import { Name, Optional, Text, Uid, UidOrNone, oneOf } from "./schemas.js";

const Token = Type.String({ minLength: 1, maxLength: 256 });

export function modelOperations({ models, present }: { models: ModelRegistry; present: Presenter }) {
  const download = async (
    principal: Parameters<ModelRegistry["openModelFile"]>[0],
    uid: string,
    token: string,
  ): Promise<OperationResult> => ({ kind: "download", ...(await models.openModelFile(principal, uid, token)) });
  const publication = (status: "publish" | "unpublish", key: string, summary: string) =>
    operation({
      id: `models.${status}`,
      summary,
      mitlabKey: key,
      body: Type.Object({ uid: Uid, status: Optional(oneOf([status])), f_application_uid: Optional(Uid) }),
      handle: async ({ principal, body }) =>
        record(UPDATED, present.model(await models.withFile(await models.setModelPublication(principal, body.uid, status)))),
    });

  return {
    createModel: operation({
      id: "models.create",
      summary: "ModelMetadataWriter/create",
      mitlabKey: "OBF4f9guOmzitGvC",
      form: { file: "required" },
      body: Type.Object({
        name: Name,
        type: Name,
        model_input_format: Name,
        model_output_format: Name,
        f_application_uid: Uid,
        description: Optional(Text),
        status: Optional(oneOf(MODEL_STATUSES)),
        f_agent_uid: Optional(UidOrNone),
        extension: Optional(Name),
        source: Optional(UidOrNone),
      }),
      fields: { applicationUid: "f_application_uid" },
      handle: async ({ principal, body, file }) =>
        record(
          CREATED_WITH_FILE,
          present.model(
            await models.createModel(principal, {
              name: body.name,
              description: body.description ?? "",
              type: body.type,
              inputFormat: body.model_input_format,
              outputFormat: body.model_output_format,
              ...(body.status ? { status: body.status } : {}),
              applicationUid: body.f_application_uid,
              ...(body.f_agent_uid ? { agentUid: body.f_agent_uid } : {}),
              ...(body.source ? { source: body.source } : {}),
              extension: body.extension ?? "zip",
              file: file!,
            }),
          ),
          { created: true },
        ),
    }),
    updateModel: operation({
      id: "models.update",
      summary: "ModelMessenger/update",
      mitlabKey: "siJLKf5He1wksCH2",
      body: Type.Object({
        model_uid: Uid,
        model_name: Optional(Name),
        model_description: Optional(Text),
        model_input_format: Optional(Name),
        model_output_format: Optional(Name),
        model_status: Optional(oneOf(MODEL_STATUSES)),
      }),
      fields: { uid: "model_uid", status: "model_status" },
      handle: async ({ principal, body }) =>
        record(
          UPDATED,
          present.model(
            await models.updateModel(principal, body.model_uid, {
              ...described(body.model_name, body.model_description),
              ...(body.model_input_format === undefined ? {} : { inputFormat: body.model_input_format }),
              ...(body.model_output_format === undefined ? {} : { outputFormat: body.model_output_format }),
              ...(body.model_status === undefined ? {} : { status: body.model_status }),
            }),
          ),
        ),
    }),
    deleteModel: operation({
      id: "models.delete",
      summary: "ModelMetadataWriter/delete",
      mitlabKey: "8qFsmTELrN0lag20",
      body: Type.Object({ uid: Uid }),
      handle: async ({ principal, body }) => (await models.deleteModel(principal, body.uid), record(DELETED, {})),
    }),
    listModels: operation({
      id: "models.list",
      apiKey: "read",
      rest: [{ method: "get", path: "/applications/{uid}/models", params: { uid: "f_application_uid" } }],
      summary: "ModelMetadataWriter/filter_by_application",
      mitlabKey: "EU2X3oWVHQiEoYBi",
      paginated: true,
      body: Type.Object({ f_application_uid: Uid }),
      fields: { applicationUid: "f_application_uid" },
      handle: async ({ principal, body, page }) =>
        listed(LISTED, await models.listModels(principal, body.f_application_uid, page), (m) => present.model(m)),
    }),
    listModelGroups: operation({
      id: "models.list-grouped",
      summary: "ModelMetadataWriter/filter_by_application (grouped)",
      mitlabKey: "mvtJY0gtyhHguWtL",
      body: Type.Object({ f_application_uid: Uid }),
      fields: { applicationUid: "f_application_uid" },
      handle: async ({ principal, body }) =>
        listed(LISTED, { items: await models.listModelGroups(principal, body.f_application_uid) }, (group) => ({
          ...present.model(group),
          retrain_model: group.derived.map((m) => present.model(m)),
        })),
    }),
    listModelLineage: operation({
      id: "models.lineage",
      summary: "ModelMetadataWriter/get_tuning_model_group",
      mitlabKey: "ZEUjsfvXK9eNjom7",
      // The dashboard's versions page sends the version as the string it took from its URL.
      body: Type.Object({
        source: Uid,
        version: Optional(Type.Union([Type.Number(), Type.String({ pattern: "^[0-9]{1,6}(\\.[0-9]{1,6})?$" })])),
      }),
      handle: async ({ principal, body }) =>
        listed(
          LISTED,
          { items: await models.listModelLineage(principal, body.source, body.version === undefined ? undefined : Number(body.version)) },
          (m) => present.model(m),
        ),
    }),
    publishModel: publication("publish", "LKloOsyvHb0NCDPG", "ModelPermissionManager/create"),
    unpublishModel: publication("unpublish", "7uW8GfesIizOaShO", "ModelPermissionManager/delete"),
    setModelAccuracy: operation({
      id: "models.accuracy",
      summary: "ModelAccuracyManager/create",
      mitlabKey: "5aP8Kk9Okiv2WdsO",
      acceptsTaskCredential: true,
      body: Type.Object({ model_uid: Uid, model_accuracy: Type.Number() }),
      fields: { uid: "model_uid" },
      handle: async ({ principal, body }) =>
        record(
          UPDATED,
          present.model(await models.withFile(await models.setModelAccuracy(principal, body.model_uid, body.model_accuracy))),
        ),
    }),
    downloadModel: operation({
      id: "models.download",
      summary: "Model download",
      mitlabKey: "4AJSfvc4mn8xzy2U",
      body: Type.Object({ uid: Uid, access_token: Token }),
      fields: { accessToken: "access_token" },
      handle: ({ principal, body }) => download(principal, body.uid, body.access_token),
    }),
    downloadModelWithToken: operation({
      id: "models.download-with-token",
      summary: "AuthFileManager/download",
      mitlabKey: "gTJsFsf5JIjeAmNb",
      acceptsTaskCredential: true,
      body: Type.Object({ model_uid: Uid, model_access_token: Token }),
      fields: { uid: "model_uid", accessToken: "model_access_token" },
      handle: ({ principal, body }) => download(principal, body.model_uid, body.model_access_token),
    }),
  };
}
