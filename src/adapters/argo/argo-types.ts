/** Partial Argo and Kubernetes types: only the fields this service writes or reads. */

export const ARGO_GROUP = "argoproj.io";
export const ARGO_VERSION = "v1alpha1";
export const WORKFLOWS = "workflows";

/** Labels this service puts on its Workflows (and selects them by). */
export const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
export const MANAGED_BY = "argo-entrypoint";
export const TASK_UID_LABEL = "argo-entrypoint.io/task-uid";
export const TASK_KIND_LABEL = "argo-entrypoint.io/task-kind";
/** The task's attempt a Workflow's state belongs to (a retry raises it in the same PUT that restarts the run). */
export const TASK_ATTEMPT_ANNOTATION = "argo-entrypoint.io/task-attempt";

/** Labels and annotations Argo puts on Workflows and pods (argo.md §3, §12). */
export const COMPLETED_LABEL = "workflows.argoproj.io/completed";
export const WORKFLOW_LABEL = "workflows.argoproj.io/workflow";
export const NODE_ID_ANNOTATION = "workflows.argoproj.io/node-id";

interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: Array<{ apiVersion: string; kind: string; name: string; uid: string; blockOwnerDeletion?: boolean }>;
}

export interface Parameter {
  name: string;
  value?: string;
}

interface S3Location {
  key?: string;
  bucket?: string;
  endpoint?: string;
  insecure?: boolean;
}

interface ArtifactStatus {
  name: string;
  s3?: S3Location;
}

export interface NodeStatus {
  id: string;
  name: string;
  displayName?: string;
  type: string;
  templateName?: string;
  templateRef?: { name?: string; template?: string };
  phase?: string;
  message?: string;
  startedAt?: string | null;
  finishedAt?: string | null;
  children?: string[];
  outboundNodes?: string[];
  boundaryID?: string;
  resourcesDuration?: Record<string, number>;
  outputs?: { exitCode?: string; artifacts?: ArtifactStatus[]; parameters?: Parameter[] };
  nodeFlag?: { retried?: boolean; hooked?: boolean };
}

export interface Workflow {
  apiVersion: string;
  kind: "Workflow";
  metadata: ObjectMeta;
  spec: { workflowTemplateRef?: { name: string }; arguments?: { parameters?: Parameter[] }; shutdown?: string; [field: string]: unknown };
  status?: {
    phase?: string;
    message?: string;
    startedAt?: string | null;
    finishedAt?: string | null;
    nodes?: Record<string, NodeStatus>;
    /** gzip + base64 JSON of `nodes`, when the controller compressed them. */
    compressedNodes?: string;
    offloadNodeStatusVersion?: string;
    artifactRepositoryRef?: { artifactRepository?: { s3?: S3Location & { bucket?: string }; archiveLogs?: boolean } };
    conditions?: Array<{ type: string; status: string }>;
    [field: string]: unknown;
  };
}

export interface WorkflowList {
  metadata: { resourceVersion?: string };
  items: Workflow[];
}
