import { createHash, timingSafeEqual } from "node:crypto";
import type { Readable } from "node:stream";
import type { Clock } from "../clock.js";
import { AuthenticationError, ConflictError, ForbiddenError, NotFoundError } from "../errors.js";
import type { Database, IdGenerator, ObjectStore, StagedObject, Stores } from "../ports.js";
import { FINAL_TASK_STATUSES, type TaskRecord } from "../records.js";
import { ownerUidOfPath } from "../registry/storage-keys.js";
import { outputTargetOf } from "./task-outputs.js";
import type { Principal } from "../principal.js";
import { UID_PATTERN } from "../../lib/patterns.js";

const UID = new RegExp(UID_PATTERN);

export type StepInput = "dataset" | "base_model" | "config" | "program";

/**
 * What a running task's steps may do with the task credential, and nothing else: read that
 * task's inputs, store its one output, report its metrics; only while the task has not ended.
 */
export class StepAccess {
  constructor(private readonly deps: { db: Database; objects: ObjectStore; ids: IdGenerator; clock: Clock }) {}

  async authorize(taskUid: string, token: string): Promise<TaskRecord> {
    // Not a uid this service issued: no database is asked about it (PostgreSQL refuses a NUL in text).
    const task = UID.test(taskUid) ? await this.deps.db.tasks.find(taskUid) : null;
    const given = createHash("sha256").update(token).digest();
    const expected = task?.stepTokenHash ? Buffer.from(task.stepTokenHash, "hex") : Buffer.alloc(32);
    const valid = timingSafeEqual(given, expected) && task?.stepTokenHash;
    if (
      !task ||
      !valid ||
      !task.stepTokenExpires ||
      task.stepTokenExpires <= this.deps.clock.now() ||
      FINAL_TASK_STATUSES.includes(task.status)
    ) {
      throw new AuthenticationError("invalid or expired task credential");
    }
    return task;
  }

  async openInput(task: TaskRecord, input: StepInput): Promise<{ stream: Readable; size: number; filename: string } | { json: unknown }> {
    const { db } = this.deps;
    switch (input) {
      case "config": {
        const config = await db.configs.find(task.configUid);
        if (!config) throw new NotFoundError(`config ${task.configUid} no longer exists`);
        return { json: JSON.parse(config.data) };
      }
      case "dataset":
        return this.openOwnedFile(task.datasetUid, await db.datasets.find(task.datasetUid), "dataset");
      case "base_model":
        if (!task.baseModelUid) throw new NotFoundError(`task ${task.uid} has no base model`);
        return this.openOwnedFile(task.baseModelUid, await db.models.find(task.baseModelUid), "model");
      case "program":
        return this.openOwnedFile(task.pipelineUid, await db.pipelines.find(task.pipelineUid), "pipeline");
    }
  }

  /**
   * Stores the task's output file; it becomes available when the task succeeds. An output that
   * arrives after its task ended (a late upload of a failed run) is refused and never linked.
   */
  async storeOutput(task: TaskRecord, staged: StagedObject): Promise<{ size: number }> {
    await this.assertStillRunning(task.uid);
    const target = await outputTargetOf(this.deps.db, task);
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
        const file = await stores.files.create({
          uid: this.deps.ids.uid(),
          storageKey: key,
          extension: target.extension,
          size: staged.size,
        });
        if (target.kind === "dataset") await stores.datasets.update(target.uid, { fileUid: file.uid });
        else await stores.models.update(target.uid, { fileUid: file.uid });
      });
    } catch (error) {
      if (!existing) await this.deps.objects.remove(key);
      throw error;
    }
    return { size: staged.size };
  }

  /**
   * The lab's SDK upload (`file_path` + file) with a task's credential: accepted only for that
   * task's own output, at exactly the path the original would have given it, while the task runs.
   */
  async storeOutputAt(principal: Principal, filePath: string, staged: StagedObject): Promise<{ file_path: string; size: number }> {
    if (!principal.task)
      throw new ForbiddenError("only a running task's credential may upload a task's output (sign in as task:<task uid> with its token)");
    const problem = (message: string) => ({ problems: [{ field: "filePath", message }] });
    if (ownerUidOfPath(filePath) !== principal.task.outputUid)
      throw new ForbiddenError(`${filePath.slice(0, 300)} is not this task's output`, problem("must name this task's own output"));
    const task = await this.deps.db.tasks.find(principal.task.uid);
    if (!task) throw new AuthenticationError("invalid or expired task credential");
    if ((await outputTargetOf(this.deps.db, task)).key !== filePath)
      throw new NotFoundError(
        `no output of this task is stored at ${filePath.slice(0, 300)}`,
        problem("is not where this task's output goes"),
      );
    const { size } = await this.storeOutput(task, staged);
    return { file_path: filePath, size };
  }

  async recordMetrics(task: TaskRecord, metrics: Record<string, unknown>): Promise<void> {
    await this.deps.db.transaction(async (stores) => {
      const current = (await stores.tasks.lock(task.uid)) ?? task;
      const merged = { ...(JSON.parse(current.metrics) as Record<string, unknown>), ...metrics };
      await stores.tasks.update(task.uid, { metrics: JSON.stringify(merged) });
    });
    if (typeof metrics.accuracy === "number" && task.outputModelUid)
      await this.deps.db.models.update(task.outputModelUid, { accuracy: metrics.accuracy });
  }

  private async assertStillRunning(taskUid: string, stores: Stores = this.deps.db): Promise<void> {
    const current = await stores.tasks.find(taskUid);
    if (!current || FINAL_TASK_STATUSES.includes(current.status))
      throw new ConflictError(`task ${taskUid} has ended; its steps can no longer store an output`);
  }

  private async openOwnedFile(uid: string, owner: { fileUid: string | null } | null, entity: string) {
    if (!owner?.fileUid) throw new NotFoundError(`${entity} ${uid} has no file`);
    const file = await this.deps.db.files.find(owner.fileUid);
    if (!file) throw new NotFoundError(`${entity} ${uid} has no file`);
    return {
      stream: await this.deps.objects.get(file.storageKey),
      size: file.size,
      filename: file.extension === "null" ? uid : `${uid}.${file.extension}`,
    };
  }
}
