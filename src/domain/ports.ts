/** What the domain needs from the outside world. Implementations live in src/adapters. */
import type { Readable } from "node:stream";
import type {
  AgentRecord,
  ModelAliasMoveRecord,
  ModelAliasRecord,
  MetricPointRecord,
  ApiKeyRecord,
  ProjectProfileRecord,
  RetrainJobRecord,
  AuditEventRecord,
  ApplicationAgentLinkRecord,
  ApplicationRecord,
  ConfigRecord,
  DatasetRecord,
  ImageBuildRecord,
  ImageRecord,
  ImageSequence,
  InferenceTemplateRecord,
  ModelRecord,
  OrganizationRecord,
  PipelineRecord,
  ProjectRecord,
  RawDataRecord,
  SessionRecord,
  StoredFileRecord,
  TaskKind,
  TaskRecord,
  TaskStatus,
  TaskStatusEventRecord,
  TaskStepRecord,
  UserRecord,
  WebhookDeliveryRecord,
  WebhookRecord,
} from "./records.js";

/** Equality (or membership) on stored fields: the only filtering the domain asks for. */
export type Filter<R> = { [K in keyof R]?: R[K] | { in: R[K][] } };

/** Keyset pagination over (createdAt, uid), oldest first. */
export interface PageRequest {
  limit: number;
  after?: { createdAt: Date; uid: string };
}

export type NewRecord<R> = Omit<R, "createdAt"> & { createdAt?: Date };

export interface EntityStore<R extends { uid: string; createdAt: Date }> {
  find(uid: string): Promise<R | null>;
  list(filter: Filter<R>, page?: PageRequest): Promise<R[]>;
  count(filter: Filter<R>): Promise<number>;
  create(record: NewRecord<R>): Promise<R>;
  update(uid: string, patch: Partial<Omit<R, "uid">>): Promise<R>;
  /** Throws ConflictError when other records still refer to it. */
  delete(uid: string): Promise<void>;
}

export interface UserStore extends EntityStore<UserRecord> {
  findByAccessKey(accessKey: string): Promise<UserRecord | null>;
}

export interface SessionStore extends EntityStore<SessionRecord> {
  /** Ends every session of a user; returns how many. */
  deleteForUser(userUid: string): Promise<number>;
  /** Removes sessions past their absolute end or idle since `idleCutoff`; returns how many. */
  deleteExpired(now: Date, idleCutoff: Date): Promise<number>;
}

/** Which tasks a search returns; every field narrows it, none widens it. */
export interface TaskQuery {
  /** Absent: every organization (admins only; the service checks). */
  organizationUid?: string;
  statuses?: TaskStatus[];
  kinds?: TaskKind[];
  pipelineUid?: string;
  createdByUid?: string;
  /** Created at or after / before. */
  since?: Date;
  until?: Date;
  order: "newest" | "oldest";
}

export interface TaskStore extends EntityStore<TaskRecord> {
  /**
   * Inside a transaction: holds the task's row until the transaction ends, so a read-modify-write
   * of it (a JSON column) waits for a concurrent one instead of overwriting it; returns the row as
   * it is now (null when the task is gone).
   */
  lock(uid: string): Promise<TaskRecord | null>;
  /** Applies `patch` in one statement only while the task has not ended; null when it has (or is gone). */
  updateUnlessEnded(uid: string, patch: Partial<Omit<TaskRecord, "uid">>): Promise<TaskRecord | null>;
  /** Active tasks (init, pending, running) that use the given uid as an input or output. */
  countActiveUsing(uid: string): Promise<number>;
  /** A page of the tasks `query` names, in its order, after `page.after` in that order. */
  search(query: TaskQuery, page: PageRequest): Promise<TaskRecord[]>;
  /** How many tasks there are of each status and kind. */
  countByStatusAndKind(): Promise<Array<{ status: TaskStatus; kind: TaskKind; count: number }>>;
  /**
   * A page, oldest first, of the tasks not yet handed to an engine: those `accepted` (`init`)
   * and unchanged since `quietSince`, or those `awaiting-images` (`pending` at `generate_file`).
   */
  listUndispatched(which: "accepted" | "awaiting-images", quietSince: Date, page: PageRequest): Promise<TaskRecord[]>;
}

export interface TaskStepStore {
  listFor(taskUid: string): Promise<TaskStepRecord[]>;
  /** Inserts or replaces one step, keyed by (taskUid, name). */
  save(step: TaskStepRecord): Promise<void>;
}

export interface TaskEventStore {
  append(event: Omit<TaskStatusEventRecord, "id">): Promise<void>;
  listFor(taskUid: string): Promise<TaskStatusEventRecord[]>;
}

export interface IdempotencyRecord {
  userUid: string;
  key: string;
  requestHash: string;
  taskUid: string;
}

export interface IdempotencyStore {
  find(userUid: string, key: string): Promise<IdempotencyRecord | null>;
  /** ConflictError when the key is taken (a concurrent submission won). */
  create(record: IdempotencyRecord): Promise<void>;
  /** Forgets the records made before `cutoff`; returns how many. */
  deleteOlderThan(cutoff: Date): Promise<number>;
}

export interface WebhookStore extends EntityStore<WebhookRecord> {
  /** Moves the outbox cursor from `from` to `to`; false when another process moved it first. */
  advance(uid: string, from: number, to: number): Promise<boolean>;
  /** Counts one more failed attempt in a row, disabling the webhook when that reaches `limit`. */
  countFailure(uid: string, limit: number, now: Date): Promise<WebhookRecord>;
}

export interface WebhookDeliveryStore extends EntityStore<WebhookDeliveryRecord> {
  /** Pending deliveries of enabled webhooks whose next attempt is due and that nobody holds, oldest due first. */
  due(now: Date, limit: number): Promise<WebhookDeliveryRecord[]>;
  /** Holds a due delivery until `until` for this process; false when another took it. */
  claim(uid: string, now: Date, until: Date): Promise<boolean>;
}

export interface MetricPointStore {
  append(points: Array<Omit<MetricPointRecord, "id">>): Promise<void>;
  /** A task's points in step order (then report order), after `afterStep`, for one key or all. */
  list(query: { taskUid: string; key?: string; afterStep?: number; limit: number }): Promise<MetricPointRecord[]>;
  /** The values of a key's last `count` points, oldest first. */
  lastValues(taskUid: string, key: string, count: number): Promise<number[]>;
}

export interface ModelAliasStore {
  find(applicationUid: string, alias: string): Promise<ModelAliasRecord | null>;
  listForModel(modelUid: string): Promise<ModelAliasRecord[]>;
  /**
   * Points the alias at `record.modelUid` if it still points at `expected` (null: if it does not
   * exist yet); false when another move came first (a ConflictError when both created it).
   */
  move(record: ModelAliasRecord, expected: string | null): Promise<boolean>;
  remove(applicationUid: string, alias: string): Promise<void>;
  /** Records a move (append-only). */
  recordMove(move: Omit<ModelAliasMoveRecord, "id">): Promise<void>;
  /** An application's moves, oldest first. */
  moves(applicationUid: string, limit: number): Promise<ModelAliasMoveRecord[]>;
}

export interface Stores {
  organizations: EntityStore<OrganizationRecord>;
  users: UserStore;
  sessions: SessionStore;
  files: EntityStore<StoredFileRecord>;
  projects: EntityStore<ProjectRecord>;
  applications: EntityStore<ApplicationRecord>;
  pipelines: EntityStore<PipelineRecord>;
  datasets: EntityStore<DatasetRecord>;
  configs: EntityStore<ConfigRecord>;
  images: EntityStore<ImageRecord>;
  imageBuilds: EntityStore<ImageBuildRecord>;
  models: EntityStore<ModelRecord>;
  agents: EntityStore<AgentRecord>;
  applicationAgentLinks: EntityStore<ApplicationAgentLinkRecord>;
  inferenceTemplates: EntityStore<InferenceTemplateRecord>;
  rawData: EntityStore<RawDataRecord>;
  tasks: TaskStore;
  taskSteps: TaskStepStore;
  taskEvents: TaskEventStore;
  idempotency: IdempotencyStore;
  webhooks: WebhookStore;
  webhookDeliveries: WebhookDeliveryStore;
  auditEvents: EntityStore<AuditEventRecord>;
  apiKeys: EntityStore<ApiKeyRecord> & { findByHash(keyHash: string): Promise<ApiKeyRecord | null> };
  projectProfiles: EntityStore<ProjectProfileRecord>;
  retrainJobs: EntityStore<RetrainJobRecord>;
  metricPoints: MetricPointStore;
  modelAliases: ModelAliasStore;
}

/** The fields of each row a submission names that its checks and its new rows need. */
export type SubmissionPipeline = Pick<PipelineRecord, "uid" | "organizationUid" | "type" | "applicationUid">;
export type SubmissionApplication = Pick<ApplicationRecord, "uid" | "projectUid">;
export type SubmissionImage = Pick<ImageRecord, "uid" | "organizationUid" | "pipelineUid" | "sequence">;
type SubmissionConfig = Pick<ConfigRecord, "uid" | "organizationUid" | "pipelineUid">;
export type SubmissionDataset = Pick<
  DatasetRecord,
  "uid" | "organizationUid" | "scope" | "type" | "status" | "projectUid" | "applicationUid" | "fileUid"
>;
export type SubmissionModel = Pick<ModelRecord, "uid" | "organizationUid" | "applicationUid" | "fileUid" | "source" | "version">;

/** What a submission names, read together (null where absent). */
export interface SubmissionRows {
  pipeline: SubmissionPipeline | null;
  /** The pipeline's application. */
  application: SubmissionApplication | null;
  images: Record<ImageSequence, SubmissionImage | null>;
  config: SubmissionConfig | null;
  dataset: SubmissionDataset | null;
  baseModel: SubmissionModel | null;
  /** A task that has not succeeded is still producing the base model. */
  baseModelInProduction: boolean;
  /** The highest version in the base model's lineage. */
  lineageVersion: number | null;
  /** The early-stop rule (JSON) the pipeline's MRMS project sets for its tasks, if any. */
  projectEarlyStop: string | null;
}

export interface SubmissionUids {
  pipelineUid: string;
  imageUids: Record<ImageSequence, string>;
  configUid: string;
  datasetUid: string;
  baseModelUid: string | null;
}

/** New rows written together; each list's rows share their columns. */
export interface NewRows {
  datasets?: DatasetRecord[];
  models?: ModelRecord[];
  tasks?: TaskRecord[];
  taskSteps?: TaskStepRecord[];
  taskEvents?: Array<Omit<TaskStatusEventRecord, "id">>;
  idempotency?: IdempotencyRecord[];
  auditEvents?: AuditEventRecord[];
}

/** A status change as the status feed carries it: the event and what it is about. */
export interface TaskFeedEvent extends TaskStatusEventRecord {
  organizationUid: string;
  kind: TaskKind;
}

export interface TaskFeedQuery {
  /** Events after this id (ids only grow). */
  afterId: number;
  organizationUid?: string;
  taskUid?: string;
  limit: number;
}

export interface Database extends Stores {
  /** Runs `work` atomically: every write inside commits together or not at all. */
  transaction<T>(work: (stores: Stores) => Promise<T>): Promise<T>;
  /** Reads every row a submission names in one query. */
  readSubmission(uids: SubmissionUids): Promise<SubmissionRows>;
  /** Status changes in the order they happened, after an id: the feed behind the status stream. */
  taskFeed(query: TaskFeedQuery): Promise<TaskFeedEvent[]>;
  /** The id of the newest status change (0 when none). */
  latestTaskEventId(): Promise<number>;
  /** Inserts all of `rows` in one batch: all or nothing (ConflictError on a taken unique value). */
  insertTogether(rows: NewRows): Promise<void>;
  close(): Promise<void>;
}

/** A body received whole and held aside: no key shows it until it is committed. */
export interface StagedObject {
  readonly size: number;
  /** Makes it the object at `key`, atomically replacing any object there. Once only. */
  commit(key: string): Promise<void>;
  /** Drops it; a no-op once committed or discarded. */
  discard(): Promise<void>;
}

export interface ObjectStore {
  /** Receives `body` whole into a staging area; a body that fails or is aborted leaves nothing behind. */
  stage(body: Readable): Promise<StagedObject>;
  /** A URL that downloads the object without a credential until it expires (S3's presigned GET), where the store can make one. */
  presignDownload?(key: string, filename: string, expiresInSeconds: number): Promise<string>;
  /** NotFoundError when absent. */
  get(key: string): Promise<Readable>;
  /** Absent keys are ignored. */
  remove(key: string): Promise<void>;
}

/** Sends a webhook delivery. */
export interface WebhookSender {
  /** POSTs `body` to `url` and resolves with the status it answered; rejects when nothing answered in time. */
  post(url: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<number>;
}

export interface SecretHasher {
  hash(secret: string): Promise<string>;
  verify(secret: string, hash: string): Promise<boolean>;
}

/** What the service counts for its operator (Prometheus in production; nothing in the admin tools). */
export interface Meter {
  request(route: string, method: string, status: number, seconds: number): void;
  kubeCall(verb: string, outcome: "ok" | "failed"): void;
  /** A watch that failed and is resumed, or a list made again after its resourceVersion expired (410). */
  watchRestarted(reason: "error" | "relist"): void;
  signInFailed(reason: "invalid" | "throttled"): void;
  uploaded(bytes: number): void;
}

export interface Logger {
  debug(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

export interface IdGenerator {
  uid(): string;
  /** A random token of `bytes` bytes, hex-encoded. */
  token(bytes: number): string;
}
