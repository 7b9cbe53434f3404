/** Project and application datasets and the run forms' choices (original-system.md §3.2). */
import { Type } from "@sinclair/typebox";
import type { ImageBuilds } from "../../domain/builds/image-builds.js";
import type { PreparerService, RunForm } from "../../domain/registry/preparer-service.js";
import { DATASET_TYPES, type DatasetRegistry } from "../../domain/registry/dataset-registry.js";
import type { DatasetScope } from "../../domain/records.js";
import type { Presenter } from "../shared/presenters.js";
import { CREATED_WITH_FILE, DELETED, LISTED, RETRIEVED, UPDATED } from "./messages.js";
import { listed, operation, record, type OperationRequest } from "./operation.js";
import { described } from "./registry.operations.js";
import { Name, Optional, Text, Uid, oneOf } from "./schemas.js";

const DatasetFields = { name: Name, description: Optional(Text), extension: Optional(Name) };
const Update = Type.Object({ uid: Uid, name: Optional(Name), description: Optional(Text) });

export function datasetOperations({
  datasets,
  preparer,
  builds,
  present,
}: {
  datasets: DatasetRegistry;
  preparer: PreparerService;
  builds: ImageBuilds;
  present: Presenter;
}) {
  const create = async (
    scope: DatasetScope,
    request: OperationRequest<{ name: string; description?: string; extension?: string; type: string }>,
    parentUid: string,
  ) =>
    record(
      CREATED_WITH_FILE,
      present.dataset(
        await datasets.createDataset(request.principal, {
          scope,
          name: request.body.name,
          description: request.body.description ?? "",
          type: request.body.type,
          parentUid,
          extension: request.body.extension ?? "zip",
          file: request.file!,
        }),
      ),
      { created: true },
    );
  const update = (scope: DatasetScope, key: string, actor: string) =>
    operation({
      id: `${scope}-datasets.update`,
      summary: `${actor}/update`,
      mitlabKey: key,
      form: { file: "optional" },
      body: Update,
      handle: async ({ principal, body, file }) =>
        record(
          UPDATED,
          present.dataset(
            await datasets.updateDataset(principal, scope, body.uid, {
              ...described(body.name, body.description),
              ...(file ? { file } : {}),
            }),
          ),
        ),
    });
  const remove = (scope: DatasetScope, key: string, actor: string) =>
    operation({
      id: `${scope}-datasets.delete`,
      summary: `${actor}/delete`,
      mitlabKey: key,
      body: Type.Object({ uid: Uid }),
      handle: async ({ principal, body }) => (await datasets.deleteDataset(principal, scope, body.uid), record(DELETED, {})),
    });
  const PROJECT = "ProjectDatasetMetadataWriter";
  const APPLICATION = "ApplicationDatasetMetadataWriter";

  const choices = (form: RunForm, key: string) =>
    operation({
      id: `run-forms.${form}`,
      summary: `Preparer/${form}`,
      mitlabKey: key,
      body: Type.Object({ pipeline_uid: Uid }),
      fields: { uid: "pipeline_uid" },
      handle: async ({ principal, body }) => {
        const found = await preparer.choices(principal, form, body.pipeline_uid);
        const datasets: Record<string, unknown> = { project: found.datasets.project.map((d) => present.dataset(d)) };
        if (found.datasets.application) datasets.application = found.datasets.application.map((d) => present.dataset(d));
        const models = Object.fromEntries(Object.entries(found.models).map(([name, list]) => [name, list.map((m) => present.model(m))]));
        // Each build file with its image's state: a form offers a failed or unbuilt image as such, not as ready.
        const views = await builds.viewsOf(Object.values(found.images).flatMap((list) => list.map((i) => i.record)));
        const images = Object.entries(found.images).map(([sequence, list]) => [
          sequence,
          list.map((i) => present.image(i, views.get(i.record.uid)!)),
        ]);
        return record(RETRIEVED, {
          [found.datasets.key]: datasets,
          ...models,
          config: found.configs.map((c) => present.config(c)),
          image: Object.fromEntries(images),
        });
      },
    });

  return {
    createProjectDataset: operation({
      id: "project-datasets.create",
      summary: `${PROJECT}/create`,
      mitlabKey: "OFbaCJE62lcPVbZj",
      form: { file: "required" },
      body: Type.Object({ ...DatasetFields, type: oneOf(DATASET_TYPES.project), f_project_uid: Uid }),
      fields: { projectUid: "f_project_uid" },
      handle: (request) => create("project", request, request.body.f_project_uid),
    }),
    updateProjectDataset: update("project", "uqm5wN6pdrAWM89T", PROJECT),
    deleteProjectDataset: remove("project", "6PiGXBbrIvQLqhrC", PROJECT),
    listProjectDatasets: operation({
      id: "project-datasets.list",
      apiKey: "read",
      rest: [{ method: "get", path: "/projects/{uid}/datasets", params: { uid: "f_project_uid" } }],
      summary: `${PROJECT}/filter_by_project`,
      mitlabKey: "MyC2aIHtzkZJrEGi",
      paginated: true,
      body: Type.Object({ f_project_uid: Uid }),
      fields: { projectUid: "f_project_uid" },
      handle: async ({ principal, body, page }) =>
        listed(LISTED, await datasets.listDatasets(principal, "project", body.f_project_uid, page), (d) => present.dataset(d)),
    }),
    createApplicationDataset: operation({
      id: "application-datasets.create",
      summary: `${APPLICATION}/create`,
      mitlabKey: "5fk1gVLi8q0mcHf4",
      form: { file: "required" },
      body: Type.Object({ ...DatasetFields, type: oneOf(DATASET_TYPES.application), f_application_uid: Uid }),
      fields: { applicationUid: "f_application_uid" },
      handle: (request) => create("application", request, request.body.f_application_uid),
    }),
    updateApplicationDataset: update("application", "lXqKKZYiy6XKJaVg", APPLICATION),
    deleteApplicationDataset: remove("application", "9uKWKnG5ZTSew1HD", APPLICATION),
    listApplicationDatasets: operation({
      id: "application-datasets.list",
      apiKey: "read",
      rest: [{ method: "get", path: "/applications/{uid}/datasets", params: { uid: "f_application_uid" } }],
      summary: `${APPLICATION}/filter_by_application`,
      mitlabKey: "1sphuopUuLnIqoPU",
      paginated: true,
      body: Type.Object({ f_application_uid: Uid }),
      fields: { applicationUid: "f_application_uid" },
      handle: async ({ principal, body, page }) =>
        listed(LISTED, await datasets.listDatasets(principal, "application", body.f_application_uid, page), (d) => present.dataset(d)),
    }),
    preprocessingChoices: choices("preprocessing", "oNjkVj60RqS8DQTX"),
    trainingChoices: choices("training", "Q3aPI7vZrzp3d4SI"),
    retrainChoices: choices("retrain", "ur2rcOusIa91PFX5"),
    evaluationChoices: choices("evaluation", "8O1f02CSk0Su3czR"),
  };
}
