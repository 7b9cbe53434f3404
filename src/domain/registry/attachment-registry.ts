import { ValidationError } from "../errors.js";
import type { PageRequest, StagedObject } from "../ports.js";
import type { Principal } from "../principal.js";
import type { InferenceTemplateRecord, RawDataRecord } from "../records.js";
import { RegistryRecords, paged, type Described, type Page, type WithFile } from "./registry-records.js";
import { checkExtension, objectKey } from "./storage-keys.js";

/** Files kept beside a model or an application: inference templates (one per model) and raw data. */
export class AttachmentRegistry extends RegistryRecords {
  /**
   * The model's inference template, created with its file or, when the model has one already,
   * updated: its name and description, and its file only when a new one is sent (the lab's
   * dashboard sends the current template's fields and no file when none was picked).
   */
  async saveInferenceTemplate(
    principal: Principal,
    input: Described & { modelUid: string; type?: string; extension?: string; file?: StagedObject },
  ): Promise<WithFile<InferenceTemplateRecord>> {
    const model = await this.owned(this.deps.db.models, "model", "modelUid", principal, input.modelUid);
    const [existing] = await this.deps.db.inferenceTemplates.list({ modelUid: model.uid });
    if (existing) {
      const saved = await this.updateWithFile(
        this.deps.db.inferenceTemplates,
        "inference template",
        principal,
        existing.uid,
        input,
        (r) => r.fileUid,
      );
      return input.type === undefined
        ? saved
        : { ...saved, record: await this.deps.db.inferenceTemplates.update(existing.uid, { type: input.type }) };
    }
    if (!input.file) throw ValidationError.field("file", "is required for a model's first inference template");
    const extension = checkExtension("extension", input.extension ?? "zip");
    const application = (await this.deps.db.applications.find(model.applicationUid))!;
    const uid = this.deps.ids.uid();
    const key = objectKey([model.organizationUid, application.projectUid, application.uid, "inference"], uid, extension);
    return this.storeThenRecord(key, extension, input.file, (stores, file) =>
      stores.inferenceTemplates.create({
        uid,
        name: input.name ?? "",
        description: input.description ?? "",
        type: input.type ?? "template",
        organizationUid: model.organizationUid,
        modelUid: model.uid,
        fileUid: file.uid,
        extension,
      }),
    );
  }

  async listInferenceTemplates(principal: Principal, modelUid: string): Promise<Array<WithFile<InferenceTemplateRecord>>> {
    await this.owned(this.deps.db.models, "model", "modelUid", principal, modelUid);
    return (await this.withFiles({ items: await this.deps.db.inferenceTemplates.list({ modelUid }) }, (r) => r.fileUid)).items;
  }

  async createRawData(
    principal: Principal,
    input: { name: string; description: string; applicationUid: string; extension?: string; file: StagedObject },
  ): Promise<WithFile<RawDataRecord>> {
    const application = await this.owned(this.deps.db.applications, "application", "applicationUid", principal, input.applicationUid);
    const extension = checkExtension("extension", input.extension ?? "zip");
    const uid = this.deps.ids.uid();
    const key = objectKey([application.organizationUid, application.projectUid, application.uid, "raw_data"], uid, extension);
    return this.storeThenRecord(key, extension, input.file, (stores, file) =>
      stores.rawData.create({
        uid,
        name: input.name,
        description: input.description,
        organizationUid: application.organizationUid,
        applicationUid: application.uid,
        fileUid: file.uid,
        extension,
      }),
    );
  }

  updateRawData(principal: Principal, uid: string, input: Described & { file?: StagedObject }): Promise<WithFile<RawDataRecord>> {
    return this.updateWithFile(this.deps.db.rawData, "raw data", principal, uid, input, (r) => r.fileUid);
  }

  deleteRawData(principal: Principal, uid: string): Promise<void> {
    return this.deleteWithFile(
      this.deps.db.rawData,
      "raw data",
      principal,
      uid,
      (r) => r.fileUid,
      (s) => s.rawData,
    );
  }

  async listRawData(principal: Principal, applicationUid: string, page?: PageRequest): Promise<Page<WithFile<RawDataRecord>>> {
    await this.owned(this.deps.db.applications, "application", "applicationUid", principal, applicationUid);
    return this.withFiles(await paged(this.deps.db.rawData, { applicationUid }, page), (r) => r.fileUid);
  }
}
