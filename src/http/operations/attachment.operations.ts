/** Inference templates (one per model) and raw data (original-system.md §3.2). */
import { Type } from "@sinclair/typebox";
import type { AttachmentRegistry } from "../../domain/registry/attachment-registry.js";
import type { Presenter } from "../shared/presenters.js";
import { CREATED_WITH_FILE, DELETED, LISTED, UPDATED } from "./messages.js";
import { listed, operation, record } from "./operation.js";
import { DescribedUpdate, UidBody, described } from "./registry.operations.js";
import { Name, Optional, Text, Uid } from "./schemas.js";

export function attachmentOperations({ attachments, present }: { attachments: AttachmentRegistry; present: Presenter }) {
  return {
    saveInferenceTemplate: operation({
      id: "inference-templates.save",
      summary: "InferenceMetadataWriter/create",
      mitlabKey: "Zd1B3anLLSb2f59h",
      // Without a file part it updates the model's template: the dashboard then sends `file[uid]`, `file[path]`, ... as text.
      form: { file: "optional" },
      body: Type.Object({
        f_model_uid: Uid,
        name: Optional(Name),
        description: Optional(Text),
        type: Optional(Name),
        extension: Optional(Name),
      }),
      fields: { modelUid: "f_model_uid" },
      handle: async ({ principal, body, file }) =>
        record(
          CREATED_WITH_FILE,
          present.inferenceTemplate(
            await attachments.saveInferenceTemplate(principal, {
              modelUid: body.f_model_uid,
              ...described(body.name, body.description),
              ...(body.type ? { type: body.type } : {}),
              ...(body.extension ? { extension: body.extension } : {}),
              ...(file ? { file } : {}),
            }),
          ),
          { created: true },
        ),
    }),
    listInferenceTemplates: operation({
      id: "inference-templates.list",
      summary: "InferenceMetadataWriter/filter_by_model",
      mitlabKey: "wD9UPZGXJbaLRuCJ",
      body: Type.Object({ f_model_uid: Uid }),
      fields: { modelUid: "f_model_uid" },
      handle: async ({ principal, body }) =>
        listed(LISTED, { items: await attachments.listInferenceTemplates(principal, body.f_model_uid) }, (t) =>
          present.inferenceTemplate(t),
        ),
    }),
    createRawData: operation({
      id: "raw-data.create",
      summary: "RawDataMetadataWriter/create (this service's key; the original's dashboard has no upload form)",
      mitlabKey: "Rw4dCr8eAtE5kQ2n",
      form: { file: "required" },
      body: Type.Object({ name: Name, f_application_uid: Uid, description: Optional(Text), extension: Optional(Name) }),
      fields: { applicationUid: "f_application_uid" },
      handle: async ({ principal, body, file }) =>
        record(
          CREATED_WITH_FILE,
          present.rawData(
            await attachments.createRawData(principal, {
              name: body.name,
              description: body.description ?? "",
              applicationUid: body.f_application_uid,
              ...(body.extension ? { extension: body.extension } : {}),
              file: file!,
            }),
          ),
          { created: true },
        ),
    }),
    updateRawData: operation({
      id: "raw-data.update",
      summary: "RawDataMetadataWriter/update",
      mitlabKey: "LonUDE20aIWlhKRo",
      form: { file: "optional" },
      body: DescribedUpdate,
      handle: async ({ principal, body, file }) =>
        record(
          UPDATED,
          present.rawData(
            await attachments.updateRawData(principal, body.uid, { ...described(body.name, body.description), ...(file ? { file } : {}) }),
          ),
        ),
    }),
    deleteRawData: operation({
      id: "raw-data.delete",
      summary: "RawDataMetadataWriter/delete",
      mitlabKey: "xiSTRKUPfr3XP2Ed",
      body: UidBody,
      handle: async ({ principal, body }) => (await attachments.deleteRawData(principal, body.uid), record(DELETED, {})),
    }),
    listRawData: operation({
      id: "raw-data.list",
      summary: "RawDataMetadataWriter/filter_by_application",
      mitlabKey: "9k1KgT1NKjCE0uja",
      paginated: true,
      body: Type.Object({ f_application_uid: Uid }),
      fields: { applicationUid: "f_application_uid" },
      handle: async ({ principal, body, page }) =>
        listed(LISTED, await attachments.listRawData(principal, body.f_application_uid, page), (d) => present.rawData(d)),
    }),
  };
}
