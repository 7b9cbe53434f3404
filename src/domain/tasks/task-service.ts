import { createHash, timingSafeEqual } from "node:crypto";
import { EventEmitter } from "node:events";
import type { Readable } from "node:stream";
import type { Clock } from "../clock.js";
import { AuthenticationError, ConflictError, NotFoundError, UnprocessableError, ValidationError } from "../errors.js";
import type { Database, IdGenerator, Logger, ObjectStore, PageRequest, StagedObject, Stores } from "../ports.js";
import { canAccess, type Principal } from "../principal.js";
import {
  ACTIVE_TASK_STATUSES, type DatasetRecord, type ImageRecord, type ModelRecord, type PipelineRecord, type TaskKind, type TaskRecord,
  type TaskStatus, type TaskStatusEventRecord, type TaskStepRecord,
} from "../records.js";
import { paged, type Page, type RegistryService } from "../registry/registry-service.js";
import { checkExtension, objectKey } from "../registry/storage-keys.js";
import type { ProgressSink, ReportOutcome, ShutdownStrategy, StepResources, TaskEngine, TaskPlan, TaskProgress } from "./task-engine.js";
import { TASK_KINDS } from "./task-kinds.js";
import { deriveStatus } from "./task-status.js";

export type Sequence = "download" | "running" | "upload";

export interface SubmitInput {
  name: string;
  description: string;
  pipelineUid: string;
  datasetUid: string;
  /** Where the input dataset lives: `project` or `application`. */
  datasetScope: "project" | "application";
  configUid: string;
  imageUids: Record<Sequence, string>;
  /** Optimization and evaluation: the model they start from. */
  baseModelUid?: string;
  /** Preprocessing: the dataset it produces. */
  outputDataset?: { name: string; description: string; type?: string; extension: string };
  /** Training and optimization: the model they produce. */
  outputModel?: { name: string; description: string; type: string; inputFormat: string; outputFormat: string; extension: string };
  resources?: Partial<Record<Sequence, Partial<StepResources>>>;
}

export interface SubmittedTask {
  task: TaskRecord;
  outputDatasetUid: string | null;
  outputModelUid: string | null;
  /** True when an Idempotency-Key matched an earlier submission. */
  replayed: boolean;
}

export interface TaskView {
  task: TaskRecord;
  steps: TaskStepRecord[];
  history: TaskStatusEventRecord[];
}

export type StepInput = "dataset" | "base_model" | "config" | "program";

const TERMINAL: readonly TaskStatus[] = ["success", "fail", "init error"];
const SEQUENCES: readonly Sequence[] = ["download", "running", "upload"];

/**
 * Tasks: submission (every referenced uid checked and owned), the task record with its
 * lineage, status from the engine's reports, control (stop, terminate, retry, resubmit,
 * delete), and the scoped access its steps get with their credential.
 */
export class TaskService implements ProgressSink {
  /** Emits the task uid whenever a task's status or steps change in this process (log followers wait on it). */
  readonly changes = new EventEmitter().setMaxListeners(0);
  private readonly reporting = new Map<string, Promise<unknown>>();

  constructor(
    private readonly deps: {
      db: Database;
      registry: RegistryService;
      objects: ObjectStore;
      engine: TaskEngine;
      ids: IdGenerator;
      clock: Clock;
      logger: Logger;
      defaultResources: StepResources;
      stepTokenTtlSeconds: number;
    },
  ) {}

  // ---- submission ----

  async submit(principal: Principal, kind: TaskKind, input: SubmitInput, idempotency?: { key: string; body: unknown }): Promise<SubmittedTask> {
    const requestHash = idempotency ? createHash("sha256").update(stableJson({ kind, body: idempotency.body })).digest("hex") : "";
    if (idempotency) {
      const replay = await this.replay(principal, idempotency.key, requestHash);
      if (replay) return replay;
    }
    const refs = await this.checkReferences(principal, kind, input);
    const resources = this.resolveResources(input.resources);
    const taskUid = this.deps.ids.uid();
    const definition = TASK_KINDS[kind];

    let created: { task: TaskRecord; outputDatasetUid: string | null; outputModelUid: string | null };
    try {
      created = await this.deps.db.transaction(async (stores) => {
        const outputDatasetUid = definition.output === "dataset" ? await this.createOutputDataset(stores, refs, input) : null;
        const outputModelUid = definition.output === "model" ? await this.createOutputModel(stores, refs, input) : null;
        const task = await stores.tasks.create({
          uid: taskUid, name: input.name, description: input.description, kind, status: "init", executeStep: "prepare_file",
          statusMessage: "", updatedAt: this.deps.clock.now(), finishedAt: null, organizationUid: refs.pipeline.organizationUid,
          createdByUid: principal.userUid, pipelineUid: refs.pipeline.uid, downloadImageUid: refs.images.download.uid,
          runningImageUid: refs.images.running.uid, uploadImageUid: refs.images.upload.uid, configUid: input.configUid,
          datasetUid: refs.dataset.uid, baseModelUid: refs.baseModel?.uid ?? null, outputDatasetUid, outputModelUid,
          resources: JSON.stringify(resources), engine: this.deps.engine.name, workflowName: null, workflowUid: null,
          resubmittedFrom: null, stepTokenHash: null, stepTokenExpires: null, metrics: "{}",
        });
        for (const step of definition.steps) await stores.taskSteps.save(emptyStep(task.uid, step.name, step.sequence));
        await stores.taskEvents.append({ taskUid: task.uid, status: "init", executeStep: "prepare_file", message: "task created", at: this.deps.clock.now() });
        if (idempotency) await stores.idempotency.create({ userUid: principal.userUid, key: idempotency.key, requestHash, taskUid: task.uid });
        return { task, outputDatasetUid, outputModelUid };
      });
    } catch (error) {
      // A concurrent submission with the same key won the race (and rolled this one back): answer with its task.
      const replay = idempotency && error instanceof ConflictError ? await this.replay(principal, idempotency.key, requestHash) : undefined;
      if (replay) return replay;
      throw error;
    }

    const task = await this.dispatch(created.task);
    return { task, outputDatasetUid: created.outputDatasetUid, outputModelUid: created.outputModelUid, replayed: false };
  }

  /**
   * Hands a created task to the engine with a fresh step credential. Safe to repeat: engines
   * treat a second submission of the same task as a no-op, which is how a crash between the
   * database write and the submission heals (see `resumeUndispatched`).
   */
  async dispatch(task: TaskRecord): Promise<TaskRecord> {
    await this.setStatus(task, "init", "generate_file", "rendering the run");
    const plan = await this.plan(task);
    try {
      const run = await this.deps.engine.submit(plan);
      const submitted = await this.deps.db.tasks.update(task.uid, { workflowName: run.runName, workflowUid: run.runUid });
      const current = (await this.deps.db.tasks.find(task.uid))!;
      // The engine may already have reported progress; only move forward from init.
      return current.status === "init" ? this.setStatus(submitted, "pending", "execute_pipeline", "submitted") : current;
    } catch (error) {
      this.deps.logger.error({ err: error, task: task.uid }, "action=dispatch outcome=failed");
      await this.setStatus(task, "init error", "execute_pipeline", `could not start the run: ${(error as Error).message}`, { reopen: true });
      throw error;
    }
  }

  /** Start-up: tasks created but never handed to the engine (the service died in between). */
  async resumeUndispatched(): Promise<number> {
    const stranded = await this.deps.db.tasks.list({ status: "init" });
    for (const task of stranded) await this.dispatch(task).catch(() => undefined);
    return stranded.length;
  }

  // ---- reading and housekeeping ----

  async get(principal: Principal, uid: string, field = "uid"): Promise<TaskView> {
    const task = await this.owned(principal, uid, field);
    const [steps, history] = await Promise.all([this.deps.db.taskSteps.listFor(uid), this.deps.db.taskEvents.listFor(uid)]);
    return { task, steps: orderSteps(task, steps), history };
  }

  async list(principal: Principal, pipelineUid: string, page?: PageRequest): Promise<Page<TaskRecord>> {
    await this.deps.registry.getPipeline(principal, pipelineUid, "f_pipeline_uid");
    return paged(this.deps.db.tasks, { pipelineUid }, page);
  }

  async rename(principal: Principal, uid: string, input: { name?: string; description?: string }): Promise<TaskRecord> {
    await this.owned(principal, uid);
    return this.deps.db.tasks.update(uid, { ...input, updatedAt: this.deps.clock.now() });
  }

  /** Deletes the task, its run (workflow, Secret, pods) and an output that was never produced. */
  async remove(principal: Principal, uid: string): Promise<void> {
    const task = await this.owned(principal, uid);
    await this.deps.engine.remove(task);
    await this.deps.db.transaction(async (stores) => {
      await stores.tasks.delete(uid);
      if (task.outputDatasetUid) {
        const output = await stores.datasets.find(task.outputDatasetUid);
        if (output && output.status === "unavailable") await this.dropUnproduced(stores, output);
      }
      if (task.outputModelUid) {
        const output = await stores.models.find(task.outputModelUid);
        if (output && output.status === "unavailable") await this.dropUnproduced(stores, output);
      }
    });
  }

  // ---- control ----

  async shutdown(principal: Principal, uid: string, strategy: ShutdownStrategy, field = "uid"): Promise<TaskRecord> {
    const task = await this.owned(principal, uid, field);
    if (!ACTIVE_TASK_STATUSES.includes(task.status)) throw new ConflictError(`task ${uid} is ${task.status}; only a task that has not finished can be stopped`);
    await this.deps.engine.shutdown(task, strategy);
    await this.deps.db.taskEvents.append({ taskUid: uid, status: task.status, executeStep: task.executeStep, message: `${strategy.toLowerCase()} requested`, at: this.deps.clock.now() });
    return task;
  }

  /** Re-runs the failed steps of the same run, as Argo's retry does. */
  async retry(principal: Principal, uid: string): Promise<TaskRecord> {
    const task = await this.owned(principal, uid);
    if (task.status !== "fail" && task.status !== "init error") throw new ConflictError(`task ${uid} is ${task.status}; only a failed task can be retried`);
    if (!task.workflowName) return this.dispatch(await this.setStatus(task, "init", "prepare_file", "retrying submission", { reopen: true }));
    const steps = await this.deps.db.taskSteps.listFor(uid);
    for (const step of steps) {
      if (step.phase === "Failed" || step.phase === "Error") await this.deps.db.taskSteps.save(emptyStep(uid, step.name, step.sequence));
    }
    const reset = await this.deps.db.tasks.update(uid, { finishedAt: null });
    const plan = await this.plan(reset);
    await this.deps.engine.retry(plan);
    return this.setStatus(reset, "pending", "execute_pipeline", "retrying failed steps", { reopen: true });
  }

  /** A new task with the same inputs (and a new output), like Argo's resubmit. */
  async resubmit(principal: Principal, uid: string): Promise<SubmittedTask> {
    const old = await this.owned(principal, uid);
    if (ACTIVE_TASK_STATUSES.includes(old.status)) throw new ConflictError(`task ${uid} is still ${old.status}; stop it or wait before resubmitting`);
    const dataset = await this.deps.db.datasets.find(old.datasetUid);
    if (!dataset) throw new UnprocessableError(`the input dataset ${old.datasetUid} no longer exists`);
    const [outputDataset, outputModel] = await Promise.all([
      old.outputDatasetUid ? this.deps.db.datasets.find(old.outputDatasetUid) : null,
      old.outputModelUid ? this.deps.db.models.find(old.outputModelUid) : null,
    ]);
    const input: SubmitInput = {
      name: old.name, description: old.description, pipelineUid: old.pipelineUid, datasetUid: old.datasetUid, datasetScope: dataset.scope,
      configUid: old.configUid, imageUids: { download: old.downloadImageUid, running: old.runningImageUid, upload: old.uploadImageUid },
      ...(old.baseModelUid ? { baseModelUid: old.baseModelUid } : {}),
      ...(old.outputDatasetUid ? { outputDataset: { name: outputDataset?.name ?? old.name, description: outputDataset?.description ?? "", extension: outputDataset?.extension ?? "zip" } } : {}),
      ...(old.outputModelUid ? {
        outputModel: {
          name: outputModel?.name ?? old.name, description: outputModel?.description ?? "", type: outputModel?.type ?? "default",
          inputFormat: outputModel?.inputFormat ?? "", outputFormat: outputModel?.outputFormat ?? "", extension: outputModel?.extension ?? "zip",
        },
      } : {}),
      resources: JSON.parse(old.resources) as SubmitInput["resources"],
    };
    const submitted = await this.submit(principal, old.kind, input);
    const task = await this.deps.db.tasks.update(submitted.task.uid, { resubmittedFrom: old.uid });
    return { ...submitted, task };
  }

  // ---- progress from the engines ----

  /**
   * Applies an engine's progress report. Reports of one task are applied one at a time, in the
   * order they arrive: an older report finishing late must not overwrite a newer step state.
   */
  report(progress: TaskProgress): Promise<ReportOutcome> {
    const previous = this.reporting.get(progress.taskUid) ?? Promise.resolve();
    const current = previous.then(() => this.apply(progress));
    const settled = current.catch(() => undefined);
    this.reporting.set(progress.taskUid, settled);
    void settled.then(() => {
      if (this.reporting.get(progress.taskUid) === settled) this.reporting.delete(progress.taskUid);
    });
    return current;
  }

  /** Resolves when every report received so far has been applied (for an orderly shutdown). */
  async drain(): Promise<void> {
    await Promise.all([...this.reporting.values()]);
  }

  private async apply(progress: TaskProgress): Promise<ReportOutcome> {
    const task = await this.deps.db.tasks.find(progress.taskUid);
    if (!task) return { ended: false }; // deleted while its run was still reporting
    for (const step of progress.steps) {
      const sequence = TASK_KINDS[task.kind].steps.find((s) => s.name === step.name)?.sequence ?? "running";
      await this.deps.db.taskSteps.save({
        taskUid: task.uid, name: step.name, sequence, phase: step.phase, startedAt: step.startedAt, finishedAt: step.finishedAt,
        exitCode: step.exitCode, message: step.message, resources: JSON.stringify(step.resources), nodeId: step.nodeId ?? null, podName: step.podName ?? null,
      });
    }
    this.changes.emit("change", task.uid);
    if (progress.runName && !task.workflowName) await this.deps.db.tasks.update(task.uid, { workflowName: progress.runName, workflowUid: progress.runUid ?? null });
    // A report without steps (the run vanished) is judged on the steps already recorded.
    const steps = progress.steps.length ? progress.steps : (await this.deps.db.taskSteps.listFor(task.uid)).map((s) => ({ ...s, resources: {} }));
    let derived = deriveStatus(progress.phase, progress.message, steps);
    if (derived.status === "success") derived = await this.publishOutput(task) ?? derived;
    if (derived.status === task.status && derived.executeStep === task.executeStep) return { ended: false };
    const updated = await this.setStatus(task, derived.status, derived.executeStep, derived.message);
    const ended = TERMINAL.includes(updated.status) && !TERMINAL.includes(task.status);
    if (ended && progress.finishedAt) await this.deps.db.tasks.update(task.uid, { finishedAt: progress.finishedAt });
    return { ended };
  }

  /** Active tasks of this engine, for reconciliation at start-up. */
  activeTasks(): Promise<TaskRecord[]> {
    return this.deps.db.tasks.list({ status: { in: ["pending", "running"] }, engine: this.deps.engine.name });
  }

  // ---- what the steps may do with their credential ----

  /** The step credential: only for that task, only while it has not finished. */
  async authorizeStep(taskUid: string, token: string): Promise<TaskRecord> {
    const task = await this.deps.db.tasks.find(taskUid);
    const given = createHash("sha256").update(token).digest();
    const expected = task?.stepTokenHash ? Buffer.from(task.stepTokenHash, "hex") : Buffer.alloc(32);
    const valid = timingSafeEqual(given, expected) && task?.stepTokenHash;
    if (!task || !valid || !task.stepTokenExpires || task.stepTokenExpires <= this.deps.clock.now() || TERMINAL.includes(task.status)) {
      throw new AuthenticationError("invalid or expired task credential");
    }
    return task;
  }

  async openStepInput(task: TaskRecord, input: StepInput): Promise<{ stream: Readable; size: number; filename: string } | { json: unknown }> {
    switch (input) {
      case "config": {
        const config = await this.deps.db.configs.find(task.configUid);
        if (!config) throw new NotFoundError(`config ${task.configUid} no longer exists`);
        return { json: JSON.parse(config.data) };
      }
      case "dataset":
        return this.openOwnedFile(task.datasetUid, await this.deps.db.datasets.find(task.datasetUid), "dataset");
      case "base_model":
        if (!task.baseModelUid) throw new NotFoundError(`task ${task.uid} has no base model`);
        return this.openOwnedFile(task.baseModelUid, await this.deps.db.models.find(task.baseModelUid), "model");
      case "program":
        return this.openOwnedFile(task.pipelineUid, await this.deps.db.pipelines.find(task.pipelineUid), "pipeline");
    }
  }

  /**
   * Stores the task's output file; it becomes available when the task succeeds. An output that
   * arrives after its task ended (a late upload of a failed run) is refused and never linked.
   */
  async storeStepOutput(task: TaskRecord, staged: StagedObject): Promise<{ size: number }> {
    await this.assertStillRunning(task.uid);
    const target = await this.outputTarget(task);
    const existing = target.fileUid ? await this.deps.db.files.find(target.fileUid) : null;
    const key = existing?.storageKey ?? target.key;
    await staged.commit(key);
    try {
      await this.deps.db.transaction(async (stores) => {
        await this.assertStillRunning(task.uid, stores);
        if (existing) {
          await stores.files.update(existing.uid, { size: staged.size });
          return;
        }
        const file = await stores.files.create({ uid: this.deps.ids.uid(), storageKey: key, extension: target.extension, size: staged.size });
        if (target.kind === "dataset") await stores.datasets.update(target.uid, { fileUid: file.uid });
        else await stores.models.update(target.uid, { fileUid: file.uid });
      });
    } catch (error) {
      if (!existing) await this.deps.objects.remove(key);
      throw error;
    }
    return { size: staged.size };
  }

  private async assertStillRunning(taskUid: string, stores: Stores = this.deps.db): Promise<void> {
    const current = await stores.tasks.find(taskUid);
    if (!current || TERMINAL.includes(current.status)) throw new ConflictError(`task ${taskUid} has ended; its steps can no longer store an output`);
  }

  async recordMetrics(task: TaskRecord, metrics: Record<string, unknown>): Promise<void> {
    const merged = { ...(JSON.parse(task.metrics) as Record<string, unknown>), ...metrics };
    await this.deps.db.tasks.update(task.uid, { metrics: JSON.stringify(merged) });
    if (typeof metrics.accuracy === "number" && task.outputModelUid) await this.deps.db.models.update(task.outputModelUid, { accuracy: metrics.accuracy });
  }

  // ---- helpers ----

  private async owned(principal: Principal, uid: string, field = "uid"): Promise<TaskRecord> {
    const task = await this.deps.db.tasks.find(uid);
    if (!task || !canAccess(principal, task.organizationUid)) throw NotFoundError.entity("task", field, uid);
    return task;
  }

  private async replay(principal: Principal, key: string, requestHash: string): Promise<SubmittedTask | undefined> {
    const record = await this.deps.db.idempotency.find(principal.userUid, key);
    if (!record) return undefined;
    if (record.requestHash !== requestHash) {
      throw new ConflictError("this Idempotency-Key was used with a different request", { problems: [{ field: "Idempotency-Key", message: "reused with a different body" }] });
    }
    const task = (await this.deps.db.tasks.find(record.taskUid))!;
    return { task, outputDatasetUid: task.outputDatasetUid, outputModelUid: task.outputModelUid, replayed: true };
  }

  private async checkReferences(principal: Principal, kind: TaskKind, input: SubmitInput) {
    const definition = TASK_KINDS[kind];
    const { registry } = this.deps;
    const { record: pipeline } = await registry.getPipeline(principal, input.pipelineUid, "pipeline_uid");
    if (!definition.pipelineTypes.includes(pipeline.type)) {
      throw new UnprocessableError(`pipeline ${pipeline.uid} is a ${pipeline.type} pipeline; this route runs ${definition.pipelineTypes.join(" or ")} pipelines`, {
        problems: [{ field: "pipeline_uid", message: `must be a ${definition.pipelineTypes.join(" or ")} pipeline` }],
      });
    }
    const application = (await this.deps.db.applications.find(pipeline.applicationUid))!;
    const images = {} as Record<Sequence, ImageRecord>;
    for (const sequence of SEQUENCES) {
      const field = `image_uid.${sequence}_uid`;
      const image = await registry.owned(this.deps.db.images, "build file", field, principal, input.imageUids[sequence]);
      if (image.pipelineUid !== pipeline.uid) throw new UnprocessableError(`build file ${image.uid} belongs to another pipeline`, { problems: [{ field, message: "must belong to the pipeline" }] });
      if (image.sequence !== sequence) throw new UnprocessableError(`build file ${image.uid} is a ${image.sequence} build file`, { problems: [{ field, message: `must have sequence ${sequence}` }] });
      images[sequence] = image;
    }
    const config = await registry.owned(this.deps.db.configs, "config", "config_uid", principal, input.configUid);
    if (config.pipelineUid !== pipeline.uid) throw new UnprocessableError(`config ${config.uid} belongs to another pipeline`, { problems: [{ field: "config_uid", message: "must belong to the pipeline" }] });

    const dataset = await registry.getDataset(principal, input.datasetScope, input.datasetUid, "dataset_uid").catch((error: unknown) => {
      if (error instanceof NotFoundError) throw NotFoundError.entity(`${input.datasetScope} dataset`, "dataset_uid", input.datasetUid);
      throw error;
    });
    const parentMatches = dataset.scope === "project" ? dataset.projectUid === application.projectUid : dataset.applicationUid === application.uid;
    if (!parentMatches) throw new UnprocessableError(`dataset ${dataset.uid} is not in this pipeline's ${dataset.scope}`, { problems: [{ field: "dataset_uid", message: `must belong to the pipeline's ${dataset.scope}` }] });
    if (dataset.status !== "available" || !dataset.fileUid) throw new UnprocessableError(`dataset ${dataset.uid} has no file yet`, { problems: [{ field: "dataset_uid", message: "is not available yet" }] });
    const expectedTypes = kind === "preprocessing" ? ["original"] : dataset.scope === "project" ? ["training"] : ["optimization"];
    if (!expectedTypes.includes(dataset.type)) {
      throw new UnprocessableError(`dataset ${dataset.uid} is a ${dataset.type} dataset`, { problems: [{ field: "dataset_uid", message: `must be a ${expectedTypes.join(" or ")} dataset` }] });
    }

    let baseModel: ModelRecord | undefined;
    if (kind === "optimization" || kind === "evaluation") {
      baseModel = await registry.getModel(principal, input.baseModelUid ?? "", "model_uid");
      if (baseModel.applicationUid !== application.uid) throw new UnprocessableError(`model ${baseModel.uid} belongs to another application`, { problems: [{ field: "model_uid", message: "must belong to the pipeline's application" }] });
      if (baseModel.status === "unavailable" || !baseModel.fileUid) throw new UnprocessableError(`model ${baseModel.uid} has no file yet`, { problems: [{ field: "model_uid", message: "is not available yet" }] });
    }
    return { pipeline, application, images, dataset, baseModel };
  }

  private async createOutputDataset(stores: Stores, refs: { pipeline: PipelineRecord; application: { uid: string; projectUid: string }; dataset: DatasetRecord }, input: SubmitInput): Promise<string> {
    const output = input.outputDataset!;
    // The output lives where its input did: a project dataset gives a training dataset, an application one an optimization dataset.
    const type = refs.dataset.scope === "project" ? "training" : "optimization";
    if (output.type && output.type !== type) {
      throw new UnprocessableError(`a ${refs.dataset.scope} dataset produces a ${type} dataset`, { problems: [{ field: "dataset_type", message: `must be ${type} for a ${refs.dataset.scope} dataset` }] });
    }
    const uid = this.deps.ids.uid();
    await stores.datasets.create({
      uid, name: output.name, description: output.description, scope: refs.dataset.scope, type, status: "unavailable",
      organizationUid: refs.pipeline.organizationUid, projectUid: refs.dataset.scope === "project" ? refs.application.projectUid : null,
      applicationUid: refs.dataset.scope === "application" ? refs.application.uid : null, fileUid: null,
      extension: checkExtension("dataset_file_extension", output.extension),
    });
    return uid;
  }

  private async createOutputModel(stores: Stores, refs: { pipeline: PipelineRecord; application: { uid: string }; baseModel?: ModelRecord | undefined }, input: SubmitInput): Promise<string> {
    const output = input.outputModel!;
    const uid = this.deps.ids.uid();
    const source = refs.baseModel ? (refs.baseModel.source ?? refs.baseModel.uid) : null;
    const version = source ? Math.max(refs.baseModel!.version, ...(await stores.models.list({ source })).map((m) => m.version)) + 1 : 1;
    await stores.models.create({
      uid, name: output.name, description: output.description, type: output.type, inputFormat: output.inputFormat, outputFormat: output.outputFormat,
      status: "unavailable", version, accuracy: null, accessToken: this.deps.ids.token(32), source,
      organizationUid: refs.pipeline.organizationUid, applicationUid: refs.application.uid, agentUid: null, fileUid: null,
      extension: checkExtension("model_file_extension", output.extension),
    });
    return uid;
  }

  private async plan(task: TaskRecord): Promise<TaskPlan> {
    const [config, pipeline, download, running, upload] = await Promise.all([
      this.deps.db.configs.find(task.configUid), this.deps.db.pipelines.find(task.pipelineUid),
      this.deps.db.images.find(task.downloadImageUid), this.deps.db.images.find(task.runningImageUid), this.deps.db.images.find(task.uploadImageUid),
    ]);
    if (!config || !pipeline || !download || !running || !upload) throw new UnprocessableError(`an input of task ${task.uid} no longer exists`);
    const programFile = await this.deps.db.files.find(pipeline.fileUid);
    const outputDataset = task.outputDatasetUid ? await this.deps.db.datasets.find(task.outputDatasetUid) : null;
    const outputModel = task.outputModelUid ? await this.deps.db.models.find(task.outputModelUid) : null;
    const outputFileName = outputDataset ? `training_dataset.${outputDataset.extension}` : outputModel ? `model.${outputModel.extension}` : null;
    const resources = JSON.parse(task.resources) as Record<Sequence, StepResources>;
    const images: Record<Sequence, ImageRecord> = { download, running, upload };
    const stepToken = this.deps.ids.token(32);
    await this.deps.db.tasks.update(task.uid, {
      stepTokenHash: createHash("sha256").update(stepToken).digest("hex"),
      stepTokenExpires: new Date(this.deps.clock.now().getTime() + this.deps.stepTokenTtlSeconds * 1000),
    });
    return {
      task,
      steps: TASK_KINDS[task.kind].steps.map((step) => ({ ...step, image: images[step.sequence], resources: resources[step.sequence] })),
      config: JSON.parse(config.data) as Record<string, unknown>,
      programExtension: programFile?.extension ?? "py",
      outputFileName,
      stepToken,
    };
  }

  private resolveResources(requested: SubmitInput["resources"] = {}): Record<Sequence, StepResources> {
    const resolved = {} as Record<Sequence, StepResources>;
    for (const sequence of SEQUENCES) resolved[sequence] = { ...this.deps.defaultResources, ...requested[sequence] };
    return resolved;
  }

  /** `reopen` lets a retry move a finished task on; otherwise a late report never reopens one. */
  private async setStatus(task: TaskRecord, status: TaskStatus, executeStep: TaskRecord["executeStep"], message: string, options: { reopen?: boolean } = {}): Promise<TaskRecord> {
    if (!options.reopen && TERMINAL.includes(task.status) && task.status !== status) {
      const latest = await this.deps.db.tasks.find(task.uid);
      if (latest && TERMINAL.includes(latest.status)) return latest; // a late report never reopens a finished task
    }
    const now = this.deps.clock.now();
    const ended = TERMINAL.includes(status);
    const updated = await this.deps.db.tasks.update(task.uid, {
      status, executeStep, statusMessage: message, updatedAt: now,
      ...(ended ? { finishedAt: now, stepTokenHash: null, stepTokenExpires: null } : {}),
    });
    await this.deps.db.taskEvents.append({ taskUid: task.uid, status, executeStep, message, at: now });
    this.deps.logger.info({ task: task.uid, status, executeStep }, "action=task-status");
    this.changes.emit("change", task.uid);
    return updated;
  }

  /** On success the output becomes available, if the upload step stored it. */
  private async publishOutput(task: TaskRecord): Promise<{ status: TaskStatus; executeStep: TaskRecord["executeStep"]; message: string } | undefined> {
    const output = task.outputDatasetUid ? await this.deps.db.datasets.find(task.outputDatasetUid) : task.outputModelUid ? await this.deps.db.models.find(task.outputModelUid) : null;
    if (!task.outputDatasetUid && !task.outputModelUid) return undefined;
    if (!output?.fileUid) return { status: "fail", executeStep: "run_task", message: "the upload step finished without storing an output" };
    if (task.outputDatasetUid) await this.deps.db.datasets.update(task.outputDatasetUid, { status: "available" });
    else await this.deps.db.models.update(task.outputModelUid!, { status: "unpublish" });
    return undefined;
  }

  private async outputTarget(task: TaskRecord) {
    if (task.outputDatasetUid) {
      const dataset = await this.deps.db.datasets.find(task.outputDatasetUid);
      if (!dataset) throw new NotFoundError(`output dataset ${task.outputDatasetUid} no longer exists`);
      const application = dataset.applicationUid ? await this.deps.db.applications.find(dataset.applicationUid) : null;
      const segments = dataset.scope === "project" ? [dataset.organizationUid, dataset.projectUid!, dataset.type] : [dataset.organizationUid, application!.projectUid, dataset.applicationUid!, dataset.type];
      return { kind: "dataset" as const, uid: dataset.uid, fileUid: dataset.fileUid, extension: dataset.extension, key: objectKey(segments, dataset.uid, dataset.extension) };
    }
    if (task.outputModelUid) {
      const model = await this.deps.db.models.find(task.outputModelUid);
      if (!model) throw new NotFoundError(`output model ${task.outputModelUid} no longer exists`);
      const application = (await this.deps.db.applications.find(model.applicationUid))!;
      return { kind: "model" as const, uid: model.uid, fileUid: model.fileUid, extension: model.extension, key: objectKey([model.organizationUid, application.projectUid, model.applicationUid, "model"], model.uid, model.extension) };
    }
    throw new ValidationError(`task ${task.uid} produces no file; report metrics instead`);
  }

  private async openOwnedFile(uid: string, owner: { fileUid: string | null } | null, entity: string) {
    if (!owner?.fileUid) throw new NotFoundError(`${entity} ${uid} has no file`);
    const file = await this.deps.db.files.find(owner.fileUid);
    if (!file) throw new NotFoundError(`${entity} ${uid} has no file`);
    return { stream: await this.deps.objects.get(file.storageKey), size: file.size, filename: file.extension === "null" ? uid : `${uid}.${file.extension}` };
  }

  private async dropUnproduced(stores: Stores, output: DatasetRecord | ModelRecord): Promise<void> {
    const file = output.fileUid ? await stores.files.find(output.fileUid) : null;
    if ("scope" in output) await stores.datasets.delete(output.uid);
    else await stores.models.delete(output.uid);
    if (file) {
      await stores.files.delete(file.uid);
      await this.deps.objects.remove(file.storageKey);
    }
  }
}

function emptyStep(taskUid: string, name: string, sequence: string): TaskStepRecord {
  return { taskUid, name, sequence, phase: "Pending", startedAt: null, finishedAt: null, exitCode: null, message: "", resources: "{}", nodeId: null, podName: null };
}

function orderSteps(task: TaskRecord, steps: TaskStepRecord[]): TaskStepRecord[] {
  const order = TASK_KINDS[task.kind].steps.map((s) => s.name);
  return [...steps].sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
}

/** JSON with sorted keys, so equal bodies hash equally whatever their key order. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (value && typeof value === "object") {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}
