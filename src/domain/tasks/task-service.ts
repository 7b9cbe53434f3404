import { createHash } from "node:crypto";
import type { Clock } from "../clock.js";
import { ConflictError, NotFoundError, UnprocessableError } from "../errors.js";
import type { Database, IdGenerator, Logger, ObjectStore, PageRequest, Stores, TaskQuery } from "../ports.js";
import { canAccess, type Principal } from "../principal.js";
import {
  ACTIVE_TASK_STATUSES,
  FAILED_TASK_STATUSES,
  IMAGE_SEQUENCES,
  type DatasetRecord,
  type ImageSequence,
  type ModelRecord,
  type TaskKind,
  type TaskRecord,
  type TaskStatusEventRecord,
  type TaskStepRecord,
} from "../records.js";
import { paged, type Page } from "../registry/registry-records.js";
import type { DatasetRegistry } from "../registry/dataset-registry.js";
import type { ModelRegistry } from "../registry/model-registry.js";
import type { RegistryService } from "../registry/registry-service.js";
import { stableJson } from "../../lib/text.js";
import type { ShutdownStrategy, StepResources, TaskEngine } from "./task-engine.js";
import { TASK_KINDS } from "./task-kinds.js";
import type { AuditTrail } from "../audit/audit-trail.js";
import { pendingStep, stepsOf, type TaskLifecycle } from "./task-lifecycle.js";
import type { TaskDispatcher } from "./task-dispatcher.js";
import type { TaskPlanner } from "./task-planner.js";
import { checkReferences, outputDataset, outputModel, resubmission, type SubmitInput } from "./task-references.js";

export interface SubmittedTask {
  task: TaskRecord;
  outputDatasetUid: string | null;
  outputModelUid: string | null;
}

export interface TaskView {
  task: TaskRecord;
  steps: TaskStepRecord[];
  history: TaskStatusEventRecord[];
}

/**
 * What users do with tasks: submit them (every referenced uid checked and owned, the output
 * pre-created, the run handed to the engine), read them, and control them (stop, terminate,
 * retry, resubmit, delete). The task's own uid is the subject `uid` in errors.
 */
export class TaskService {
  constructor(
    private readonly deps: {
      db: Database;
      registry: RegistryService;
      datasets: DatasetRegistry;
      models: ModelRegistry;
      objects: ObjectStore;
      engine: TaskEngine;
      planner: TaskPlanner;
      dispatcher: TaskDispatcher;
      lifecycle: TaskLifecycle;
      ids: IdGenerator;
      clock: Clock;
      logger: Logger;
      audit: AuditTrail;
      defaultResources: StepResources;
    },
  ) {}

  // ---- submission ----

  /**
   * The accept path: one read of everything the body names, one batch that writes the task
   * with its first event, output and step credential (its steps are pending until the engine
   * reports them), then the run is queued; the answer does not wait for the engine.
   */
  async submit(
    principal: Principal,
    kind: TaskKind,
    input: SubmitInput,
    idempotency?: { key: string; body: unknown },
    resubmittedFrom: string | null = null,
  ): Promise<SubmittedTask> {
    const requestHash = idempotency
      ? createHash("sha256")
          .update(stableJson({ kind, body: idempotency.body }))
          .digest("hex")
      : "";
    if (idempotency) {
      const replay = await this.replay(principal, idempotency.key, requestHash);
      if (replay) return replay;
    }
    const refs = await checkReferences(this.deps.db, principal, kind, input);
    const resources = this.resolveResources(input.resources);
    const definition = TASK_KINDS[kind];
    const { ids, clock, planner } = this.deps;
    const now = clock.now();
    const dataset = definition.output === "dataset" ? outputDataset(ids.uid(), refs, input.outputDataset!, now) : null;
    const model = definition.output === "model" ? outputModel(ids.uid(), ids.token(32), refs, input.outputModel!, now) : null;
    const credential = planner.newCredential();
    const task: TaskRecord = {
      uid: input.uid ?? ids.uid(),
      name: input.name,
      description: input.description,
      kind,
      status: "init",
      executeStep: "prepare_file",
      statusMessage: "",
      createdAt: now,
      updatedAt: now,
      finishedAt: null,
      organizationUid: refs.pipeline.organizationUid,
      createdByUid: principal.userUid,
      pipelineUid: refs.pipeline.uid,
      downloadImageUid: refs.images.download.uid,
      runningImageUid: refs.images.running.uid,
      uploadImageUid: refs.images.upload.uid,
      configUid: input.configUid,
      datasetUid: refs.dataset.uid,
      baseModelUid: refs.baseModel?.uid ?? null,
      outputDatasetUid: dataset?.uid ?? null,
      outputModelUid: model?.uid ?? null,
      resources: JSON.stringify(resources),
      engine: this.deps.engine.name,
      workflowName: null,
      workflowUid: null,
      resubmittedFrom,
      stepTokenHash: credential.hash,
      stepTokenExpires: credential.expires,
      attempt: 0,
      metrics: "{}",
      metricSummary: "{}",
      earlyStop: input.earlyStop ? JSON.stringify(input.earlyStop) : (refs.projectEarlyStop ?? ""),
    };
    try {
      await this.deps.db.insertTogether({
        ...(dataset ? { datasets: [dataset] } : {}),
        ...(model ? { models: [model] } : {}),
        tasks: [task],
        taskEvents: [{ taskUid: task.uid, status: "init", executeStep: "prepare_file", message: "task created", at: now }],
        ...(idempotency ? { idempotency: [{ userUid: principal.userUid, key: idempotency.key, requestHash, taskUid: task.uid }] } : {}),
        auditEvents: [
          this.deps.audit.event(principal, resubmittedFrom ? "task.resubmit" : "task.submit", task, {
            kind,
            ...(resubmittedFrom ? { resubmitted_from: resubmittedFrom } : {}),
          }),
        ],
      });
    } catch (error) {
      // A concurrent submission with the same key won the race (and this batch wrote nothing): answer with its task.
      const replay = idempotency && error instanceof ConflictError ? await this.replay(principal, idempotency.key, requestHash) : undefined;
      if (replay) return replay;
      throw error;
    }
    // The original answered with the task as first written (`prepare_file` / `init`); progress shows in task info.
    this.deps.dispatcher.enqueue(task, credential.token);
    return { task, outputDatasetUid: task.outputDatasetUid, outputModelUid: task.outputModelUid };
  }

  // ---- reading and housekeeping ----

  async get(principal: Principal, uid: string): Promise<TaskView> {
    const task = await this.owned(principal, uid);
    const [steps, history] = await Promise.all([this.deps.db.taskSteps.listFor(uid), this.deps.db.taskEvents.listFor(uid)]);
    return { task, steps: stepsOf(task, steps), history };
  }

  async list(principal: Principal, pipelineUid: string, page?: PageRequest): Promise<Page<TaskRecord>> {
    await this.deps.registry.getPipeline(principal, pipelineUid, "pipelineUid");
    return paged(this.deps.db.tasks, { pipelineUid }, page);
  }

  /**
   * Tasks across an organization (the caller's own by default; an admin may name another, or
   * none for every organization), filtered and ordered as `query` says. Every uid it names must
   * be the caller's to see.
   */
  async search(
    principal: Principal,
    query: Omit<TaskQuery, "order"> & { order?: TaskQuery["order"] },
    page: PageRequest,
  ): Promise<Page<TaskRecord>> {
    const { db, registry } = this.deps;
    const organizationUid = query.organizationUid ?? (principal.role === "admin" ? undefined : principal.organizationUid);
    if (organizationUid !== undefined) await registry.checkOrganization(principal, organizationUid, "organizationUid");
    if (query.pipelineUid !== undefined) await registry.owned(db.pipelines, "pipeline", "pipelineUid", principal, query.pipelineUid);
    if (query.createdByUid !== undefined) {
      const creator = await db.users.find(query.createdByUid);
      if (!creator || !canAccess(principal, creator.organizationUid))
        throw NotFoundError.entity("user", "createdByUid", query.createdByUid);
    }
    const items = await db.tasks.search({ ...query, organizationUid, order: query.order ?? "newest" }, { ...page, limit: page.limit + 1 });
    if (items.length <= page.limit) return { items };
    const kept = items.slice(0, page.limit);
    const last = kept[kept.length - 1]!;
    return { items: kept, next: { createdAt: last.createdAt, uid: last.uid } };
  }

  /** The tasks of a project's pipelines, oldest first (MRMS's learning histories of a project). */
  async ofProject(principal: Principal, projectUid: string): Promise<TaskRecord[]> {
    const { db } = this.deps;
    const project = await db.projects.find(projectUid);
    if (!project || !canAccess(principal, project.organizationUid)) throw NotFoundError.entity("project", "projectUid", projectUid);
    const applications = await db.applications.list({ projectUid });
    const pipelines = applications.length ? await db.pipelines.list({ applicationUid: { in: applications.map((a) => a.uid) } }) : [];
    return pipelines.length ? db.tasks.list({ pipelineUid: { in: pipelines.map((p) => p.uid) } }) : [];
  }

  /** The project a task's pipeline belongs to. */
  async projectOf(principal: Principal, uid: string): Promise<string> {
    const { db } = this.deps;
    const task = await this.owned(principal, uid);
    const pipeline = await db.pipelines.find(task.pipelineUid);
    const application = pipeline && (await db.applications.find(pipeline.applicationUid));
    if (!application) throw NotFoundError.entity("task", "uid", uid);
    return application.projectUid;
  }

  async rename(principal: Principal, uid: string, input: { name?: string; description?: string }): Promise<TaskRecord> {
    await this.owned(principal, uid);
    return this.deps.db.tasks.update(uid, { ...input, updatedAt: this.deps.clock.now() });
  }

  /** Deletes the task, its run (workflow, Secret, pods) and an output that was never produced. */
  async remove(principal: Principal, uid: string): Promise<void> {
    const task = await this.owned(principal, uid);
    await this.deps.engine.remove(task);
    await this.deps.audit.record(principal, "task.delete", task, { name: task.name });
    const dropped: string[] = [];
    await this.deps.db.transaction(async (stores) => {
      await stores.tasks.delete(uid);
      const outputs = await Promise.all([
        task.outputDatasetUid ? stores.datasets.find(task.outputDatasetUid) : null,
        task.outputModelUid ? stores.models.find(task.outputModelUid) : null,
      ]);
      for (const output of outputs) if (output && output.status === "unavailable") dropped.push(...(await dropUnproduced(stores, output)));
    });
    for (const key of dropped) await this.deps.objects.remove(key);
  }

  // ---- control ----

  async shutdown(principal: Principal, uid: string, strategy: ShutdownStrategy): Promise<TaskRecord> {
    const task = await this.owned(principal, uid);
    const finished = (status: string) => new ConflictError(`task ${uid} is ${status}; only a task that has not finished can be stopped`);
    if (!ACTIVE_TASK_STATUSES.includes(task.status)) throw finished(task.status);
    // Not submitted yet (waiting for its images): there is no run to stop, the task just ends.
    // The history says who asked; the audit log keeps it with the rest of their actions.
    const requested = `${strategy.toLowerCase()} requested by ${principal.accessKey}`;
    const audited = () => this.deps.audit.record(principal, strategy === "Stop" ? "task.stop" : "task.terminate", task);
    if (!task.workflowName) {
      const ended = await this.deps.lifecycle.transitionIfActive(task, "fail", task.executeStep, `${requested} before the run started`);
      if (!ended) {
        // It ended (or was deleted) since it was read: this stop did nothing, and says so.
        const now = await this.deps.db.tasks.find(uid);
        throw now ? finished(now.status) : NotFoundError.entity("task", "uid", uid);
      }
      // Its dispatch recorded a run just before this write (one that records it after removes the run itself).
      if (ended.workflowName)
        await this.deps.engine.shutdown(ended, strategy).catch((error: unknown) => {
          if (!(error instanceof ConflictError)) throw error; // that run has already ended
        });
      await audited();
      return ended;
    }
    await this.deps.engine.shutdown(task, strategy);
    await audited();
    await this.deps.db.taskEvents.append({
      taskUid: uid,
      status: task.status,
      executeStep: task.executeStep,
      message: requested,
      at: this.deps.clock.now(),
    });
    return task;
  }

  /** The engine's stop for a rule the service itself applies (early stopping); the history says which rule. */
  async stopByRule(task: TaskRecord, message: string): Promise<void> {
    await this.deps.engine.shutdown(task, "Stop");
    await this.deps.db.taskEvents.append({
      taskUid: task.uid,
      status: task.status,
      executeStep: task.executeStep,
      message,
      at: this.deps.clock.now(),
    });
  }

  /** Re-runs the failed steps of the same run, as Argo's retry does. */
  async retry(principal: Principal, uid: string): Promise<TaskRecord> {
    const { db, lifecycle } = this.deps;
    const task = await this.owned(principal, uid);
    if (!FAILED_TASK_STATUSES.includes(task.status))
      throw new ConflictError(`task ${uid} is ${task.status}; only a failed task can be retried`);
    if (!task.workflowName) {
      const reopened = await lifecycle.reopen(task, "init", "prepare_file", "retrying submission");
      await this.deps.audit.record(principal, "task.retry", task);
      return this.deps.dispatcher.dispatch(reopened);
    }
    const images = await this.deps.dispatcher.stepImages(task);
    // Reopened before the run restarts: its steps may call the step API at once (refused while the
    // task reads ended), and a run that ends at once must find the task active to end it.
    const reopened = await lifecycle.reopen(task, "pending", "execute_pipeline", "retrying failed steps");
    await this.deps.audit.record(principal, "task.retry", task);
    for (const step of await db.taskSteps.listFor(uid)) {
      if (step.phase === "Failed" || step.phase === "Error") await db.taskSteps.save(pendingStep(uid, step.name, step.sequence));
    }
    const plan = await this.deps.planner.plan(reopened, images);
    try {
      await this.deps.engine.retry({ ...plan, task: reopened });
    } catch (error) {
      await lifecycle.transition(reopened, "fail", task.executeStep, `could not restart the run: ${(error as Error).message}`);
      throw error;
    }
    return reopened;
  }

  /**
   * A new task with the same inputs (and a new output), like Argo's resubmit. With an
   * idempotency key, a repeated resubmission of the same task answers with the task it created.
   */
  async resubmit(principal: Principal, uid: string, idempotencyKey?: string): Promise<SubmittedTask> {
    const { db } = this.deps;
    const old = await this.owned(principal, uid);
    if (ACTIVE_TASK_STATUSES.includes(old.status))
      throw new ConflictError(`task ${uid} is still ${old.status}; stop it or wait before resubmitting`);
    const dataset = await db.datasets.find(old.datasetUid);
    if (!dataset) throw new UnprocessableError(`the input dataset ${old.datasetUid} no longer exists`);
    const [outputDataset, outputModel] = await Promise.all([
      old.outputDatasetUid ? db.datasets.find(old.outputDatasetUid) : null,
      old.outputModelUid ? db.models.find(old.outputModelUid) : null,
    ]);
    const input = resubmission(old, dataset.scope, outputDataset, outputModel);
    const idempotency = idempotencyKey ? { key: idempotencyKey, body: { resubmitted_from: old.uid } } : undefined;
    return this.submit(principal, old.kind, input, idempotency, old.uid);
  }

  // ---- helpers ----

  private async owned(principal: Principal, uid: string): Promise<TaskRecord> {
    const task = await this.deps.db.tasks.find(uid);
    if (!task || !canAccess(principal, task.organizationUid)) throw NotFoundError.entity("task", "uid", uid);
    return task;
  }

  private async replay(principal: Principal, key: string, requestHash: string): Promise<SubmittedTask | undefined> {
    const record = await this.deps.db.idempotency.find(principal.userUid, key);
    if (!record) return undefined;
    if (record.requestHash !== requestHash) {
      throw new ConflictError("this Idempotency-Key was used with a different request", {
        problems: [{ field: "Idempotency-Key", message: "reused with a different body" }],
      });
    }
    const task = await this.deps.db.tasks.find(record.taskUid);
    // Replaying would answer with a task that no longer exists, and a new one is not what the key asked for.
    if (!task)
      throw new ConflictError(`the task ${record.taskUid} this Idempotency-Key created has been deleted`, {
        problems: [{ field: "Idempotency-Key", message: "its task was deleted; use a new key" }],
      });
    return { task, outputDatasetUid: task.outputDatasetUid, outputModelUid: task.outputModelUid };
  }

  private resolveResources(requested: SubmitInput["resources"] = {}): Record<ImageSequence, StepResources> {
    const resolved = {} as Record<ImageSequence, StepResources>;
    for (const sequence of IMAGE_SEQUENCES) resolved[sequence] = { ...this.deps.defaultResources, ...requested[sequence] };
    return resolved;
  }
}

/** Removes an output that was never produced, in the transaction; returns the object keys to remove after it. */
async function dropUnproduced(stores: Stores, output: DatasetRecord | ModelRecord): Promise<string[]> {
  const file = output.fileUid ? await stores.files.find(output.fileUid) : null;
  if ("scope" in output) await stores.datasets.delete(output.uid);
  else await stores.models.delete(output.uid);
  if (!file) return [];
  await stores.files.delete(file.uid);
  return [file.storageKey];
}
