/** The model registry (added; not in the original): aliases, the selected model, bookmarks and lineage. */
import { Type } from "@sinclair/typebox";
import type { ModelAliases } from "../../domain/registry/model-aliases.js";
import type { Presenter } from "../shared/presenters.js";
import { DELETED, RETRIEVED, UPDATED } from "./messages.js";
import { operation, record } from "./operation.js";
import { Optional, Uid } from "./schemas.js";

const Alias = Type.String({ minLength: 1, maxLength: 32 });

export function modelAliasOperations({ aliases, present }: { aliases: ModelAliases; present: Presenter }) {
  const alias = (a: { applicationUid: string; alias: string; modelUid: string; updatedAt: Date; updatedByUid: string }) => ({
    f_application_uid: a.applicationUid,
    alias: a.alias,
    model_uid: a.modelUid,
    updated_time: present.time(a.updatedAt),
    updated_by_uid: a.updatedByUid,
  });
  return {
    setAlias: operation({
      id: "models.set-alias",
      rest: [{ method: "post", path: "/models/{uid}/aliases", params: { uid: "model_uid" } }],
      summary: "Model alias set (added; moves it from any other model of the application)",
      mitlabKey: "Ma1sEt7AlQ3xRk8v",
      body: Type.Object({ model_uid: Uid, alias: Alias }, { additionalProperties: false }),
      fields: { modelUid: "model_uid" },
      handle: async ({ principal, body }) => record(UPDATED, alias(await aliases.setAlias(principal, body.model_uid, body.alias))),
    }),
    removeAlias: operation({
      id: "models.delete-alias",
      rest: [{ method: "delete", path: "/applications/{uid}/aliases/{alias}", params: { uid: "f_application_uid" } }],
      summary: "Model alias delete (added)",
      mitlabKey: "Ma2dEl4AlW9yTn6b",
      body: Type.Object({ f_application_uid: Uid, alias: Alias }, { additionalProperties: false }),
      fields: { applicationUid: "f_application_uid" },
      handle: async ({ principal, body }) => (
        await aliases.removeAlias(principal, body.f_application_uid, body.alias),
        record(DELETED, {})
      ),
    }),
    resolveAlias: operation({
      id: "models.resolve-alias",
      rest: [{ method: "get", path: "/applications/{uid}/aliases/{alias}", params: { uid: "f_application_uid" } }],
      apiKey: "read",
      summary: "Model alias resolve (added; `selected` names the selected model)",
      mitlabKey: "Ma3rSv8AlE2uPq5c",
      body: Type.Object({ f_application_uid: Uid, alias: Alias }, { additionalProperties: false }),
      fields: { applicationUid: "f_application_uid" },
      handle: async ({ principal, body }) =>
        record(RETRIEVED, present.modelBrief(await aliases.resolve(principal, body.f_application_uid, body.alias))),
    }),
    aliasMoves: operation({
      id: "models.alias-moves",
      rest: [{ method: "get", path: "/applications/{uid}/alias-moves", params: { uid: "f_application_uid" } }],
      apiKey: "read",
      summary: "Model alias history (added; every move of an alias or the selection: who, when, from and to)",
      mitlabKey: "Ma4hSt6AlR1iOp3d",
      body: Type.Object(
        { f_application_uid: Uid, limit: Optional(Type.Integer({ minimum: 1, maximum: 10_000 })) },
        { additionalProperties: false },
      ),
      fields: { applicationUid: "f_application_uid" },
      handle: async ({ principal, body }) =>
        record(
          RETRIEVED,
          (await aliases.moves(principal, body.f_application_uid, body.limit ?? 1000)).map((m) => present.aliasMove(m)),
        ),
    }),
    selectModel: operation({
      id: "models.select",
      rest: [{ method: "post", path: "/models/{uid}/select", params: { uid: "model_uid" } }],
      summary: "Model select (added; MRMS select_yn, Prediction One's model switch: one per application)",
      mitlabKey: "Ma5sEl2MoT8yUi4e",
      body: Type.Object({ model_uid: Uid }, { additionalProperties: false }),
      fields: { modelUid: "model_uid" },
      handle: async ({ principal, body }) => record(UPDATED, alias(await aliases.select(principal, body.model_uid))),
    }),
    bookmarkModel: operation({
      id: "models.bookmark",
      rest: [{ method: "post", path: "/models/{uid}/bookmark", params: { uid: "model_uid" } }],
      summary: "Model bookmark (added; MRMS bookmarkYN)",
      mitlabKey: "Ma6bKm9MoY3tRe7f",
      body: Type.Object({ model_uid: Uid, bookmarked: Type.Boolean() }, { additionalProperties: false }),
      fields: { modelUid: "model_uid" },
      handle: async ({ principal, body }) =>
        record(UPDATED, present.modelBrief(await aliases.bookmark(principal, body.model_uid, body.bookmarked))),
    }),
    modelLineage: operation({
      id: "models.lineage-graph",
      rest: [{ method: "get", path: "/models/{uid}/lineage", params: { uid: "model_uid" } }],
      apiKey: "read",
      summary: "Model lineage (added; the task that made it, its dataset, config, pipeline and base model; the tasks that used it)",
      mitlabKey: "Ma7lNg5MoU2wQa1g",
      body: Type.Object({ model_uid: Uid }, { additionalProperties: false }),
      fields: { modelUid: "model_uid" },
      handle: async ({ principal, body }) => record(RETRIEVED, present.lineage(await aliases.lineage(principal, body.model_uid))),
    }),
    datasetUsage: operation({
      id: "datasets.used-by",
      rest: [{ method: "get", path: "/datasets/{uid}/tasks", params: { uid: "dataset_uid" } }],
      apiKey: "read",
      summary: "Dataset usage (added; the tasks that used it as their input)",
      mitlabKey: "Ma8dSu3DaI6eWs9h",
      body: Type.Object({ dataset_uid: Uid }, { additionalProperties: false }),
      fields: { datasetUid: "dataset_uid" },
      handle: async ({ principal, body }) =>
        record(
          RETRIEVED,
          (await aliases.datasetUsage(principal, body.dataset_uid)).map((t) => ({
            uid: t.uid,
            name: t.name,
            type: t.kind,
            status: t.status,
          })),
        ),
    }),
  };
}
