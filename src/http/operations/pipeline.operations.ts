/** Pipelines, their configs and their build files (original-system.md §3.2). */
import { Type } from "@sinclair/typebox";
import { IMAGE_SEQUENCES, PIPELINE_TYPES } from "../../domain/records.js";
import type { ImageBuilds } from "../../domain/builds/image-builds.js";
import type { ImageRecord } from "../../domain/records.js";
import type { WithFile } from "../../domain/registry/registry-records.js";
import type { RegistryService } from "../../domain/registry/registry-service.js";
import type { Presenter } from "../shared/presenters.js";
import { CREATED, CREATED_WITH_FILE, DELETED, LISTED, RETRIEVED, UPDATED } from "./messages.js";
import { listed, operation, record } from "./operation.js";
import { DescribedUpdate, UidBody, described } from "./registry.operations.js";
import { ImageReference, JsonObject, Name, Optional, Text, Uid, oneOf } from "./schemas.js";

export function pipelineOperations({ registry, builds, present }: { registry: RegistryService; builds: ImageBuilds; present: Presenter }) {
  /** A stored build file goes to its build; the answer shows the build's state. */
  const built = async ({ record: stored, file }: WithFile<ImageRecord>) => {
    const image = await builds.buildFileStored(stored);
    return present.image({ record: image, file }, await builds.viewOf(image));
  };
  return {
    createPipeline: operation({
      id: "pipelines.create",
      summary: "PipelineMetadataWriter/create",
      mitlabKey: "FgdSO4ryg2UA2APl",
      form: { file: "required" },
      body: Type.Object({ name: Name, type: oneOf(PIPELINE_TYPES), f_application_uid: Uid, extension: Name, description: Optional(Text) }),
      fields: { applicationUid: "f_application_uid" },
      handle: async ({ principal, body, file }) =>
        record(
          CREATED_WITH_FILE,
          present.pipeline(
            await registry.createPipeline(principal, {
              name: body.name,
              description: body.description ?? "",
              type: body.type,
              applicationUid: body.f_application_uid,
              extension: body.extension,
              file: file!,
            }),
          ),
          { created: true },
        ),
    }),
    updatePipeline: operation({
      id: "pipelines.update",
      summary: "PipelineMetadataWriter/update",
      mitlabKey: "28a9H19Khaw4KIbV",
      form: { file: "optional" },
      body: DescribedUpdate,
      handle: async ({ principal, body, file }) =>
        record(
          UPDATED,
          present.pipeline(
            await registry.updatePipeline(principal, body.uid, { ...described(body.name, body.description), ...(file ? { file } : {}) }),
          ),
        ),
    }),
    deletePipeline: operation({
      id: "pipelines.delete",
      summary: "PipelineMetadataWriter/delete",
      mitlabKey: "8PSWYHbJF2ZHuXVP",
      body: UidBody,
      handle: async ({ principal, body }) => (await registry.deletePipeline(principal, body.uid), record(DELETED, {})),
    }),
    getPipeline: operation({
      id: "pipelines.get",
      apiKey: "read",
      rest: [{ method: "get", path: "/pipelines/{uid}" }],
      summary: "PipelineMetadataWriter/retrieve",
      mitlabKey: "owbCDAJ9rJW2AEO5",
      body: UidBody,
      handle: async ({ principal, body }) => record(RETRIEVED, present.pipeline(await registry.getPipeline(principal, body.uid))),
    }),
    listPipelines: operation({
      id: "pipelines.list",
      apiKey: "read",
      rest: [{ method: "get", path: "/applications/{uid}/pipelines", params: { uid: "f_application_uid" } }],
      summary: "PipelineMetadataWriter/filter_by_application",
      mitlabKey: "VytZbpzyI9fFWkM6",
      paginated: true,
      body: Type.Object({ f_application_uid: Uid }),
      fields: { applicationUid: "f_application_uid" },
      handle: async ({ principal, body, page }) =>
        listed(LISTED, await registry.listPipelines(principal, body.f_application_uid, page), (p) => present.pipeline(p)),
    }),

    createConfig: operation({
      id: "configs.create",
      summary: "ConfigMetadataWriter/create",
      mitlabKey: "42XzWaxjE6dKA9mZ",
      body: Type.Object({ name: Name, data: JsonObject, f_pipeline_uid: Uid, description: Optional(Text) }),
      fields: { pipelineUid: "f_pipeline_uid" },
      handle: async ({ principal, body }) =>
        record(
          CREATED,
          present.config(
            await registry.createConfig(principal, {
              name: body.name,
              description: body.description ?? "",
              data: body.data,
              pipelineUid: body.f_pipeline_uid,
            }),
          ),
          { created: true },
        ),
    }),
    updateConfig: operation({
      id: "configs.update",
      summary: "ConfigMetadataWriter/update",
      mitlabKey: "IIfzauWfQZ3RsHUZ",
      body: Type.Object({ uid: Uid, name: Optional(Name), description: Optional(Text), data: Optional(JsonObject) }),
      handle: async ({ principal, body }) =>
        record(
          UPDATED,
          present.config(
            await registry.updateConfig(principal, body.uid, {
              ...described(body.name, body.description),
              ...(body.data === undefined ? {} : { data: body.data }),
            }),
          ),
        ),
    }),
    deleteConfig: operation({
      id: "configs.delete",
      summary: "ConfigMetadataWriter/delete",
      mitlabKey: "DUj6JZvlwBE3WMbX",
      body: UidBody,
      handle: async ({ principal, body }) => (await registry.deleteConfig(principal, body.uid), record(DELETED, {})),
    }),
    listConfigs: operation({
      id: "configs.list",
      rest: [{ method: "get", path: "/pipelines/{uid}/configs", params: { uid: "f_pipeline_uid" } }],
      summary: "ConfigMetadataWriter/filter_by_pipeline",
      mitlabKey: "NVVJBLsdkIjTLB2P",
      paginated: true,
      body: Type.Object({ f_pipeline_uid: Uid }),
      fields: { pipelineUid: "f_pipeline_uid" },
      handle: async ({ principal, body, page }) =>
        listed(LISTED, await registry.listConfigs(principal, body.f_pipeline_uid, page), (c) => present.config(c)),
    }),

    createImage: operation({
      id: "build-files.create",
      summary: "ImageMetadataWriter/create",
      mitlabKey: "lwO7afcqdKtKEAhb",
      form: { file: "required" },
      body: Type.Object({
        name: Name,
        sequence: oneOf(IMAGE_SEQUENCES),
        f_pipeline_uid: Uid,
        description: Optional(Text),
        extension: Optional(Name),
        image_reference: Optional(ImageReference),
      }),
      fields: { pipelineUid: "f_pipeline_uid" },
      handle: async ({ principal, body, file }) =>
        record(
          CREATED_WITH_FILE,
          await built(
            await registry.createImage(principal, {
              name: body.name,
              description: body.description ?? "",
              sequence: body.sequence,
              pipelineUid: body.f_pipeline_uid,
              extension: body.extension ?? "null",
              ...(body.image_reference ? { reference: body.image_reference } : {}),
              file: file!,
            }),
          ),
          { created: true },
        ),
    }),
    updateImage: operation({
      id: "build-files.update",
      summary: "ImageMetadataWriter/update",
      mitlabKey: "fQVBVFsISiNWCCzx",
      form: { file: "optional" },
      body: DescribedUpdate,
      handle: async ({ principal, body, file }) => {
        const updated = await registry.updateImage(principal, body.uid, {
          ...described(body.name, body.description),
          ...(file ? { file } : {}),
        });
        // A replaced Dockerfile is built anew (its content is its tag); a renamed one keeps its image.
        return record(UPDATED, file ? await built(updated) : present.image(updated, await builds.viewOf(updated.record)));
      },
    }),
    deleteImage: operation({
      id: "build-files.delete",
      summary: "ImageMetadataWriter/delete",
      mitlabKey: "Ho7YDcRfgifigJvn",
      body: UidBody,
      handle: async ({ principal, body }) => (await registry.deleteImage(principal, body.uid), record(DELETED, {})),
    }),
    listImages: operation({
      id: "build-files.list",
      rest: [{ method: "get", path: "/pipelines/{uid}/build-files", params: { uid: "f_pipeline_uid" } }],
      summary: "ImageMetadataWriter/filter_by_pipeline",
      mitlabKey: "eu4oNOb8E0KVaOdo",
      paginated: true,
      body: Type.Object({ f_pipeline_uid: Uid }),
      fields: { pipelineUid: "f_pipeline_uid" },
      handle: async ({ principal, body, page }) => {
        const images = await registry.listImages(principal, body.f_pipeline_uid, page);
        const views = await builds.viewsOf(images.items.map((i) => i.record));
        return listed(LISTED, images, (i) => present.image(i, views.get(i.record.uid)!));
      },
    }),
  };
}
