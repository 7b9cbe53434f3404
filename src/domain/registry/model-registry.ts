import type { Readable } from "node:stream";
import { ConflictError, ForbiddenError, NotFoundError, UnprocessableError } from "../errors.js";
import type { Filter, PageRequest, StagedObject } from "../ports.js";
import type { Principal } from "../principal.js";
import { MODEL_STATUSES, TASK_STATUSES, type ModelRecord, type ModelStatus } from "../records.js";
import { secretsEqual } from "../../lib/text.js";
import { RegistryRecords, oneOf, paged, pick, type Described, type Page, type WithFile } from "./registry-records.js";
import { checkExtension, objectKey } from "./storage-keys.js";

/** Models: uploads, versions derived from a source model, publication, accuracy and token-checked downloads. */
export class ModelRegistry extends RegistryRecords {
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
        bookmarked: false,
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

  /**
   * Records a model's accuracy (the lab's SDK does it from a training step). A task's credential
   * may set only its own output's; an output whose task failed takes none.
   */
  async setModelAccuracy(principal: Principal, uid: string, accuracy: number): Promise<ModelRecord> {
    await this.getModel(principal, uid);
    if (principal.task && principal.task.outputUid !== uid)
      throw new ForbiddenError(`a task may record the accuracy of its own output model only`, {
        problems: [{ field: "uid", message: "is not this task's output" }],
      });
    const [failed] = await this.deps.db.tasks.list({ outputModelUid: uid, status: { in: ["fail", "init error"] } });
    if (failed) throw new ConflictError(`model ${uid} is the output of task ${failed.uid}, which failed; it takes no accuracy`);
    return this.deps.db.models.update(uid, { accuracy });
  }

  /** The model, its file and its inference template with that template's file. */
  async deleteModel(principal: Principal, uid: string): Promise<void> {
    await this.getModel(principal, uid);
    await this.refuseWhileInUse(uid, "model");
    for (const template of await this.deps.db.inferenceTemplates.list({ modelUid: uid })) {
      const file = await this.deps.db.files.find(template.fileUid);
      await this.deps.db.transaction(async (stores) => {
        await stores.inferenceTemplates.delete(template.uid);
        if (file) await stores.files.delete(file.uid);
      });
      if (file) await this.deps.objects.remove(file.storageKey);
    }
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

  async openModelFile(
    principal: Principal,
    uid: string,
    accessToken: string,
  ): Promise<{ stream: Readable; size: number; filename: string }> {
    const model = await this.getModel(principal, uid);
    // A task's credential reads only its own base model (with the model's token, like anyone).
    if (principal.task && !principal.task.inputUids.includes(uid)) throw NotFoundError.entity("model", "uid", uid);
    if (!secretsEqual(accessToken, model.accessToken)) {
      throw new ForbiddenError("the access token does not match this model", {
        problems: [{ field: "accessToken", message: "does not match" }],
      });
    }
    if (!(await this.usable([model])).length) throw new ConflictError(`model ${uid} has no file yet`);
    return this.openStored(model.fileUid!, model.uid);
  }

  /**
   * The models whose file can be used (downloaded, taken as a base model): every model with a
   * file except a task's output before that task succeeded. A model uploaded as `unavailable`
   * (what the original's dashboard sends) is usable; only publishing needs more.
   */
  async usable(models: ModelRecord[]): Promise<ModelRecord[]> {
    const withFile = models.filter((m) => m.fileUid);
    if (!withFile.length) return [];
    const producing = await this.deps.db.tasks.list({
      outputModelUid: { in: withFile.map((m) => m.uid) },
      status: { in: TASK_STATUSES.filter((s) => s !== "success") },
    });
    const pending = new Set(producing.map((t) => t.outputModelUid));
    return withFile.filter((m) => !pending.has(m.uid));
  }

  private async nextVersion(principal: Principal, source: string): Promise<number> {
    const base = await this.getModel(principal, source, "source");
    const derived = await this.deps.db.models.list({ source });
    return Math.max(base.version, ...derived.map((m) => m.version)) + 1;
  }

  private nextModelStatus(model: ModelRecord, status: ModelStatus): ModelStatus {
    if (status === "publish" && (model.status === "unavailable" || !model.fileUid)) {
      throw new UnprocessableError(`model ${model.uid} cannot be published before its file exists`);
    }
    return status;
  }
}
