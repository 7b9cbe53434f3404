/** Stored shapes, as the domain sees them. Adapters map their rows to exactly these. */
import type { Role } from "./principal.js";

interface Owned {
  uid: string;
  createdAt: Date;
  organizationUid: string;
}
interface Described extends Owned {
  name: string;
  description: string;
}

export interface OrganizationRecord {
  uid: string;
  name: string;
  createdAt: Date;
}
export interface UserRecord {
  uid: string;
  accessKey: string;
  secretHash: string;
  secretVersion: number;
  role: Role;
  revokedAt: Date | null;
  /** Sign-in throttles that started before this no longer hold. */
  unlockedAt: Date | null;
  createdAt: Date;
  organizationUid: string;
}
/** A browser session: `uid` is the sha256 of the cookie's token (the token itself is never stored). */
export interface SessionRecord {
  uid: string;
  userUid: string;
  /** The user's secret version when it was opened: a rotation or revocation ends it. */
  secretVersion: number;
  createdAt: Date;
  lastSeenAt: Date;
  /** The absolute end, however active the session is. */
  expiresAt: Date;
}
export interface StoredFileRecord {
  uid: string;
  storageKey: string;
  extension: string;
  size: number;
  createdAt: Date;
}
export type ProjectRecord = Described;
export interface ApplicationRecord extends Described {
  projectUid: string;
}
export const PIPELINE_TYPES = ["preprocessing", "training", "retrain", "tuning", "evaluation"] as const;
export type PipelineType = (typeof PIPELINE_TYPES)[number];
export interface PipelineRecord extends Described {
  type: PipelineType;
  applicationUid: string;
  fileUid: string;
}
export type DatasetScope = "project" | "application";
export interface DatasetRecord extends Described {
  scope: DatasetScope;
  type: string;
  status: "available" | "unavailable";
  projectUid: string | null;
  applicationUid: string | null;
  fileUid: string | null;
  extension: string;
}
export interface ConfigRecord extends Described {
  /** JSON text of an object. */
  data: string;
  pipelineUid: string;
}
export const IMAGE_SEQUENCES = ["download", "running", "upload"] as const;
export type ImageSequence = (typeof IMAGE_SEQUENCES)[number];
export interface ImageRecord extends Described {
  sequence: ImageSequence;
  pipelineUid: string;
  fileUid: string;
  /** An image the user named: it runs as it is, nothing is built. */
  reference: string | null;
  /** The build of its Dockerfile, when one is needed. */
  buildUid: string | null;
  /** A download or upload build file that asks to run its own image instead of the built-in step. */
  ownImage: boolean;
}
type BuildState = "building" | "ready" | "failed";
/** One build per distinct Dockerfile: `uid` is the sha256 of its content. */
export interface ImageBuildRecord {
  uid: string;
  createdAt: Date;
  state: BuildState;
  /** Where the image is pushed (`<registry>/...:<content digest>`). */
  reference: string;
  /** The pushed manifest's digest, once built. */
  imageDigest: string | null;
  attempt: number;
  workflowName: string | null;
  nodeId: string | null;
  podName: string | null;
  message: string;
  finishedAt: Date | null;
}
export const MODEL_STATUSES = ["unavailable", "unpublish", "publish"] as const;
export type ModelStatus = (typeof MODEL_STATUSES)[number];
export interface ModelRecord extends Described {
  type: string;
  inputFormat: string;
  outputFormat: string;
  status: ModelStatus;
  version: number;
  accuracy: number | null;
  accessToken: string;
  source: string | null;
  applicationUid: string;
  agentUid: string | null;
  fileUid: string | null;
  extension: string;
  /** A user's mark on a model worth keeping an eye on (MRMS bookmark). */
  bookmarked: boolean;
}

/** A deployment-platform site of an organization; applications are linked to it. */
export interface AgentRecord extends Described {
  /** What the agent presents to activate itself; shown to its organization (the original's dashboard lists it). */
  activationToken: string;
}
export interface ApplicationAgentLinkRecord extends Owned {
  applicationUid: string;
  agentUid: string;
}
/** An inference template: the code an agent runs a model with, one per model. */
export interface InferenceTemplateRecord extends Described {
  type: string;
  modelUid: string;
  fileUid: string;
  extension: string;
}
/** Raw data an application's agents collected, kept for later datasets. */
export interface RawDataRecord extends Described {
  applicationUid: string;
  fileUid: string;
  extension: string;
}

export const TASK_STATUSES = ["init", "pending", "running", "success", "fail", "init error"] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];
export const ACTIVE_TASK_STATUSES: readonly TaskStatus[] = ["init", "pending", "running"];
export const FINAL_TASK_STATUSES: readonly TaskStatus[] = ["success", "fail", "init error"];
/** The ended statuses a retry may reopen. */
export const FAILED_TASK_STATUSES: readonly TaskStatus[] = ["fail", "init error"];
export type ExecuteStep = "prepare_file" | "generate_file" | "execute_pipeline" | "run_task";
export type TaskKind = "preprocessing" | "training" | "optimization" | "evaluation";

export interface TaskRecord extends Described {
  kind: TaskKind;
  status: TaskStatus;
  executeStep: ExecuteStep;
  statusMessage: string;
  updatedAt: Date;
  finishedAt: Date | null;
  createdByUid: string;
  pipelineUid: string;
  downloadImageUid: string;
  runningImageUid: string;
  uploadImageUid: string;
  configUid: string;
  datasetUid: string;
  baseModelUid: string | null;
  outputDatasetUid: string | null;
  outputModelUid: string | null;
  resources: string;
  engine: string;
  workflowName: string | null;
  workflowUid: string | null;
  resubmittedFrom: string | null;
  stepTokenHash: string | null;
  stepTokenExpires: Date | null;
  /** Raised by each retry of the same run: an engine's report of an earlier attempt is stale. */
  attempt: number;
  /** JSON object of reported metrics. */
  metrics: string;
  /** JSON: per metric key its latest and best point and count, and the early stop that fired. */
  metricSummary: string;
  /** JSON early-stop rule, or "" for none. */
  earlyStop: string;
}

export interface TaskStepRecord {
  taskUid: string;
  name: string;
  sequence: string;
  phase: string;
  startedAt: Date | null;
  finishedAt: Date | null;
  exitCode: number | null;
  message: string;
  resources: string;
  nodeId: string | null;
  podName: string | null;
}

export interface TaskStatusEventRecord {
  id: number;
  taskUid: string;
  status: TaskStatus;
  executeStep: ExecuteStep;
  message: string;
  at: Date;
}

/** An endpoint told of an organization's task status changes; `events` are names like `task.success` or `task.*`. */
export interface WebhookRecord {
  uid: string;
  organizationUid: string;
  url: string;
  events: string[];
  /** The HMAC key its deliveries are signed with. */
  secret: string;
  enabled: boolean;
  consecutiveFailures: number;
  disabledAt: Date | null;
  /** The last status event turned into deliveries. */
  lastEventId: number;
  createdByUid: string;
  createdAt: Date;
}

export const DELIVERY_STATUSES = ["pending", "delivered", "failed"] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** One event for one webhook: sent until it succeeds or runs out of attempts. */
export interface WebhookDeliveryRecord {
  uid: string;
  webhookUid: string;
  eventId: number;
  event: string;
  /** The JSON body, fixed when the event is recorded so every attempt sends the same bytes. */
  payload: string;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: Date;
  claimedUntil: Date | null;
  lastStatusCode: number | null;
  lastError: string;
  deliveredAt: Date | null;
  createdAt: Date;
}

/** One audited action: who (a user, or the admin CLI) did what to which record. */
export interface AuditEventRecord {
  uid: string;
  action: string;
  actorUid: string;
  actorAccessKey: string;
  subjectUid: string;
  organizationUid: string | null;
  /** JSON; never a secret. */
  details: string;
  createdAt: Date;
}

export const API_KEY_PURPOSES = ["read", "retrain", "submit"] as const;
/** What a key may do: `read`; `retrain` also retrains (optimization); `submit` also runs any task. */
export type ApiKeyPurpose = (typeof API_KEY_PURPOSES)[number];

export interface ApiKeyRecord {
  uid: string;
  userUid: string;
  name: string;
  purpose: ApiKeyPurpose;
  /** Set: the key reaches only this model's retrain jobs. */
  modelUid: string | null;
  /** sha256 of the key (hex). */
  keyHash: string;
  prefix: string;
  expiresAt: Date | null;
  revokedAt: Date | null;
  createdAt: Date;
}

/** One reported value of a task's metric at a training step. */
export interface MetricPointRecord {
  id: number;
  taskUid: string;
  stepName: string;
  key: string;
  value: number;
  stepIndex: number;
  at: Date;
}

/** A name pointing at one model of an application; `selected` is the application's selected model. */
export interface ModelAliasRecord {
  applicationUid: string;
  alias: string;
  modelUid: string;
  updatedAt: Date;
  updatedByUid: string;
}

export interface ModelAliasMoveRecord {
  id: number;
  applicationUid: string;
  alias: string;
  /** null: the alias was removed. */
  modelUid: string | null;
  previousModelUid: string | null;
  byUid: string;
  at: Date;
}

/** What MRMS keeps about a project (seed 000): `uid` is the project's. */
export interface ProjectProfileRecord {
  uid: string;
  /** project_purpose_cd: 1 classification, 10 trend analysis. */
  purposeCode: string;
  /** The dataset (or data analysis) it names, as given. */
  datasetId: string;
  /** MRMS's upload and data-analysis status code, 1 to 9. */
  statusCode: string;
  startTime: Date | null;
  endTime: Date | null;
  /** modeling_mode: 1 basic, 2 retraining. */
  modelingMode: string;
  /** JSON early-stop rule the project's tasks inherit, or "". */
  earlyStop: string;
  /** Comma-separated. */
  tags: string;
  createdAt: Date;
}

/** A Prediction One retrain job: waits for its data, then is the optimization task of the same uid. */
export interface RetrainJobRecord {
  uid: string;
  organizationUid: string;
  createdByUid: string;
  apiKeyUid: string | null;
  baseModelUid: string;
  /** The task whose pipeline, config, images and resources the retrain repeats. */
  templateTaskUid: string;
  /** Set once the data landed (and the task exists). */
  datasetUid: string | null;
  expiresAt: Date;
  createdAt: Date;
}
