import type { ImageBuilds, StepImage } from "../builds/image-builds.js";
import type { Clock } from "../clock.js";
import { ConflictError, UnprocessableError } from "../errors.js";
import type { Database, Logger } from "../ports.js";
import { FINAL_TASK_STATUSES, type ImageRecord, type ImageSequence, type TaskRecord } from "../records.js";
import { WorkQueue } from "../../lib/work-queue.js";
import type { TaskEngine, TaskPlan } from "./task-engine.js";
import type { TaskLifecycle } from "./task-lifecycle.js";
import type { TaskPlanner } from "./task-planner.js";

/** Undispatched tasks read per query when resuming them. */
const RESUME_PAGE = 200;

/**
 * Hands tasks to the engine. A task whose images are still being built waits in the original's
 * `generate_file` step (status `pending`) and goes on when they are ready; one whose image could
 * not be built ends in `init error` with the build's message.
 */
export class TaskDispatcher {
  /** Submissions answer before their run starts: dispatch happens here, after the commit. */
  private readonly queue: WorkQueue<{ task: TaskRecord; stepToken?: string }>;
  /**
   * Tasks this process is dispatching (queued, or being resumed): nothing dispatches them again.
   * A second dispatch renews the step credential, which the first run's steps then lack.
   */
  private readonly underWay = new Set<string>();
  /** The queue refused a task since it last took one (logged once per episode, not per task). */
  private overflowing = false;

  constructor(
    private readonly deps: {
      db: Database;
      clock: Clock;
      engine: TaskEngine;
      planner: TaskPlanner;
      builds: ImageBuilds;
      lifecycle: TaskLifecycle;
      logger: Logger;
      queue: { concurrency: number; capacity: number };
    },
  ) {
    // dispatch() marks the task when its run cannot start; a crash before it ran is healed by the resume.
    this.queue = new WorkQueue(
      ({ task, stepToken }) => this.dispatchQueued(task, stepToken).finally(() => this.underWay.delete(task.uid)),
      deps.queue,
      (error, { task }) => deps.logger.error({ err: error, task: task.uid }, "action=dispatch outcome=failed"),
    );
  }

  /**
   * Queues a task just written, without waiting: when the queue is full the task stays `init`
   * and the next resume hands it over (the answer never waits for the engine). Says whether it was queued.
   */
  enqueue(task: TaskRecord, stepToken?: string): boolean {
    if (this.underWay.has(task.uid)) return true;
    if (!this.queue.offer(stepToken ? { task, stepToken } : { task })) {
      if (!this.overflowing)
        this.deps.logger.warn({ task: task.uid, queued: this.queue.depth }, "action=dispatch outcome=deferred reason=queue-full");
      this.overflowing = true;
      return false;
    }
    this.overflowing = false;
    this.underWay.add(task.uid);
    return true;
  }

  /** Tasks queued or being dispatched. */
  get queued(): number {
    return this.queue.depth;
  }

  /** Holds queued tasks (accepted ones wait, resumes only queue), e.g. while the engine is being maintained. */
  pauseDispatch(): void {
    this.queue.pause();
  }

  resumeDispatch(): void {
    this.queue.resume();
  }

  /** Shutdown: finishes the dispatches under way; queued tasks stay `init` and are dispatched on the next start. */
  stop(): Promise<void> {
    return this.queue.stop();
  }

  /** Resolves once every queued task was dispatched (or failed to be). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  /**
   * Submits the task with a fresh step credential once its images are ready. Safe to repeat:
   * engines treat a second submission of the same task as a no-op, which is how a crash between
   * the database write and the submission heals (see `resumeUndispatched`).
   */
  async dispatch(task: TaskRecord, stepToken?: string): Promise<TaskRecord> {
    const { lifecycle } = this.deps;
    const readiness = await this.deps.builds.readiness(await this.imagesOf(task));
    if (readiness.state === "failed") {
      return lifecycle.transition(
        task,
        "init error",
        "generate_file",
        `the image of build file ${readiness.image.name} (${readiness.image.uid}) could not be built: ${readiness.message}`,
      );
    }
    if (readiness.state === "waiting") {
      const names = readiness.on.map((image) => `${image.name} (${image.sequence})`).join(", ");
      if (task.status === "pending" && task.executeStep === "generate_file") return task;
      return lifecycle.transition(task, "pending", "generate_file", `waiting for the images of ${names} to be built`);
    }
    const generating = await lifecycle.transition(task, task.status, "generate_file", "rendering the run");
    if (FINAL_TASK_STATUSES.includes(generating.status)) return generating; // stopped while it waited: no run
    let plan: TaskPlan;
    try {
      plan = await this.deps.planner.plan(generating, readiness.steps, stepToken);
      const run = await this.deps.engine.submit(plan);
      const submitted = await this.deps.db.tasks.updateUnlessEnded(task.uid, { workflowName: run.runName, workflowUid: run.runUid });
      if (!submitted) {
        const current = await this.deps.db.tasks.find(task.uid);
        // Deleted or stopped while its run was being created (nothing found a run to remove then): remove it now.
        // A task its own run ended already has that run recorded (the recorder adopts it while the task is active).
        if (!current?.workflowName) await this.deps.engine.remove({ ...generating, workflowName: run.runName });
        return current ?? generating;
      }
      // The engine may already have reported progress; only move forward from before the submission.
      return submitted.executeStep === "generate_file"
        ? lifecycle.transition(submitted, "pending", "execute_pipeline", "submitted")
        : submitted;
    } catch (error) {
      await lifecycle.transition(task, "init error", "execute_pipeline", `could not start the run: ${(error as Error).message}`);
      throw error;
    }
  }

  /**
   * A task just written is dispatched as queued. One a resume read may have moved on since (a
   * dispatch that ended between that read and now): it is dispatched only if it is still as read,
   * since a second dispatch would renew the step credential its running steps hold.
   */
  private async dispatchQueued(task: TaskRecord, stepToken?: string): Promise<void> {
    if (stepToken) {
      await this.dispatch(task, stepToken);
      return;
    }
    const current = await this.deps.db.tasks.find(task.uid);
    if (!current || current.status !== task.status || current.updatedAt.getTime() !== task.updatedAt.getTime()) return;
    await this.dispatch(current);
  }

  /** What the task's steps run, for a re-run of steps that ran before (their images were ready then). */
  async stepImages(task: TaskRecord): Promise<Record<ImageSequence, StepImage>> {
    const readiness = await this.deps.builds.readiness(await this.imagesOf(task));
    if (readiness.state !== "ready")
      throw new ConflictError(`task ${task.uid} cannot run again until the images of its build files are built`);
    return readiness.steps;
  }

  /**
   * Queues the tasks created but never handed to the engine (the process that accepted them died
   * in between, or the queue was full), and those waiting for images. Not those this process is
   * dispatching, nor, with `quietSeconds`, those written so recently that another replica may be
   * dispatching them. Read a page at a time, so a long backlog never holds the event loop; stops
   * when the queue is full (the next resume goes on). Answers how many it queued.
   */
  async resumeUndispatched(quietSeconds = 0): Promise<number> {
    const quietSince = new Date(this.deps.clock.now().getTime() - quietSeconds * 1000);
    let resumed = 0;
    for (const which of ["accepted", "awaiting-images"] as const) {
      let after: { createdAt: Date; uid: string } | undefined;
      for (;;) {
        const page = await this.deps.db.tasks.listUndispatched(which, quietSince, { limit: RESUME_PAGE, ...(after ? { after } : {}) });
        for (const task of page) {
          if (this.underWay.has(task.uid)) continue;
          if (!this.enqueue(task)) return resumed;
          resumed += 1;
        }
        if (page.length < RESUME_PAGE) break;
        after = { createdAt: page.at(-1)!.createdAt, uid: page.at(-1)!.uid };
        await new Promise((resolve) => setImmediate(resolve)); // requests go first between pages
      }
    }
    return resumed;
  }

  /** A build settled: the tasks waiting on it go on (or end, when it failed); those the full queue refuses, on the next resume. */
  async resumeWaiting(buildUid: string): Promise<void> {
    const images = await this.deps.db.images.list({ buildUid });
    if (!images.length) return;
    const uids = images.map((i) => i.uid);
    const waiting = await this.deps.db.tasks.list({ status: "pending", executeStep: "generate_file" });
    for (const task of waiting) {
      if (![task.downloadImageUid, task.runningImageUid, task.uploadImageUid].some((uid) => uids.includes(uid))) continue;
      if (!this.enqueue(task)) return;
    }
  }

  private async imagesOf(task: TaskRecord): Promise<Record<ImageSequence, ImageRecord>> {
    const { db } = this.deps;
    const [download, running, upload] = await Promise.all([
      db.images.find(task.downloadImageUid),
      db.images.find(task.runningImageUid),
      db.images.find(task.uploadImageUid),
    ]);
    if (!download || !running || !upload) throw new UnprocessableError(`a build file of task ${task.uid} no longer exists`);
    return { download, running, upload };
  }
}
