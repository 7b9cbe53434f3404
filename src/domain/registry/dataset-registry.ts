import type { Filter, PageRequest, StagedObject } from "../ports.js";
import { NotFoundError } from "../errors.js";
import type { Principal } from "../principal.js";
import type { DatasetRecord, DatasetScope } from "../records.js";
import { RegistryRecords, oneOf, paged, type Described, type Page, type WithFile } from "./registry-records.js";
import { checkExtension, objectKey } from "./storage-keys.js";

export const DATASET_TYPES: Record<DatasetScope, readonly string[]> = {
  project: ["original", "training"],
  application: ["original", "optimization"],
};

/** Datasets of a project (original, training) or of an application (original, optimization), with their files. */
export class DatasetRegistry extends RegistryRecords {
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
}
