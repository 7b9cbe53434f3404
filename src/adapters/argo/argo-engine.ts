import { ConflictError } from "../../domain/errors.js";
import type { TaskRecord } from "../../domain/records.js";
import type { ShutdownStrategy, TaskEngine, TaskPlan } from "../../domain/tasks/task-engine.js";
import { COMPLETED_LABEL, NODE_ID_ANNOTATION, TASK_ATTEMPT_ANNOTATION, type NodeStatus, type Workflow } from "./argo-types.js";
import type { ArgoWorkflowGateway } from "./workflow-gateway.js";
import { renderWorkflow, workflowName, type RenderSettings } from "./workflow-renderer.js";
import { nodesOf } from "./workflow-status.js";

const RERUN_PHASES = new Set(["Failed", "Error"]);
const POD_TYPES = new Set(["Pod", "Container", "HTTP", "Plugin"]);

export interface ArgoEngineSettings extends Omit<RenderSettings, "stepApiUrl"> {
  stepApiUrl: () => string;
}

/**
 * Runs tasks as Argo Workflows. The step credential lives in a per-task Secret (created before
 * the Workflow, owned by it, deleted when the task ends); the Workflow name derives from the
 * task uid, so a repeated submission is a no-op.
 */
export class ArgoEngine implements TaskEngine {
  readonly name = "argo";

  constructor(
    private readonly gateway: ArgoWorkflowGateway,
    private readonly settings: ArgoEngineSettings,
  ) {}

  /**
   * Two calls: the Workflow, then its credential Secret owned by it. The pods' Secret volume and
   * env wait for it: the kubelet retries a pod whose Secret is missing until it exists.
   */
  async submit(plan: TaskPlan): Promise<{ runName: string; runUid: string | null }> {
    // An earlier attempt's Secret would be read by the new pods before ours replaced it.
    if (!plan.firstAttempt) await this.gateway.dropCredential(plan.task.uid);
    const body = renderWorkflow(plan, { ...this.settings, stepApiUrl: this.settings.stepApiUrl() });
    let workflow: Workflow;
    try {
      workflow = await this.gateway.createWorkflow(body);
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      // Created before (a retried request, or a crash before we recorded it): adopt it.
      workflow = await this.gateway.getWorkflow(body.metadata.name!);
    }
    await this.gateway.writeCredential(plan.task.uid, plan.stepToken, workflow);
    return { runName: workflow.metadata.name!, runUid: workflow.metadata.uid ?? null };
  }

  async shutdown(task: TaskRecord, strategy: ShutdownStrategy): Promise<void> {
    const name = task.workflowName ?? workflowName(task.uid);
    const workflow = await this.gateway.getWorkflow(name);
    if (workflow.metadata.labels?.[COMPLETED_LABEL] === "true") throw new ConflictError("cannot shutdown a completed workflow");
    await this.gateway.patchWorkflow(name, { spec: { shutdown: strategy } });
  }

  /**
   * Argo's retry (argo.md §7), done as its server does: reset the failed pod nodes (and what
   * is below them) and their ancestors, clear completion and shutdown, delete the pods that
   * will run again (new pods take the same names), then write the same Workflow back.
   */
  async retry(plan: TaskPlan): Promise<void> {
    const name = plan.task.workflowName ?? workflowName(plan.task.uid);
    const workflow = await this.gateway.getWorkflow(name);
    // The Secret was deleted when the task failed: the new one belongs to the Workflow again.
    await this.gateway.writeCredential(plan.task.uid, plan.stepToken, workflow);
    const nodes = nodesOf(workflow);
    const removed = new Set<string>();
    const remove = (id: string) => {
      if (removed.has(id)) return;
      removed.add(id);
      for (const child of nodes[id]?.children ?? []) remove(child);
    };
    Object.values(nodes)
      .filter((n) => POD_TYPES.has(n.type) && RERUN_PHASES.has(n.phase ?? ""))
      .forEach((n) => remove(n.id));
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
    const annotations = { ...workflow.metadata.annotations, [TASK_ATTEMPT_ANNOTATION]: String(plan.task.attempt) };
    delete labels[COMPLETED_LABEL];
    delete labels["workflows.argoproj.io/workflow-archiving-status"];
    const spec = { ...workflow.spec };
    delete spec.shutdown;
    const status = { ...workflow.status, phase: "", message: "", startedAt: now, finishedAt: null, nodes: kept };
    delete status.compressedNodes;
    status.conditions = (workflow.status?.conditions ?? []).map((c) => (c.type === "Completed" ? { ...c, status: "False" } : c));

    try {
      for (const pod of await this.gateway.podsOf(name)) {
        if (removed.has(pod.metadata?.annotations?.[NODE_ID_ANNOTATION] ?? "")) await this.gateway.deletePod(pod.metadata!.name!);
      }
      await this.gateway.replaceWorkflow({ ...workflow, metadata: { ...workflow.metadata, labels, annotations }, spec, status });
    } catch (error) {
      // The run did not restart, so the task reads failed again: its new credential must not linger.
      await this.gateway.dropCredential(plan.task.uid).catch(() => undefined);
      throw error;
    }
  }

  async remove(task: TaskRecord): Promise<void> {
    await this.gateway.deleteWorkflow(task.workflowName ?? workflowName(task.uid));
    await this.gateway.dropCredential(task.uid);
  }
}
