/**
 * The registry's route keys, as the original platform numbered them (original-system.md §3.2).
 * Each entry: the key, the original action, the body fields, and a few lines calling a use case.
 */
import type { PreparerService, RunForm } from "../../domain/registry/preparer-service.js";
import { DATASET_TYPES, type Page, type RegistryService } from "../../domain/registry/registry-service.js";
import { IMAGE_SEQUENCES, MODEL_STATUSES, PIPELINE_TYPES, type DatasetScope } from "../../domain/records.js";
import type { Presenter } from "../presenters.js";
import { NAME, RETIRED, TEXT, UUID, enumOf, fields, json, type RouteContext, type RouteDefinition, type RouteResult } from "../route-definition.js";

/** A container image reference: registry/path:tag or @digest, no spaces or quotes. */
const IMAGE_REFERENCE = { type: "string", pattern: "^[a-z0-9][a-z0-9._:/-]*(:[A-Za-z0-9._-]+)?(@sha256:[a-f0-9]{64})?$", maxLength: 300 };

const CREATED_WITH_FILE = "Metadata created and File uploaded successfully";
const CREATED = "Metadata created successfully";
const RETRIEVED = "Metadata retrieved successfully";
const LISTED = "Metadatas retrieved successfully";
const UPDATED = "Metadata updated successfully";
const DELETED = "Metadata deleted successfully";

const str = (body: Record<string, unknown>, field: string) => body[field] as string;
const opt = (body: Record<string, unknown>, field: string) => body[field] as string | undefined;
const described = (body: Record<string, unknown>, name = "name", description = "description") => ({
  ...(body[name] === undefined ? {} : { name: str(body, name) }),
  ...(body[description] === undefined ? {} : { description: str(body, description) }),
});

function listed<T>(page: Page<T>, present: (item: T) => unknown): RouteResult {
  return { kind: "json", detail: LISTED, data: page.items.map(present), ...(page.next ? { next: page.next } : {}) };
}

export function registryRoutes({ registry, preparer, present }: { registry: RegistryService; preparer: PreparerService; present: Presenter }): RouteDefinition[] {
  const update = fields({ uid: UUID }, { name: NAME, description: TEXT });
  const remove = fields({ uid: UUID });

  const datasetRoutes = (scope: DatasetScope, keys: { create: string; update: string; remove: string; list: string }, actor: string): RouteDefinition[] => {
    const parentField = scope === "project" ? "f_project_uid" : "f_application_uid";
    return [
      {
        key: keys.create, action: `${actor}/create`, body: "multipart", file: "required",
        schema: fields({ name: NAME, type: enumOf(DATASET_TYPES[scope]), [parentField]: UUID }, { description: TEXT, extension: NAME }),
        handle: async ({ principal, body, file }) => json(CREATED_WITH_FILE, present.dataset(await registry.createDataset(principal, {
          scope, name: str(body, "name"), description: opt(body, "description") ?? "", type: str(body, "type"),
          parentUid: str(body, parentField), extension: opt(body, "extension") ?? "zip", file: file!,
        })), 201),
      },
      {
        key: keys.update, action: `${actor}/update`, body: "multipart", file: "optional", schema: update,
        handle: async ({ principal, body, file }) =>
          json(UPDATED, present.dataset(await registry.updateDataset(principal, scope, str(body, "uid"), { ...described(body), ...(file ? { file } : {}) }))),
      },
      {
        key: keys.remove, action: `${actor}/delete`, body: "json", schema: remove,
        handle: async ({ principal, body }) => (await registry.deleteDataset(principal, scope, str(body, "uid")), json(DELETED, {})),
      },
      {
        key: keys.list, action: `${actor}/filter_by_${scope}`, body: "json", paginated: true, schema: fields({ [parentField]: UUID }),
        handle: async ({ principal, body, page }) => listed(await registry.listDatasets(principal, scope, str(body, parentField), page), (d) => present.dataset(d)),
      },
    ];
  };

  const preparerRoute = (key: string, form: RunForm): RouteDefinition => ({
    key, action: `Preparer/${form}`, body: "json", schema: fields({ pipeline_uid: UUID }),
    handle: async ({ principal, body }) => {
      const choices = await preparer.choices(principal, form, str(body, "pipeline_uid"));
      const datasets: Record<string, unknown> = { project: choices.datasets.project.map((d) => present.dataset(d)) };
      if (choices.datasets.application) datasets.application = choices.datasets.application.map((d) => present.dataset(d));
      const models = Object.fromEntries(Object.entries(choices.models).map(([name, list]) => [name, list.map((m) => present.model(m))]));
      return json(RETRIEVED, {
        [choices.datasets.key]: datasets,
        ...models,
        config: choices.configs.map((c) => present.config(c)),
        image: Object.fromEntries(Object.entries(choices.images).map(([sequence, list]) => [sequence, list.map((i) => present.image(i))])),
      });
    },
  });

  const downloadModel = (uidField: string, tokenField: string) => async ({ principal, body }: RouteContext): Promise<RouteResult> => {
    const file = await registry.openModelFile(principal, str(body, uidField), str(body, tokenField), { uid: uidField, token: tokenField });
    return { kind: "download", ...file };
  };

  return [
    // ---- organization and projects ----
    {
      key: "mGlkFLqgBQgNRvU3", action: "OrganizationMetadataWriter/retrieve", body: "json", schema: fields({ uid: UUID }),
      handle: async ({ principal, body }) => json(RETRIEVED, present.organization(await registry.getOrganization(principal, str(body, "uid")))),
    },
    {
      key: "9Q1lCs56iud4oPcS", action: "ProjectMetadataWriter/create", body: "json",
      schema: fields({ name: NAME }, { description: TEXT, f_organization_uid: UUID }),
      handle: async ({ principal, body }) => json(CREATED, present.project(await registry.createProject(principal, {
        name: str(body, "name"), description: opt(body, "description") ?? "", ...(body.f_organization_uid ? { organizationUid: str(body, "f_organization_uid") } : {}),
      })), 201),
    },
    {
      key: "KIW6ZqwTMbMF4bWl", action: "ProjectMetadataWriter/update", body: "json", schema: update,
      handle: async ({ principal, body }) => json(UPDATED, present.project(await registry.updateProject(principal, str(body, "uid"), described(body)))),
    },
    {
      key: "ThQHZcLlnq6GQ3zW", action: "ProjectMetadataWriter/delete", body: "json", schema: remove,
      handle: async ({ principal, body }) => (await registry.deleteProject(principal, str(body, "uid")), json(DELETED, {})),
    },
    {
      key: "a75vPQAyPqVGFwiZ", action: "ProjectMetadataWriter/filter_by_organization", body: "json", paginated: true,
      schema: fields({ f_organization_uid: UUID }),
      handle: async ({ principal, body, page }) => listed(await registry.listProjects(principal, str(body, "f_organization_uid"), page), (p) => present.project(p)),
    },

    // ---- applications ----
    {
      key: "iGXyNAx4Kp3DrosK", action: "ApplicationTopicManager/create", body: "json",
      schema: fields(
        { application_name: NAME, f_project_uid: UUID },
        { application_description: TEXT, f_organization_uid: UUID, f_agent_uid: { type: "array", maxItems: 0, items: UUID } },
      ),
      handle: async ({ principal, body }) => json(CREATED, present.application(await registry.createApplication(principal, {
        name: str(body, "application_name"), description: opt(body, "application_description") ?? "", projectUid: str(body, "f_project_uid"),
      })), 201),
    },
    {
      key: "OjlrjuAeA5HOkGqT", action: "ApplicationMessenger/update", body: "json",
      schema: fields({ application_uid: UUID }, { application_name: NAME, application_description: TEXT }),
      handle: async ({ principal, body }) => json(UPDATED, present.application(
        await registry.updateApplication(principal, str(body, "application_uid"), described(body, "application_name", "application_description"), "application_uid"),
      )),
    },
    {
      key: "I5saSl6jjFMJJqKr", action: "ApplicationMetadataWriter/update", body: "json", schema: update,
      handle: async ({ principal, body }) => json(UPDATED, present.application(await registry.updateApplication(principal, str(body, "uid"), described(body)))),
    },
    {
      key: "pWS6eH3ZKgYytsre", action: "ApplicationTopicManager/delete", body: "json", schema: fields({ application_uid: UUID }),
      handle: async ({ principal, body }) => (await registry.deleteApplication(principal, str(body, "application_uid"), "application_uid"), json(DELETED, {})),
    },
    {
      key: "A19MSnNoF8p36XHn", action: "ApplicationMetadataWriter/filter_by_project", body: "json", paginated: true,
      schema: fields({ f_project_uid: UUID }),
      handle: async ({ principal, body, page }) => listed(await registry.listApplications(principal, str(body, "f_project_uid"), page), (a) => present.application(a)),
    },

    // ---- datasets ----
    ...datasetRoutes("project", { create: "OFbaCJE62lcPVbZj", update: "uqm5wN6pdrAWM89T", remove: "6PiGXBbrIvQLqhrC", list: "MyC2aIHtzkZJrEGi" }, "ProjectDatasetMetadataWriter"),
    ...datasetRoutes("application", { create: "5fk1gVLi8q0mcHf4", update: "lXqKKZYiy6XKJaVg", remove: "9uKWKnG5ZTSew1HD", list: "1sphuopUuLnIqoPU" }, "ApplicationDatasetMetadataWriter"),

    // ---- pipelines ----
    {
      key: "FgdSO4ryg2UA2APl", action: "PipelineMetadataWriter/create", body: "multipart", file: "required",
      schema: fields({ name: NAME, type: enumOf(PIPELINE_TYPES), f_application_uid: UUID, extension: NAME }, { description: TEXT }),
      handle: async ({ principal, body, file }) => json(CREATED_WITH_FILE, present.pipeline(await registry.createPipeline(principal, {
        name: str(body, "name"), description: opt(body, "description") ?? "", type: str(body, "type"),
        applicationUid: str(body, "f_application_uid"), extension: str(body, "extension"), file: file!,
      })), 201),
    },
    {
      key: "28a9H19Khaw4KIbV", action: "PipelineMetadataWriter/update", body: "multipart", file: "optional", schema: update,
      handle: async ({ principal, body, file }) => json(UPDATED, present.pipeline(await registry.updatePipeline(principal, str(body, "uid"), { ...described(body), ...(file ? { file } : {}) }))),
    },
    {
      key: "8PSWYHbJF2ZHuXVP", action: "PipelineMetadataWriter/delete", body: "json", schema: remove,
      handle: async ({ principal, body }) => (await registry.deletePipeline(principal, str(body, "uid")), json(DELETED, {})),
    },
    {
      key: "owbCDAJ9rJW2AEO5", action: "PipelineMetadataWriter/retrieve", body: "json", schema: fields({ uid: UUID }),
      handle: async ({ principal, body }) => json(RETRIEVED, present.pipeline(await registry.getPipeline(principal, str(body, "uid")))),
    },
    {
      key: "VytZbpzyI9fFWkM6", action: "PipelineMetadataWriter/filter_by_application", body: "json", paginated: true,
      schema: fields({ f_application_uid: UUID }),
      handle: async ({ principal, body, page }) => listed(await registry.listPipelines(principal, str(body, "f_application_uid"), page), (p) => present.pipeline(p)),
    },

    // ---- configs ----
    {
      key: "42XzWaxjE6dKA9mZ", action: "ConfigMetadataWriter/create", body: "json",
      schema: fields({ name: NAME, data: { type: "object" }, f_pipeline_uid: UUID }, { description: TEXT }),
      handle: async ({ principal, body }) => json(CREATED, present.config(await registry.createConfig(principal, {
        name: str(body, "name"), description: opt(body, "description") ?? "", data: body.data as Record<string, unknown>, pipelineUid: str(body, "f_pipeline_uid"),
      })), 201),
    },
    {
      key: "IIfzauWfQZ3RsHUZ", action: "ConfigMetadataWriter/update", body: "json",
      schema: fields({ uid: UUID }, { name: NAME, description: TEXT, data: { type: "object" } }),
      handle: async ({ principal, body }) => json(UPDATED, present.config(await registry.updateConfig(principal, str(body, "uid"), {
        ...described(body), ...(body.data === undefined ? {} : { data: body.data as Record<string, unknown> }),
      }))),
    },
    {
      key: "DUj6JZvlwBE3WMbX", action: "ConfigMetadataWriter/delete", body: "json", schema: remove,
      handle: async ({ principal, body }) => (await registry.deleteConfig(principal, str(body, "uid")), json(DELETED, {})),
    },
    {
      key: "NVVJBLsdkIjTLB2P", action: "ConfigMetadataWriter/filter_by_pipeline", body: "json", paginated: true,
      schema: fields({ f_pipeline_uid: UUID }),
      handle: async ({ principal, body, page }) => listed(await registry.listConfigs(principal, str(body, "f_pipeline_uid"), page), (c) => present.config(c)),
    },

    // ---- images (build files) ----
    {
      key: "lwO7afcqdKtKEAhb", action: "ImageMetadataWriter/create", body: "multipart", file: "required",
      schema: fields({ name: NAME, sequence: enumOf(IMAGE_SEQUENCES), f_pipeline_uid: UUID }, { description: TEXT, extension: NAME, image_reference: IMAGE_REFERENCE }),
      handle: async ({ principal, body, file }) => json(CREATED_WITH_FILE, present.image(await registry.createImage(principal, {
        name: str(body, "name"), description: opt(body, "description") ?? "", sequence: str(body, "sequence"),
        pipelineUid: str(body, "f_pipeline_uid"), extension: opt(body, "extension") ?? "null",
        ...(body.image_reference ? { reference: str(body, "image_reference") } : {}), file: file!,
      })), 201),
    },
    {
      key: "fQVBVFsISiNWCCzx", action: "ImageMetadataWriter/update", body: "multipart", file: "optional", schema: update,
      handle: async ({ principal, body, file }) => json(UPDATED, present.image(await registry.updateImage(principal, str(body, "uid"), { ...described(body), ...(file ? { file } : {}) }))),
    },
    {
      key: "Ho7YDcRfgifigJvn", action: "ImageMetadataWriter/delete", body: "json", schema: remove,
      handle: async ({ principal, body }) => (await registry.deleteImage(principal, str(body, "uid")), json(DELETED, {})),
    },
    {
      key: "eu4oNOb8E0KVaOdo", action: "ImageMetadataWriter/filter_by_pipeline", body: "json", paginated: true,
      schema: fields({ f_pipeline_uid: UUID }),
      handle: async ({ principal, body, page }) => listed(await registry.listImages(principal, str(body, "f_pipeline_uid"), page), (i) => present.image(i)),
    },

    // ---- models ----
    {
      key: "OBF4f9guOmzitGvC", action: "ModelMetadataWriter/create", body: "multipart", file: "required",
      schema: fields(
        { name: NAME, type: NAME, model_input_format: NAME, model_output_format: NAME, f_application_uid: UUID },
        { description: TEXT, status: enumOf(MODEL_STATUSES), f_agent_uid: UUID, extension: NAME, source: UUID },
      ),
      handle: async ({ principal, body, file }) => json(CREATED_WITH_FILE, present.model(await registry.createModel(principal, {
        name: str(body, "name"), description: opt(body, "description") ?? "", type: str(body, "type"),
        inputFormat: str(body, "model_input_format"), outputFormat: str(body, "model_output_format"),
        ...(body.status ? { status: str(body, "status") } : {}), applicationUid: str(body, "f_application_uid"),
        ...(body.f_agent_uid ? { agentUid: str(body, "f_agent_uid") } : {}), ...(body.source ? { source: str(body, "source") } : {}),
        extension: opt(body, "extension") ?? "zip", file: file!,
      })), 201),
    },
    {
      key: "siJLKf5He1wksCH2", action: "ModelMessenger/update", body: "json",
      schema: fields({ model_uid: UUID }, {
        model_name: NAME, model_description: TEXT, model_input_format: NAME, model_output_format: NAME, model_status: enumOf(MODEL_STATUSES),
      }),
      handle: async ({ principal, body }) => json(UPDATED, present.model(await registry.updateModel(principal, str(body, "model_uid"), {
        ...described(body, "model_name", "model_description"),
        ...(body.model_input_format === undefined ? {} : { inputFormat: str(body, "model_input_format") }),
        ...(body.model_output_format === undefined ? {} : { outputFormat: str(body, "model_output_format") }),
        ...(body.model_status === undefined ? {} : { status: str(body, "model_status") }),
      }))),
    },
    {
      key: "8qFsmTELrN0lag20", action: "ModelMetadataWriter/delete", body: "json", schema: remove,
      handle: async ({ principal, body }) => (await registry.deleteModel(principal, str(body, "uid")), json(DELETED, {})),
    },
    {
      key: "EU2X3oWVHQiEoYBi", action: "ModelMetadataWriter/filter_by_application", body: "json", paginated: true,
      schema: fields({ f_application_uid: UUID }),
      handle: async ({ principal, body, page }) => listed(await registry.listModels(principal, str(body, "f_application_uid"), page), (m) => present.model(m)),
    },
    {
      key: "mvtJY0gtyhHguWtL", action: "ModelMetadataWriter/filter_by_application (grouped)", body: "json",
      schema: fields({ f_application_uid: UUID }),
      handle: async ({ principal, body }) => json(LISTED, (await registry.listModelGroups(principal, str(body, "f_application_uid"))).map((group) => ({
        ...present.model(group), retrain_model: group.derived.map((m) => present.model(m)),
      }))),
    },
    {
      key: "ZEUjsfvXK9eNjom7", action: "ModelMetadataWriter/get_tuning_model_group", body: "json",
      schema: fields({ source: UUID }, { version: { type: "number" } }),
      handle: async ({ principal, body }) => json(LISTED, (await registry.listModelLineage(principal, str(body, "source"), body.version as number | undefined)).map((m) => present.model(m))),
    },
    {
      key: "LKloOsyvHb0NCDPG", action: "ModelPermissionManager/create", body: "json",
      schema: fields({ uid: UUID }, { status: enumOf(["publish"]), f_application_uid: UUID }),
      handle: async ({ principal, body }) => json(UPDATED, present.model(await registry.withFile(await registry.setModelPublication(principal, str(body, "uid"), "publish")))),
    },
    {
      key: "7uW8GfesIizOaShO", action: "ModelPermissionManager/delete", body: "json",
      schema: fields({ uid: UUID }, { status: enumOf(["unpublish"]), f_application_uid: UUID }),
      handle: async ({ principal, body }) => json(UPDATED, present.model(await registry.withFile(await registry.setModelPublication(principal, str(body, "uid"), "unpublish")))),
    },
    {
      key: "5aP8Kk9Okiv2WdsO", action: "ModelAccuracyManager/create", body: "json",
      schema: fields({ model_uid: UUID, model_accuracy: { type: "number" } }),
      handle: async ({ principal, body }) => json(UPDATED, present.model(await registry.withFile(await registry.setModelAccuracy(principal, str(body, "model_uid"), body.model_accuracy as number)))),
    },
    {
      key: "4AJSfvc4mn8xzy2U", action: "Model download", body: "json",
      schema: fields({ uid: UUID, access_token: { type: "string", minLength: 1, maxLength: 256 } }),
      handle: downloadModel("uid", "access_token"),
    },
    {
      key: "gTJsFsf5JIjeAmNb", action: "AuthFileManager/download", body: "json",
      schema: fields({ model_uid: UUID, model_access_token: { type: "string", minLength: 1, maxLength: 256 } }),
      handle: downloadModel("model_uid", "model_access_token"),
    },

    // ---- files ----
    {
      key: "TTiue1sygXrsm0YS", action: "GeneralFileManager/download", body: "json",
      schema: fields({ uid: UUID }, { file_path: RETIRED }),
      handle: async ({ principal, body }) => ({ kind: "download", ...(await registry.openFile(principal, str(body, "uid"))) }),
    },

    // ---- run-form choices ----
    preparerRoute("oNjkVj60RqS8DQTX", "preprocessing"),
    preparerRoute("Q3aPI7vZrzp3d4SI", "training"),
    preparerRoute("ur2rcOusIa91PFX5", "retrain"),
    preparerRoute("8O1f02CSk0Su3czR", "evaluation"),
  ];
}
