import type { Clock } from "../clock.js";
import { ConflictError, NotFoundError, ValidationError } from "../errors.js";
import type { Database } from "../ports.js";
import { canAccess, type Principal } from "../principal.js";
import type {
  ConfigRecord,
  DatasetRecord,
  ModelAliasMoveRecord,
  ModelAliasRecord,
  ModelRecord,
  PipelineRecord,
  TaskRecord,
} from "../records.js";

/** The alias that names an application's selected model (MRMS select_yn, Prediction One's model switch). */
const SELECTED = "selected";
const ALIAS = /^[a-z][a-z0-9_-]{0,31}$/;
/** Tries of a move that keeps racing others (each race means another move went through). */
const MAX_ATTEMPTS = 20;

class MovedMeanwhile extends Error {}

export interface ModelLineage {
  model: ModelRecord;
  aliases: string[];
  /** The task that produced it (none for an uploaded model), with what it used. */
  producedBy: { task: TaskRecord; dataset: DatasetRecord | null; config: ConfigRecord | null; pipeline: PipelineRecord | null } | null;
  baseModel: ModelRecord | null;
  /** Tasks that started from this model (optimizations, evaluations). */
  usedBy: TaskRecord[];
}

/**
 * The model registry's names: aliases unique per application that can be moved (atomically,
 * each move recorded with who and when) and resolved, the selected model, bookmarks, and
 * lineage both ways.
 */
export class ModelAliases {
  constructor(private readonly deps: { db: Database; clock: Clock }) {}

  /** Points `alias` at the model, in the model's application; the move is recorded. */
  async setAlias(principal: Principal, modelUid: string, alias: string): Promise<ModelAliasRecord> {
    if (alias === SELECTED) throw ValidationError.field("alias", `"${SELECTED}" is set by selecting a model`);
    return this.point(principal, modelUid, alias);
  }

  select(principal: Principal, modelUid: string): Promise<ModelAliasRecord> {
    return this.point(principal, modelUid, SELECTED);
  }

  async removeAlias(principal: Principal, applicationUid: string, alias: string): Promise<void> {
    await this.application(principal, applicationUid);
    await this.deps.db.transaction(async (stores) => {
      const current = await stores.modelAliases.find(applicationUid, alias);
      if (!current) throw NotFoundError.entity("alias", "alias", alias);
      await stores.modelAliases.remove(applicationUid, alias);
      await stores.modelAliases.recordMove({
        applicationUid,
        alias,
        modelUid: null,
        previousModelUid: current.modelUid,
        byUid: principal.userUid,
        at: this.deps.clock.now(),
      });
    });
  }

  async resolve(principal: Principal, applicationUid: string, alias: string): Promise<ModelRecord> {
    await this.application(principal, applicationUid);
    const found = await this.deps.db.modelAliases.find(applicationUid, alias);
    const model = found && (await this.deps.db.models.find(found.modelUid));
    if (!model) throw NotFoundError.entity("alias", "alias", alias);
    return model;
  }

  async moves(principal: Principal, applicationUid: string, limit: number): Promise<ModelAliasMoveRecord[]> {
    await this.application(principal, applicationUid);
    return this.deps.db.modelAliases.moves(applicationUid, limit);
  }

  async bookmark(principal: Principal, modelUid: string, bookmarked: boolean): Promise<ModelRecord> {
    const model = await this.model(principal, modelUid);
    return model.bookmarked === bookmarked ? model : this.deps.db.models.update(model.uid, { bookmarked });
  }

  async lineage(principal: Principal, modelUid: string): Promise<ModelLineage> {
    const { db } = this.deps;
    const model = await this.model(principal, modelUid);
    const [aliases, producers, usedBy] = await Promise.all([
      db.modelAliases.listForModel(model.uid),
      db.tasks.list({ outputModelUid: model.uid }),
      db.tasks.list({ baseModelUid: model.uid }),
    ]);
    const task = producers[0];
    const [dataset, config, pipeline, baseModel] = await Promise.all([
      task ? db.datasets.find(task.datasetUid) : null,
      task ? db.configs.find(task.configUid) : null,
      task ? db.pipelines.find(task.pipelineUid) : null,
      task?.baseModelUid ? db.models.find(task.baseModelUid) : null,
    ]);
    return {
      model,
      aliases: aliases.map((a) => a.alias),
      producedBy: task ? { task, dataset, config, pipeline } : null,
      baseModel,
      usedBy,
    };
  }

  /** The tasks that used a dataset as their input, oldest first. */
  async datasetUsage(principal: Principal, datasetUid: string): Promise<TaskRecord[]> {
    const dataset = await this.deps.db.datasets.find(datasetUid);
    if (!dataset || !canAccess(principal, dataset.organizationUid)) throw NotFoundError.entity("dataset", "datasetUid", datasetUid);
    return this.deps.db.tasks.list({ datasetUid });
  }

  private async point(principal: Principal, modelUid: string, alias: string): Promise<ModelAliasRecord> {
    if (!ALIAS.test(alias))
      throw ValidationError.field("alias", "must be 1-32 lowercase letters, digits, '_' or '-', starting with a letter");
    const model = await this.model(principal, modelUid);
    const record = {
      applicationUid: model.applicationUid,
      alias,
      modelUid: model.uid,
      updatedAt: this.deps.clock.now(),
      updatedByUid: principal.userUid,
    };
    // The alias and the record of its move change together or not at all; a move that raced
    // another (in any replica) is tried again on what that one left, so the history is a chain.
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.deps.db.transaction(async (stores) => {
          const previous = await stores.modelAliases.find(model.applicationUid, alias);
          if (previous?.modelUid === model.uid) return;
          if (!(await stores.modelAliases.move(record, previous?.modelUid ?? null))) throw new MovedMeanwhile();
          await stores.modelAliases.recordMove({
            applicationUid: model.applicationUid,
            alias,
            modelUid: model.uid,
            previousModelUid: previous?.modelUid ?? null,
            byUid: principal.userUid,
            at: record.updatedAt,
          });
        });
        break;
      } catch (error) {
        if (!(error instanceof MovedMeanwhile || error instanceof ConflictError) || attempt === MAX_ATTEMPTS) throw error;
      }
    }
    return record;
  }

  private async model(principal: Principal, uid: string): Promise<ModelRecord> {
    const model = await this.deps.db.models.find(uid);
    if (!model || !canAccess(principal, model.organizationUid)) throw NotFoundError.entity("model", "modelUid", uid);
    return model;
  }

  private async application(principal: Principal, uid: string): Promise<void> {
    const application = await this.deps.db.applications.find(uid);
    const project = application && (await this.deps.db.projects.find(application.projectUid));
    if (!project || !canAccess(principal, project.organizationUid)) throw NotFoundError.entity("application", "applicationUid", uid);
  }
}
