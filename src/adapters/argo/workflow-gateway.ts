import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig, type V1Pod } from "@kubernetes/client-node";
import { ConflictError, NotFoundError } from "../../domain/errors.js";
import { kubeCall, type KubeObservers, type RetrySettings } from "../kubernetes/kube-calls.js";
import {
  ARGO_GROUP,
  ARGO_VERSION,
  MANAGED_BY,
  MANAGED_BY_LABEL,
  TASK_UID_LABEL,
  WORKFLOW_LABEL,
  WORKFLOWS,
  type Workflow,
  type WorkflowList,
} from "./argo-types.js";
import { credentialSecretName } from "./workflow-renderer.js";

const MERGE_PATCH = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

/**
 * Every Kubernetes call the Argo side makes, in one namespace: Workflows, the pods Argo creates
 * for them, and the per-task credential Secrets. Each call is bounded, retried and translated
 * into domain errors (kube-calls). The engine, the watcher and the log sources all use this.
 */
export class ArgoWorkflowGateway {
  private readonly custom: CustomObjectsApi;
  private readonly core: CoreV1Api;
  private readonly workflowsAt: { group: string; version: string; namespace: string; plural: string };

  constructor(
    kubeConfig: KubeConfig,
    private readonly settings: { namespace: string; retry: RetrySettings },
    private readonly observe: KubeObservers,
  ) {
    this.custom = kubeConfig.makeApiClient(CustomObjectsApi);
    this.core = kubeConfig.makeApiClient(CoreV1Api);
    this.workflowsAt = { group: ARGO_GROUP, version: ARGO_VERSION, namespace: settings.namespace, plural: WORKFLOWS };
  }

  get namespace(): string {
    return this.settings.namespace;
  }

  async createWorkflow(body: Workflow): Promise<Workflow> {
    return (await this.call("create workflow", () => this.custom.createNamespacedCustomObject({ ...this.workflowsAt, body }))) as Workflow;
  }

  async getWorkflow(name: string): Promise<Workflow> {
    return (await this.call("get workflow", () => this.custom.getNamespacedCustomObject({ ...this.workflowsAt, name }))) as Workflow;
  }

  /** The Workflows this service labelled (what the watcher's informer lists). */
  async listManagedWorkflows(): Promise<WorkflowList> {
    return (await this.call("list workflows", () =>
      this.custom.listNamespacedCustomObject({ ...this.workflowsAt, labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY}` }),
    )) as WorkflowList;
  }

  async patchWorkflow(name: string, patch: object): Promise<void> {
    await this.call("patch workflow", () =>
      this.custom.patchNamespacedCustomObject({ ...this.workflowsAt, name, body: patch }, MERGE_PATCH),
    );
  }

  async replaceWorkflow(workflow: Workflow): Promise<void> {
    await this.call("replace workflow", () =>
      this.custom.replaceNamespacedCustomObject({ ...this.workflowsAt, name: workflow.metadata.name!, body: workflow }),
    );
  }

  /** Deletes a Workflow and, through their owner references, its pods and Secret; absent is fine. */
  async deleteWorkflow(name: string): Promise<void> {
    await this.call("delete workflow", () =>
      this.custom.deleteNamespacedCustomObject({ ...this.workflowsAt, name, propagationPolicy: "Background" }),
    ).catch(ignoreNotFound);
  }

  /** The pods of a workflow, found by Argo's label (never by guessing names). */
  async podsOf(workflow: string): Promise<V1Pod[]> {
    const list = await this.call("list pods", () =>
      this.core.listNamespacedPod({ namespace: this.settings.namespace, labelSelector: `${WORKFLOW_LABEL}=${workflow}` }),
    );
    return list.items;
  }

  async deletePod(name: string): Promise<void> {
    await this.call("delete pod", () => this.core.deleteNamespacedPod({ name, namespace: this.settings.namespace })).catch(ignoreNotFound);
  }

  /**
   * Writes the task credential's Secret, owned by its Workflow (deleting the Workflow, or its TTL,
   * deletes the Secret).
   */
  async writeCredential(taskUid: string, token: string, owner: Workflow): Promise<void> {
    const name = credentialSecretName(taskUid);
    const ownership = owner.metadata.uid ? ownedBy(owner).metadata : {};
    const body = {
      apiVersion: "v1",
      kind: "Secret",
      type: "Opaque",
      metadata: {
        name,
        namespace: this.settings.namespace,
        labels: { [MANAGED_BY_LABEL]: MANAGED_BY, [TASK_UID_LABEL]: taskUid },
        ...ownership,
      },
      stringData: { token },
    };
    const create = () => this.call("create secret", () => this.core.createNamespacedSecret({ namespace: this.settings.namespace, body }));
    try {
      await create();
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      // Left by an earlier attempt (its process died before recording the run): replace it whole.
      await this.dropCredential(taskUid);
      await create();
    }
  }

  /** A build's Dockerfile; one that exists already (a repeated start) is kept: its name is its content's. */
  async createConfigMap(name: string, data: Record<string, string>): Promise<void> {
    const body = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name, namespace: this.settings.namespace, labels: { [MANAGED_BY_LABEL]: MANAGED_BY } },
      data,
    };
    await this.call("create configmap", () => this.core.createNamespacedConfigMap({ namespace: this.settings.namespace, body })).catch(
      (error: unknown) => {
        if (!(error instanceof ConflictError)) throw error;
      },
    );
  }

  /** Makes the Workflow own the ConfigMap, so it goes with the Workflow. */
  async ownConfigMap(name: string, workflow: Workflow): Promise<void> {
    if (!workflow.metadata.uid) return;
    await this.call("own configmap", () =>
      this.core.patchNamespacedConfigMap({ name, namespace: this.settings.namespace, body: ownedBy(workflow) }, MERGE_PATCH),
    );
  }

  /** The task's credential is no use once it has ended: delete it (the Workflow may stay). */
  async dropCredential(taskUid: string): Promise<void> {
    await this.call("delete secret", () =>
      this.core.deleteNamespacedSecret({ name: credentialSecretName(taskUid), namespace: this.settings.namespace }),
    ).catch(ignoreNotFound);
  }

  private call<T>(what: string, call: () => Promise<T>): Promise<T> {
    return kubeCall(what, call, this.settings.retry, this.observe);
  }
}

/** A merge patch that makes `workflow` the owner (garbage collection deletes the object with it). */
function ownedBy(workflow: Workflow) {
  const owner = {
    apiVersion: `${ARGO_GROUP}/${ARGO_VERSION}`,
    kind: "Workflow",
    name: workflow.metadata.name!,
    uid: workflow.metadata.uid!,
    blockOwnerDeletion: false,
  };
  return { metadata: { ownerReferences: [owner] } };
}

function ignoreNotFound(error: unknown): void {
  if (!(error instanceof NotFoundError)) throw error;
}
