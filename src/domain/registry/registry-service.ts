import type { Readable } from "node:stream";
import { ConflictError, ForbiddenError, NotFoundError, UnprocessableError, ValidationError } from "../errors.js";
import type { Database, EntityStore, Filter, IdGenerator, ObjectStore, PageRequest, StagedObject, Stores } from "../ports.js";
import { canAccess, type Principal } from "../principal.js";
import {
  IMAGE_SEQUENCES,
  MODEL_STATUSES,
  PIPELINE_TYPES,
  type ApplicationRecord,
  type ConfigRecord,
  type DatasetRecord,
  type DatasetScope,
  type ImageRecord,
  type ImageSequence,
  type ModelRecord,
  type ModelStatus,
  type OrganizationRecord,
  type PipelineRecord,
  type ProjectRecord,
  type StoredFileRecord,
} from "../records.js";
import { secretsEqual } from "../../lib/text.js";
import { checkExtension, objectKey } from "./storage-keys.js";

/** A record together with its stored file, as responses show it. */
export interface WithFile<R> {
  record: R;
  file: StoredFileRecord | null;
}

export interface Page<T> {
  items: T[];
  /** Present when more items follow. */
  next?: { createdAt: Date; uid: string };
}

interface Described {
  name?: string;
  description?: string;
}

export const DATASET_TYPES: Record<DatasetScope, readonly string[]> = {
  project: ["original", "training"],
  application: ["original", "optimization"],
};

/**
 * The registry of what tasks use. Every read and write checks that the caller's organization
 * owns each uid it names; a uid of another organization is reported as not found.
 */
export class RegistryService {
  constructor(private readonly deps: { db: Database; objects: ObjectStore; ids: IdGenerator }) {}

  // ---- organizations and projects ----

  async getOrganization(principal: Principal, uid: string, subject = "uid"): Promise<OrganizationRecord> {
    const organization = await this.deps.db.organizations.find(uid);
    if (!organization || !canAccess(principal, organization.uid)) throw NotFoundError.entity("organization", subject, uid);
    return organization;
  }

  async createProject(
    principal: Principal,
    input: { name: string; description: string; organizationUid?: string },
  ): Promise<ProjectRecord> {
    const organization = await this.getOrganization(principal, input.organizationUid ?? principal.organizationUid, "organizationUid");
    return this.deps.db.projects.create({
      uid: this.deps.ids.uid(),
      name: input.name,
      description: input.description,
      organizationUid: organization.uid,
    });
  }

  updateProject(principal: Principal, uid: string, input: Described): Promise<ProjectRecord> {
    return this.updateDescribed(this.deps.db.projects, "project", principal, uid, input);
  }

  async deleteProject(principal: Principal, uid: string): Promise<void> {
    await this.owned(this.deps.db.projects, "project", "uid", principal, uid);
    await this.deps.db.projects.delete(uid);
  }

  async listProjects(principal: Principal, organizationUid: string, page?: PageRequest): Promise<Page<ProjectRecord>> {
    await this.getOrganization(principal, organizationUid, "organizationUid");
    return paged(this.deps.db.projects, { organizationUid }, page);
  }

  // ---- applications ----

  async createApplication(
    principal: Principal,
    input: { name: string; description: string; projectUid: string },
  ): Promise<ApplicationRecord> {
    const project = await this.owned(this.deps.db.projects, "project", "projectUid", principal, input.projectUid);
    return this.deps.db.applications.create({
      uid: this.deps.ids.uid(),
      name: input.name,
      description: input.description,
      organizationUid: project.organizationUid,
      projectUid: project.uid,
    });
  }

  updateApplication(principal: Principal, uid: string, input: Described): Promise<ApplicationRecord> {
    return this.updateDescribed(this.deps.db.applications, "application", principal, uid, input);
  }

  async deleteApplication(principal: Principal, uid: string): Promise<void> {
    await this.owned(this.deps.db.applications, "application", "uid", principal, uid);
    await this.deps.db.applications.delete(uid);
  }

  async listApplications(principal: Principal, projectUid: string, page?: PageRequest): Promise<Page<ApplicationRecord>> {
    await this.owned(this.deps.db.projects, "project", "projectUid", principal, projectUid);
    return paged(this.deps.db.applications, { projectUid }, page);
  }

  // ---- pipelines ----

  async createPipeline(
    principal: Principal,
    input: { name: string; description: string; type: string; applicationUid: string; extension: string; file: StagedObject },
  ): Promise<WithFile<PipelineRecord>> {
    const type = oneOf("type", input.type, PIPELINE_TYPES);
    const extension = checkExtension("extension", input.extension);
    const application = await this.owned(this.deps.db.applications, "application", "applicationUid", principal, input.applicationUid);
    const uid = this.deps.ids.uid();
    const key = objectKey([application.organizationUid, application.projectUid, application.uid, type], uid, extension);
    return this.storeThenRecord(key, extension, input.file, (stores, file) =>
      stores.pipelines.create({
        uid,
        name: input.name,
        description: input.description,
        type,
        organizationUid: application.organizationUid,
        applicationUid: application.uid,
        fileUid: file.uid,
      }),
    );
  }

  async getPipeline(principal: Principal, uid: string, subject = "uid"): Promise<WithFile<PipelineRecord>> {
    return this.withFile(await this.owned(this.deps.db.pipelines, "pipeline", subject, principal, uid));
  }

  updatePipeline(principal: Principal, uid: string, input: Described & { file?: StagedObject }): Promise<WithFile<PipelineRecord>> {
    return this.updateWithFile(this.deps.db.pipelines, "pipeline", principal, uid, input, (r) => r.fileUid);
  }

  deletePipeline(principal: Principal, uid: string): Promise<void> {
    return this.deleteWithFile(
      this.deps.db.pipelines,
      "pipeline",
      principal,
      uid,
      (r) => r.fileUid,
      (s) => s.pipelines,
    );
  }

  async listPipelines(principal: Principal, applicationUid: string, page?: PageRequest): Promise<Page<WithFile<PipelineRecord>>> {
    await this.owned(this.deps.db.applications, "application", "applicationUid", principal, applicationUid);
    return this.withFiles(await paged(this.deps.db.pipelines, { applicationUid }, page), (r) => r.fileUid);
  }

  // ---- datasets (project and application) ----

  async createDataset(
    principal: Principal,
    input: {
      scope: DatasetScope;
      name: string;
      description: string;
      type: string;
      parentUid: string;
      extension: string;
      file: StagedObject;
    },
  ): Promise<WithFile<DatasetRecord>> {
    const type = oneOf("type", input.type, DATASET_TYPES[input.scope]);
    const extension = checkExtension("extension", input.extension);
    const parent = await this.datasetParent(principal, input.scope, input.parentUid);
    const uid = this.deps.ids.uid();
    const key = objectKey([...parent.segments, type], uid, extension);
    return this.storeThenRecord(key, extension, input.file, (stores, file) =>
      stores.datasets.create({
        uid,
        name: input.name,
        description: input.description,
        scope: input.scope,
        type,
        status: "available",
        organizationUid: parent.organizationUid,
        projectUid: parent.projectUid,
        applicationUid: parent.applicationUid,
        fileUid: file.uid,
        extension,
      }),
    );
  }

  async getDataset(principal: Principal, scope: DatasetScope, uid: string, subject = "uid"): Promise<DatasetRecord> {
    const dataset = await this.owned(this.deps.db.datasets, `${scope} dataset`, subject, principal, uid);
    if (dataset.scope !== scope) throw NotFoundError.entity(`${scope} dataset`, subject, uid);
    return dataset;
  }

  async updateDataset(
    principal: Principal,
    scope: DatasetScope,
    uid: string,
    input: Described & { file?: StagedObject },
  ): Promise<WithFile<DatasetRecord>> {
    await this.getDataset(principal, scope, uid);
    return this.updateWithFile(this.deps.db.datasets, `${scope} dataset`, principal, uid, input, (r) => r.fileUid);
  }

  async deleteDataset(principal: Principal, scope: DatasetScope, uid: string): Promise<void> {
    await this.getDataset(principal, scope, uid);
    return this.deleteWithFile(
      this.deps.db.datasets,
      `${scope} dataset`,
      principal,
      uid,
      (r) => r.fileUid,
      (s) => s.datasets,
    );
  }

  async listDatasets(
    principal: Principal,
    scope: DatasetScope,
    parentUid: string,
    page?: PageRequest,
  ): Promise<Page<WithFile<DatasetRecord>>> {
    await this.datasetParent(principal, scope, parentUid);
    const filter: Filter<DatasetRecord> = scope === "project" ? { scope, projectUid: parentUid } : { scope, applicationUid: parentUid };
    return this.withFiles(await paged(this.deps.db.datasets, filter, page), (r) => r.fileUid);
  }

  // ---- configs ----

  async createConfig(
    principal: Principal,
    input: { name: string; description: string; data: Record<string, unknown>; pipelineUid: string },
  ): Promise<ConfigRecord> {
    const pipeline = await this.owned(this.deps.db.pipelines, "pipeline", "pipelineUid", principal, input.pipelineUid);
    return this.deps.db.configs.create({
      uid: this.deps.ids.uid(),
      name: input.name,
      description: input.description,
      data: JSON.stringify(input.data),
      organizationUid: pipeline.organizationUid,
      pipelineUid: pipeline.uid,
    });
  }

  async updateConfig(principal: Principal, uid: string, input: Described & { data?: Record<string, unknown> }): Promise<ConfigRecord> {
    await this.owned(this.deps.db.configs, "config", "uid", principal, uid);
    await this.refuseWhileInUse(uid, "config");
    return this.deps.db.configs.update(uid, { ...pick(input), ...(input.data === undefined ? {} : { data: JSON.stringify(input.data) }) });
  }

  async deleteConfig(principal: Principal, uid: string): Promise<void> {
    await this.owned(this.deps.db.configs, "config", "uid", principal, uid);
    await this.refuseWhileInUse(uid, "config");
    await this.deps.db.configs.delete(uid);
  }

  async listConfigs(principal: Principal, pipelineUid: string, page?: PageRequest): Promise<Page<ConfigRecord>> {
    await this.owned(this.deps.db.pipelines, "pipeline", "pipelineUid", principal, pipelineUid);
    return paged(this.deps.db.configs, { pipelineUid }, page);
  }

  // ---- images (build files) ----

  async createImage(
    principal: Principal,
    input: {
      name: string;
      description: string;
      sequence: string;
      pipelineUid: string;
      extension: string;
      reference?: string;
      file: StagedObject;
    },
  ): Promise<WithFile<ImageRecord>> {
    const sequence = oneOf("sequence", input.sequence, IMAGE_SEQUENCES) as ImageSequence;
    const extension = checkExtension("extension", input.extension);
    const pipeline = await this.owned(this.deps.db.pipelines, "pipeline", "pipelineUid", principal, input.pipelineUid);
    const application = await this.deps.db.applications.find(pipeline.applicationUid);
    const uid = this.deps.ids.uid();
    const key = objectKey(
      [pipeline.organizationUid, application?.projectUid ?? "-", pipeline.applicationUid, pipeline.type, "image"],
      uid,
      extension,
    );
    return this.storeThenRecord(key, extension, input.file, (stores, file) =>
      stores.images.create({
        uid,
        name: input.name,
        description: input.description,
        sequence,
        organizationUid: pipeline.organizationUid,
        pipelineUid: pipeline.uid,
        fileUid: file.uid,
        reference: input.reference ?? null,
      }),
    );
  }

  updateImage(principal: Principal, uid: string, input: Described & { file?: StagedObject }): Promise<WithFile<ImageRecord>> {
    return this.updateWithFile(this.deps.db.images, "image", principal, uid, input, (r) => r.fileUid);
  }

  deleteImage(principal: Principal, uid: string): Promise<void> {
    return this.deleteWithFile(
      this.deps.db.images,
      "image",
      principal,
      uid,
      (r) => r.fileUid,
      (s) => s.images,
    );
  }

  async listImages(principal: Principal, pipelineUid: string, page?: PageRequest): Promise<Page<WithFile<ImageRecord>>> {
    await this.owned(this.deps.db.pipelines, "pipeline", "pipelineUid", principal, pipelineUid);
    return this.withFiles(await paged(this.deps.db.images, { pipelineUid }, page), (r) => r.fileUid);
  }

  // ---- models ----

  async createModel(
    principal: Principal,
    input: {
      name: string;
      description: string;
      type: string;
      inputFormat: string;
      outputFormat: string;
      status?: string;
      applicationUid: string;
      agentUid?: string;
      source?: string;
      extension: string;
      file: StagedObject;
    },
  ): Promise<WithFile<ModelRecord>> {
    const status = oneOf("status", input.status ?? "unpublish", MODEL_STATUSES) as ModelStatus;
    const extension = checkExtension("extension", input.extension);
    const application = await this.owned(this.deps.db.applications, "application", "applicationUid", principal, input.applicationUid);
    const version = input.source ? await this.nextVersion(principal, input.source) : 1;
    const uid = this.deps.ids.uid();
    const key = objectKey([application.organizationUid, application.projectUid, application.uid, "model"], uid, extension);
    return this.storeThenRecord(key, extension, input.file, (stores, file) =>
      stores.models.create({
        uid,
        name: input.name,
        description: input.description,
        type: input.type,
        inputFormat: input.inputFormat,
        outputFormat: input.outputFormat,
        status,
        version,
        accuracy: null,
        accessToken: this.deps.ids.token(32),
        source: input.source ?? null,
        organizationUid: application.organizationUid,
        applicationUid: application.uid,
        agentUid: input.agentUid ?? null,
        fileUid: file.uid,
        extension,
      }),
    );
  }

  async getModel(principal: Principal, uid: string, subject = "uid"): Promise<ModelRecord> {
    return this.owned(this.deps.db.models, "model", subject, principal, uid);
  }

  async updateModel(
    principal: Principal,
    uid: string,
    input: Described & { inputFormat?: string; outputFormat?: string; status?: string },
  ): Promise<WithFile<ModelRecord>> {
    const model = await this.getModel(principal, uid);
    const patch: Partial<ModelRecord> = { ...pick(input) };
    if (input.inputFormat !== undefined) patch.inputFormat = input.inputFormat;
    if (input.outputFormat !== undefined) patch.outputFormat = input.outputFormat;
    if (input.status !== undefined)
      patch.status = this.nextModelStatus(model, oneOf("status", input.status, MODEL_STATUSES) as ModelStatus);
    return this.withFile(await this.deps.db.models.update(uid, patch));
  }

  async setModelPublication(principal: Principal, uid: string, status: "publish" | "unpublish"): Promise<ModelRecord> {
    const model = await this.getModel(principal, uid);
    return this.deps.db.models.update(uid, { status: this.nextModelStatus(model, status) });
  }

  async setModelAccuracy(principal: Principal, uid: string, accuracy: number): Promise<ModelRecord> {
    await this.getModel(principal, uid);
    return this.deps.db.models.update(uid, { accuracy });
  }

  deleteModel(principal: Principal, uid: string): Promise<void> {
    return this.deleteWithFile(
      this.deps.db.models,
      "model",
      principal,
      uid,
      (r) => r.fileUid,
      (s) => s.models,
    );
  }

  async listModels(principal: Principal, applicationUid: string, page?: PageRequest): Promise<Page<WithFile<ModelRecord>>> {
    await this.owned(this.deps.db.applications, "application", "applicationUid", principal, applicationUid);
    return this.withFiles(await paged(this.deps.db.models, { applicationUid }, page), (r) => r.fileUid);
  }

  /** Base models of an application, each with the versions retrained from it. */
  async listModelGroups(
    principal: Principal,
    applicationUid: string,
  ): Promise<Array<WithFile<ModelRecord> & { derived: WithFile<ModelRecord>[] }>> {
    const { items } = await this.listModels(principal, applicationUid);
    const bySource = new Map<string, WithFile<ModelRecord>[]>();
    for (const item of items) {
      if (item.record.source) bySource.set(item.record.source, [...(bySource.get(item.record.source) ?? []), item]);
    }
    const roots = items.filter((item) => !item.record.source || !items.some((other) => other.record.uid === item.record.source));
    return roots.map((root) => ({ ...root, derived: bySource.get(root.record.uid) ?? [] }));
  }

  /** Versions derived from one source model, optionally only one version of them. */
  async listModelLineage(principal: Principal, source: string, version?: number): Promise<WithFile<ModelRecord>[]> {
    await this.getModel(principal, source, "source");
    const filter: Filter<ModelRecord> = version === undefined ? { source } : { source, version };
    return (await this.withFiles({ items: await this.deps.db.models.list(filter) }, (r) => r.fileUid)).items;
  }

  // ---- files ----

  /**
   * Opens the file of a dataset, pipeline, build file or model for download. Files are
   * addressed by their owner's uid (or the file uid shown as `f_file_uid.uid`), never by path.
   */
  async openFile(principal: Principal, uid: string): Promise<{ stream: Readable; size: number; filename: string }> {
    const db = this.deps.db;
    const owners: Array<EntityStore<{ uid: string; createdAt: Date; organizationUid: string; fileUid: string | null }>> = [
      db.datasets,
      db.pipelines,
      db.images,
      db.models,
    ];
    for (const store of owners) {
      const owner = (await store.find(uid)) ?? (await store.list({ fileUid: uid }))[0];
      if (owner && canAccess(principal, owner.organizationUid) && owner.fileUid) return this.openStored(owner.fileUid, owner.uid);
      if (owner) break;
    }
    throw NotFoundError.entity("file", "uid", uid);
  }

  async openModelFile(
    principal: Principal,
    uid: string,
    accessToken: string,
  ): Promise<{ stream: Readable; size: number; filename: string }> {
    const model = await this.getModel(principal, uid);
    if (!secretsEqual(accessToken, model.accessToken)) {
      throw new ForbiddenError("the access token does not match this model", {
        problems: [{ field: "accessToken", message: "does not match" }],
      });
    }
    if (!model.fileUid || model.status === "unavailable") throw new ConflictError(`model ${uid} has no file yet`);
    return this.openStored(model.fileUid, model.uid);
  }

  // ---- helpers shared by the entities ----

  /** Loads a record and checks the caller's organization owns it; errors name it as `subject`. */
  async owned<R extends { uid: string; createdAt: Date; organizationUid: string }>(
    store: EntityStore<R>,
    entity: string,
    subject: string,
    principal: Principal,
    uid: string,
  ): Promise<R> {
    const record = await store.find(uid);
    if (!record || !canAccess(principal, record.organizationUid)) throw NotFoundError.entity(entity, subject, uid);
    return record;
  }

  async withFile<R extends { fileUid: string | null }>(record: R): Promise<WithFile<R>> {
    return { record, file: record.fileUid ? await this.deps.db.files.find(record.fileUid) : null };
  }

  private async withFiles<R>(page: Page<R>, fileOf: (r: R) => string | null): Promise<Page<WithFile<R>>> {
    const uids = page.items.map(fileOf).filter((u): u is string => u !== null);
    const files = uids.length ? await this.deps.db.files.list({ uid: { in: uids } }) : [];
    const byUid = new Map(files.map((f) => [f.uid, f]));
    const items = page.items.map((record) => ({ record, file: byUid.get(fileOf(record) ?? "") ?? null }));
    return page.next ? { items, next: page.next } : { items };
  }

  private async updateDescribed<R extends { uid: string; createdAt: Date; organizationUid: string }>(
    store: EntityStore<R>,
    entity: string,
    principal: Principal,
    uid: string,
    input: Described,
  ): Promise<R> {
    await this.owned(store, entity, "uid", principal, uid);
    return store.update(uid, pick(input) as Partial<R>);
  }

  /** Commits the object first, then the metadata; a failed metadata write removes the object. */
  private async storeThenRecord<R>(
    key: string,
    extension: string,
    upload: StagedObject,
    record: (stores: Stores, file: StoredFileRecord) => Promise<R>,
  ): Promise<WithFile<R>> {
    await upload.commit(key);
    try {
      return await this.deps.db.transaction(async (stores) => {
        const file = await stores.files.create({ uid: this.deps.ids.uid(), storageKey: key, extension, size: upload.size });
        return { record: await record(stores, file), file };
      });
    } catch (error) {
      await this.deps.objects.remove(key);
      throw error;
    }
  }

  private async updateWithFile<R extends { uid: string; createdAt: Date; organizationUid: string; name: string; description: string }>(
    store: EntityStore<R>,
    entity: string,
    principal: Principal,
    uid: string,
    input: Described & { file?: StagedObject },
    fileOf: (r: R) => string | null,
  ): Promise<WithFile<R>> {
    const record = await this.owned(store, entity, "uid", principal, uid);
    const fileUid = fileOf(record);
    let file = fileUid ? await this.deps.db.files.find(fileUid) : null;
    if (input.file) {
      if (!file) throw new ConflictError(`${entity} ${uid} has no file to replace yet`);
      await this.refuseWhileInUse(uid, entity);
      // The store replaces the object atomically, so a failed upload leaves the old file intact.
      await input.file.commit(file.storageKey);
      file = await this.deps.db.files.update(file.uid, { size: input.file.size });
    }
    const described = pick(input);
    const updated = Object.keys(described).length ? await store.update(uid, described as Partial<R>) : record;
    return { record: updated, file };
  }

  private async deleteWithFile<R extends { uid: string; createdAt: Date; organizationUid: string }>(
    store: EntityStore<R>,
    entity: string,
    principal: Principal,
    uid: string,
    fileOf: (r: R) => string | null,
    storeIn: (s: Stores) => EntityStore<R>,
  ): Promise<void> {
    const record = await this.owned(store, entity, "uid", principal, uid);
    await this.refuseWhileInUse(uid, entity);
    const fileUid = fileOf(record);
    const file = fileUid ? await this.deps.db.files.find(fileUid) : null;
    await this.deps.db.transaction(async (stores) => {
      await storeIn(stores).delete(uid);
      if (file) await stores.files.delete(file.uid);
    });
    if (file) await this.deps.objects.remove(file.storageKey);
  }

  private async refuseWhileInUse(uid: string, entity: string): Promise<void> {
    if ((await this.deps.db.tasks.countActiveUsing(uid)) > 0) {
      throw new ConflictError(`${entity} ${uid} is used by a task that is still running; stop or wait for it first`);
    }
  }

  private async datasetParent(principal: Principal, scope: DatasetScope, parentUid: string) {
    if (scope === "project") {
      const project = await this.owned(this.deps.db.projects, "project", "projectUid", principal, parentUid);
      return {
        organizationUid: project.organizationUid,
        projectUid: project.uid,
        applicationUid: null,
        segments: [project.organizationUid, project.uid],
      };
    }
    const application = await this.owned(this.deps.db.applications, "application", "applicationUid", principal, parentUid);
    return {
      organizationUid: application.organizationUid,
      projectUid: null,
      applicationUid: application.uid,
      segments: [application.organizationUid, application.projectUid, application.uid],
    };
  }

  private async nextVersion(principal: Principal, source: string): Promise<number> {
    const base = await this.getModel(principal, source, "source");
    const derived = await this.deps.db.models.list({ source });
    return Math.max(base.version, ...derived.map((m) => m.version)) + 1;
  }

  private openStored = async (fileUid: string, ownerUid: string) => {
    const file = await this.deps.db.files.find(fileUid);
    if (!file) throw NotFoundError.entity("file", "uid", fileUid);
    const stream = await this.deps.objects.get(file.storageKey);
    return { stream, size: file.size, filename: file.extension === "null" ? ownerUid : `${ownerUid}.${file.extension}` };
  };

  private nextModelStatus(model: ModelRecord, status: ModelStatus): ModelStatus {
    if (status === "publish" && (model.status === "unavailable" || !model.fileUid)) {
      throw new UnprocessableError(`model ${model.uid} cannot be published before its file exists`);
    }
    return status;
  }
}

export async function paged<R extends { uid: string; createdAt: Date }>(
  store: EntityStore<R>,
  filter: Filter<R>,
  page?: PageRequest,
): Promise<Page<R>> {
  if (!page) return { items: await store.list(filter) };
  const items = await store.list(filter, { ...page, limit: page.limit + 1 });
  if (items.length <= page.limit) return { items };
  const kept = items.slice(0, page.limit);
  const last = kept[kept.length - 1]!;
  return { items: kept, next: { createdAt: last.createdAt, uid: last.uid } };
}

function oneOf<T extends string>(field: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw ValidationError.field(field, `must be one of ${allowed.join(", ")}`);
}

function pick(input: Described): Described {
  const out: Described = {};
  if (input.name !== undefined) out.name = input.name;
  if (input.description !== undefined) out.description = input.description;
  return out;
}
