import type { Readable } from "node:stream";
import { ConflictError, NotFoundError } from "../errors.js";
import type { EntityStore, PageRequest, StagedObject } from "../ports.js";
import { canAccess, type Principal } from "../principal.js";
import {
  IMAGE_SEQUENCES,
  PIPELINE_TYPES,
  type ApplicationRecord,
  type ConfigRecord,
  type ImageRecord,
  type ImageSequence,
  type OrganizationRecord,
  type PipelineRecord,
  type ProjectRecord,
} from "../records.js";
import { RegistryRecords, oneOf, paged, pick, type Described, type Page, type WithFile } from "./registry-records.js";
import { ownerUidOfPath, checkExtension, objectKey } from "./storage-keys.js";

/**
 * The registry of what tasks use: organizations, projects, applications, pipelines, datasets,
 * configs and build files, and downloads of their files. Every read and write checks that the
 * caller's organization owns each uid it names; a uid of another organization is not found.
 */
export class RegistryService extends RegistryRecords {
  // ---- organizations and projects ----

  getOrganization(principal: Principal, uid: string, subject = "uid"): Promise<OrganizationRecord> {
    return this.ownedOrganization(principal, uid, subject);
  }

  async createProject(
    principal: Principal,
    input: { name: string; description: string; organizationUid?: string },
  ): Promise<ProjectRecord> {
    const organizationUid = input.organizationUid ?? principal.organizationUid;
    await this.checkOrganization(principal, organizationUid, "organizationUid");
    return this.deps.db.projects.create({ uid: this.deps.ids.uid(), name: input.name, description: input.description, organizationUid });
  }

  updateProject(principal: Principal, uid: string, input: Described): Promise<ProjectRecord> {
    return this.updateDescribed(this.deps.db.projects, "project", principal, uid, input);
  }

  async deleteProject(principal: Principal, uid: string): Promise<void> {
    await this.owned(this.deps.db.projects, "project", "uid", principal, uid);
    await this.deps.db.projects.delete(uid);
  }

  async listProjects(principal: Principal, organizationUid: string, page?: PageRequest): Promise<Page<ProjectRecord>> {
    await this.checkOrganization(principal, organizationUid, "organizationUid");
    return paged(this.deps.db.projects, { organizationUid }, page);
  }

  // ---- applications ----

  /** An application, linked at once to the given agents of its organization. */
  async createApplication(
    principal: Principal,
    input: { name: string; description: string; projectUid: string; agentUids?: string[] },
  ): Promise<ApplicationRecord> {
    const project = await this.owned(this.deps.db.projects, "project", "projectUid", principal, input.projectUid);
    const agentUids = [...new Set(input.agentUids ?? [])];
    for (const [index, agentUid] of agentUids.entries()) {
      const agent = await this.owned(this.deps.db.agents, "agent", `agentUids.${index}`, principal, agentUid);
      if (agent.organizationUid !== project.organizationUid)
        throw new ConflictError(`agent ${agentUid} belongs to another organization than project ${project.uid}`);
    }
    return this.deps.db.transaction(async (stores) => {
      const application = await stores.applications.create({
        uid: this.deps.ids.uid(),
        name: input.name,
        description: input.description,
        organizationUid: project.organizationUid,
        projectUid: project.uid,
      });
      for (const agentUid of agentUids)
        await stores.applicationAgentLinks.create({
          uid: this.deps.ids.uid(),
          organizationUid: project.organizationUid,
          applicationUid: application.uid,
          agentUid,
        });
      return application;
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
        buildUid: null,
        ownImage: false,
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

  // ---- files ----

  /**
   * Opens the file of a dataset, pipeline, build file, model, inference template or raw data for
   * download, by its owner's uid (or the file uid shown as `f_file_uid.uid`). A task's credential
   * reaches only that task's inputs.
   */
  async openFile(principal: Principal, uid: string): Promise<{ stream: Readable; size: number; filename: string }> {
    const owner = await this.readableOwner(principal, uid);
    return this.openStored(owner.fileUid, owner.uid);
  }

  /** A presigned URL (S3) that downloads the file for `expiresInSeconds`; undefined where the store cannot make one. */
  async presignedDownload(principal: Principal, uid: string, expiresInSeconds: number): Promise<string | undefined> {
    const { objects } = this.deps;
    if (!objects.presignDownload) return undefined;
    const owner = await this.readableOwner(principal, uid);
    const { file, filename } = await this.storedFile(owner.fileUid, owner.uid);
    return objects.presignDownload(file.storageKey, filename, expiresInSeconds);
  }

  private async readableOwner(principal: Principal, uid: string): Promise<{ uid: string; fileUid: string }> {
    for (const store of this.fileOwners()) {
      const owner = (await store.find(uid)) ?? (await store.list({ fileUid: uid }))[0];
      if (owner && this.mayRead(principal, owner) && owner.fileUid) return { uid: owner.uid, fileUid: owner.fileUid };
      if (owner) break;
    }
    throw NotFoundError.entity("file", "uid", uid);
  }

  /**
   * Opens a file by the original's `file_path` (`<org>/<project>/.../<owner uid>.<ext>`, what the
   * lab's dashboard and SDK send): the owner named by its last segment must be the caller's, and
   * the whole path must be exactly where that owner's file is stored. The path is never used to
   * reach storage; anything else is reported as no such file.
   */
  async openFileByPath(principal: Principal, filePath: string): Promise<{ stream: Readable; size: number; filename: string }> {
    const missing = new NotFoundError(`no file at ${filePath.slice(0, 300)}`, {
      problems: [{ field: "filePath", message: "names no file you may read" }],
    });
    const ownerUid = ownerUidOfPath(filePath);
    if (!ownerUid) throw missing;
    for (const store of this.fileOwners()) {
      const owner = await store.find(ownerUid);
      if (!owner) continue;
      if (!this.mayRead(principal, owner) || !owner.fileUid) throw missing;
      const file = await this.deps.db.files.find(owner.fileUid);
      if (file?.storageKey !== filePath) throw missing;
      return this.openStored(file.uid, owner.uid);
    }
    throw missing;
  }

  private mayRead(principal: Principal, owner: { uid: string; organizationUid: string }): boolean {
    return canAccess(principal, owner.organizationUid) && (!principal.task || principal.task.inputUids.includes(owner.uid));
  }

  /** Every kind of record that owns a file; uids are unique across them. */
  private fileOwners(): Array<EntityStore<{ uid: string; createdAt: Date; organizationUid: string; fileUid: string | null }>> {
    const { db } = this.deps;
    return [db.datasets, db.pipelines, db.images, db.models, db.inferenceTemplates, db.rawData];
  }
}
