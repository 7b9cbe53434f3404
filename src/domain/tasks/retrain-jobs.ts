import type { Clock } from "../clock.js";
import { ConflictError, ForbiddenError, NotFoundError, UnprocessableError } from "../errors.js";
import type { Database, IdGenerator, StagedObject } from "../ports.js";
import { canAccess, type Principal } from "../principal.js";
import type { RetrainJobRecord, TaskRecord } from "../records.js";
import type { DatasetRegistry } from "../registry/dataset-registry.js";
import type { SignedLinks } from "../files/signed-links.js";
import { TASK_KINDS } from "./task-kinds.js";
import { resubmission } from "./task-references.js";
import type { TaskService } from "./task-service.js";

/** Where a retrain job stands before its task exists. */
export type RetrainJobState = { job: RetrainJobRecord; task: null; expired: boolean } | { job: RetrainJobRecord | null; task: TaskRecord };

/**
 * Prediction One's retrain jobs: a job is created for a model with an upload URL; when its data
 * lands, the data becomes an optimization dataset of the model's application and the job
 * becomes the optimization task of the same uid, repeating the application's newest retrain
 * (its pipeline, config, build files and resources) on the new data from this model.
 */
export class RetrainJobs {
  constructor(
    private readonly deps: {
      db: Database;
      clock: Clock;
      ids: IdGenerator;
      datasets: DatasetRegistry;
      tasks: TaskService;
      links: SignedLinks;
      ttlSeconds: number;
    },
  ) {}

  /** A job for the model, and the token of its upload link (the only way to give it data). */
  async create(principal: Principal, modelUid: string): Promise<{ job: RetrainJobRecord; uploadToken: string }> {
    const { db, clock } = this.deps;
    const model = await db.models.find(modelUid);
    if (!model || !canAccess(principal, model.organizationUid)) throw NotFoundError.entity("model", "model_uid", modelUid);
    if (!model.fileUid) throw new UnprocessableError(`model ${model.uid} has no file yet`);
    const template = await this.newestRetrain(model.applicationUid);
    if (!template)
      throw new UnprocessableError(`model ${model.uid}'s application has no retrain (optimization) task to repeat; run one first`);
    const job = await db.retrainJobs.create({
      uid: this.deps.ids.uid(),
      organizationUid: model.organizationUid,
      createdByUid: principal.userUid,
      apiKeyUid: principal.apiKey?.uid ?? null,
      baseModelUid: model.uid,
      templateTaskUid: template.uid,
      datasetUid: null,
      expiresAt: new Date(clock.now().getTime() + this.deps.ttlSeconds * 1000),
    });
    return {
      job,
      uploadToken: this.deps.links.sign({ uid: job.uid, organizationUid: job.organizationUid }, "upload", job.expiresAt).token,
    };
  }

  /** The job an upload link was signed for (it throws for any other link, or one past its time). */
  jobOfUpload(token: string): string {
    return this.deps.links.open(token, "upload").target.uid;
  }

  /** The job's data arrived through its upload URL: store it and start the retrain, as the user who created the job. */
  async receiveData(jobUid: string, staged: StagedObject, extension: string): Promise<TaskRecord> {
    const { db } = this.deps;
    const job = await db.retrainJobs.find(jobUid);
    if (!job) throw NotFoundError.entity("retrain job", "retrain_job_id", jobUid);
    if (job.datasetUid) throw new ConflictError(`retrain job ${job.uid} already received its data`);
    if (job.expiresAt <= this.deps.clock.now()) throw new ForbiddenError(`retrain job ${job.uid}'s upload URL has expired`);
    const user = await db.users.find(job.createdByUid);
    if (!user || user.revokedAt) throw new ForbiddenError(`the user who created retrain job ${job.uid} can no longer run it`);
    const principal: Principal = { userUid: user.uid, accessKey: user.accessKey, organizationUid: user.organizationUid, role: user.role };
    const [template, model] = await Promise.all([db.tasks.find(job.templateTaskUid), db.models.find(job.baseModelUid)]);
    if (!template || !model) throw new UnprocessableError(`retrain job ${job.uid}'s model or retrain task no longer exists`);
    const { record: dataset } = await this.deps.datasets.createDataset(principal, {
      scope: "application",
      name: `retrain ${job.uid}`,
      description: "data uploaded for a Prediction One retrain job",
      type: "optimization",
      parentUid: model.applicationUid,
      extension,
      file: staged,
    });
    try {
      const outputModel = template.outputModelUid ? await db.models.find(template.outputModelUid) : null;
      const { task } = await this.deps.tasks.submit(principal, "optimization", {
        ...resubmission(template, "application", null, outputModel),
        uid: job.uid,
        name: `retrain ${job.uid}`,
        datasetUid: dataset.uid,
        baseModelUid: model.uid,
      });
      await db.retrainJobs.update(job.uid, { datasetUid: dataset.uid });
      return task;
    } catch (error) {
      // The task's uid is the job's: a second upload that raced this one leaves no dataset behind.
      await this.deps.datasets.deleteDataset(principal, "application", dataset.uid).catch(() => undefined);
      throw error;
    }
  }

  /** A job as the caller may see it: still waiting for data, or its task (also a retrain task run directly). */
  async find(principal: Principal, uid: string): Promise<RetrainJobState | null> {
    const { db } = this.deps;
    const [job, task] = await Promise.all([db.retrainJobs.find(uid), db.tasks.find(uid)]);
    if (task && canAccess(principal, task.organizationUid) && task.kind === "optimization") return { job, task };
    if (job && !task && canAccess(principal, job.organizationUid))
      return { job, task: null, expired: job.expiresAt <= this.deps.clock.now() };
    return null;
  }

  private async newestRetrain(applicationUid: string): Promise<TaskRecord | undefined> {
    const { db } = this.deps;
    const pipelines = await db.pipelines.list({ applicationUid, type: { in: [...TASK_KINDS.optimization.pipelineTypes] } });
    // The newest of each pipeline (one indexed row each), then the newest of those.
    const newest = await Promise.all(
      pipelines.map(
        async (p) => (await db.tasks.search({ pipelineUid: p.uid, kinds: ["optimization"], order: "newest" }, { limit: 1 }))[0],
      ),
    );
    return newest.filter((task): task is TaskRecord => task !== undefined).sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())[0];
  }
}
