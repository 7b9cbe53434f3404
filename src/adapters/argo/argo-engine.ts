import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig, type V1Pod } from "@kubernetes/client-node";
import { ConflictError, NotFoundError } from "../../domain/errors.js";
import type { Logger } from "../../domain/ports.js";
import type { TaskRecord } from "../../domain/records.js";
import type { ShutdownStrategy, TaskEngine, TaskPlan } from "../../domain/tasks/task-engine.js";
import {
  ARGO_GROUP, ARGO_VERSION, COMPLETED_LABEL, NODE_ID_ANNOTATION, WORKFLOW_LABEL, WORKFLOWS, type NodeStatus, type Workflow,
} from "./argo-types.js";
import { kubeCall, type RetrySettings } from "./kube-calls.js";
import { credentialSecretName, renderWorkflow, workflowName, type RenderSettings } from "./workflow-renderer.js";
import { nodesOf } from "./workflow-status.js";

const MERGE_PATCH = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
const RERUN_PHASES = new Set(["Failed", "Error"]);
const POD_TYPES = new Set(["Pod", "Container", "HTTP", "Plugin"]);

export interface ArgoEngineSettings extends Omit<RenderSettings, "stepApiUrl"> {
  stepApiUrl: () => string;
  retry: RetrySettings;
}

/**
 * Runs tasks as Argo Workflows through the Kubernetes API. The step credential lives in a
 * per-task Secret (created before the Workflow, owned by it, deleted when the task ends); the
 * Workflow name derives from the task uid, so a repeated submission is a no-op.
 */
export class ArgoEngine implements TaskEngine {
  readonly name = "argo";
  private readonly custom: CustomObjectsApi;
  private readonly core: CoreV1Api;

  constructor(kubeConfig: KubeConfig, private readonly settings: ArgoEngineSettings, private readonly logger: Logger) {
    this.custom = kubeConfig.makeApiClient(CustomObjectsApi);
    this.core = kubeConfig.makeApiClient(CoreV1Api);
  }

  async submit(plan: TaskPlan): Promise<{ runName: string; runUid: string | null }> {
    await this.writeCredential(plan.task.uid, plan.stepToken);
    const body = renderWorkflow(plan, { ...this.settings, stepApiUrl: this.settings.stepApiUrl() });
    let workflow: Workflow;
    try {
      workflow = (await this.call("create workflow", () =>
        this.custom.createNamespacedCustomObject({ group: ARGO_GROUP, version: ARGO_VERSION, namespace: this.settings.namespace, plural: WORKFLOWS, body }),
      )) as Workflow;
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      // Created before (a retried request, or a crash before we recorded it): adopt it.
      workflow = await this.getWorkflow(body.metadata.name!);
    }
    await this.ownCredential(plan.task.uid, workflow);
    return { runName: workflow.metadata.name!, runUid: workflow.metadata.uid ?? null };
  }

  async shutdown(task: TaskRecord, strategy: ShutdownStrategy): Promise<void> {
    const name = task.workflowName ?? workflowName(task.uid);
    const workflow = await this.getWorkflow(name);
    if (workflow.metadata.labels?.[COMPLETED_LABEL] === "true") throw new ConflictError("cannot shutdown a completed workflow");
    await this.call("stop workflow", () =>
      this.custom.patchNamespacedCustomObject(
        { group: ARGO_GROUP, version: ARGO_VERSION, namespace: this.settings.namespace, plural: WORKFLOWS, name, body: { spec: { shutdown: strategy } } },
        MERGE_PATCH,
      ),
    );
  }

  /**
   * Argo's retry (argo.md §7), done as its server does: reset the failed pod nodes (and what
   * is below them) and their ancestors, clear completion and shutdown, delete the pods that
   * will run again (new pods take the same names), then write the same Workflow back.
   */
  async retry(plan: TaskPlan): Promise<void> {
    const name = plan.task.workflowName ?? workflowName(plan.task.uid);
    await this.writeCredential(plan.task.uid, plan.stepToken);
    const workflow = await this.getWorkflow(name);
    // The Secret was deleted when the task failed: the new one belongs to the Workflow again.
    await this.ownCredential(plan.task.uid, workflow);
    const nodes = nodesOf(workflow);
    const rerun = new Set(Object.values(nodes).filter((n) => POD_TYPES.has(n.type) && RERUN_PHASES.has(n.phase ?? "")).map((n) => n.id));
    const removed = new Set<string>();
    const remove = (id: string) => {
      if (removed.has(id)) return;
      removed.add(id);
      for (const child of nodes[id]?.children ?? []) remove(child);
    };
    rerun.forEach(remove);
    const now = new Date().toISOString();
    const kept: Record<string, NodeStatus> = {};
    for (const [id, node] of Object.entries(nodes)) {
      if (removed.has(id)) continue;
      const reset = node.phase !== "Succeeded" && node.phase !== "Skipped" && !POD_TYPES.has(node.type);
      kept[id] = {
        ...node,
        children: node.children?.filter((c) => !removed.has(c)),
        outboundNodes: node.outboundNodes?.filter((c) => !removed.has(c)),
        ...(reset ? { phase: "Running", message: "", startedAt: now, finishedAt: null } : {}),
      };
    }
    const labels = { ...workflow.metadata.labels };
    delete labels[COMPLETED_LABEL];
    delete labels["workflows.argoproj.io/workflow-archiving-status"];
    const spec = { ...workflow.spec };
    delete spec.shutdown;
    const status = { ...workflow.status, phase: "", message: "", startedAt: now, finishedAt: null, nodes: kept };
    delete status.compressedNodes;
    status.conditions = (workflow.status?.conditions ?? []).map((c) => (c.type === "Completed" ? { ...c, status: "False" } : c));

    for (const pod of await this.podsOf(name)) {
      if (removed.has(pod.metadata?.annotations?.[NODE_ID_ANNOTATION] ?? "")) {
        await this.call("delete pod", () => this.core.deleteNamespacedPod({ name: pod.metadata!.name!, namespace: this.settings.namespace })).catch((error: unknown) => {
          if (!(error instanceof NotFoundError)) throw error;
        });
      }
    }
    await this.call("retry workflow", () =>
      this.custom.replaceNamespacedCustomObject({
        group: ARGO_GROUP, version: ARGO_VERSION, namespace: this.settings.namespace, plural: WORKFLOWS, name,
        body: { ...workflow, metadata: { ...workflow.metadata, labels }, spec, status },
      }),
    );
  }

  async remove(task: TaskRecord): Promise<void> {
    const name = task.workflowName ?? workflowName(task.uid);
    await this.call("delete workflow", () =>
      this.custom.deleteNamespacedCustomObject({ group: ARGO_GROUP, version: ARGO_VERSION, namespace: this.settings.namespace, plural: WORKFLOWS, name, propagationPolicy: "Background" }),
    ).catch(ignoreNotFound);
    await this.dropCredential(task.uid);
  }

  /** The task's credential is no use once it has ended: delete it at once (the Workflow may stay). */
  async dropCredential(taskUid: string): Promise<void> {
    await this.call("delete secret", () => this.core.deleteNamespacedSecret({ name: credentialSecretName(taskUid), namespace: this.settings.namespace })).catch(ignoreNotFound);
  }

  async getWorkflow(name: string): Promise<Workflow> {
    return (await this.call("get workflow", () =>
      this.custom.getNamespacedCustomObject({ group: ARGO_GROUP, version: ARGO_VERSION, namespace: this.settings.namespace, plural: WORKFLOWS, name }),
    )) as Workflow;
  }

  /** The pods of a workflow, found by Argo's label (never by guessing names). */
  async podsOf(workflow: string): Promise<V1Pod[]> {
    const list = await this.call("list pods", () => this.core.listNamespacedPod({ namespace: this.settings.namespace, labelSelector: `${WORKFLOW_LABEL}=${workflow}` }));
    return list.items;
  }

  private async writeCredential(taskUid: string, token: string): Promise<void> {
    const name = credentialSecretName(taskUid);
    const body = {
      apiVersion: "v1", kind: "Secret", type: "Opaque",
      metadata: { name, namespace: this.settings.namespace, labels: { "app.kubernetes.io/managed-by": "argo-entrypoint", "argo-entrypoint.io/task-uid": taskUid } },
      stringData: { token },
    };
    try {
      await this.call("create secret", () => this.core.createNamespacedSecret({ namespace: this.settings.namespace, body }));
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      // It exists (a repeated submission): change only the token, keeping its owner and labels.
      await this.call("update secret", () => this.core.patchNamespacedSecret({ name, namespace: this.settings.namespace, body: { stringData: { token } } }, MERGE_PATCH));
    }
  }

  /** Makes the Workflow own the Secret, so deleting the Workflow (or its TTL) deletes the Secret too. */
  private async ownCredential(taskUid: string, workflow: Workflow): Promise<void> {
    if (!workflow.metadata.uid) return;
    const owner = { apiVersion: `${ARGO_GROUP}/${ARGO_VERSION}`, kind: "Workflow", name: workflow.metadata.name!, uid: workflow.metadata.uid, blockOwnerDeletion: false };
    await this.call("own secret", () =>
      this.core.patchNamespacedSecret({ name: credentialSecretName(taskUid), namespace: this.settings.namespace, body: { metadata: { ownerReferences: [owner] } } }, MERGE_PATCH),
    );
  }

  private call<T>(what: string, call: () => Promise<T>): Promise<T> {
    return kubeCall(what, call, this.settings.retry, this.logger);
  }
}

function ignoreNotFound(error: unknown): void {
  if (!(error instanceof NotFoundError)) throw error;
}
