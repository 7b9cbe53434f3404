import { makeInformer, type Informer, type KubeConfig, type ObjectCache } from "@kubernetes/client-node";
import type { BuildProgress } from "../../domain/builds/image-builds.js";
import type { Logger, Meter } from "../../domain/ports.js";
import type { TaskRecord } from "../../domain/records.js";
import type { ProgressSink } from "../../domain/tasks/task-engine.js";
import { ARGO_GROUP, ARGO_VERSION, MANAGED_BY, MANAGED_BY_LABEL, TASK_UID_LABEL, WORKFLOWS, type Workflow } from "./argo-types.js";
import type { ArgoWorkflowGateway } from "./workflow-gateway.js";
import { workflowName } from "./workflow-renderer.js";
import { buildProgressOf, progressOf } from "./workflow-status.js";

export interface WatcherSettings {
  /** Longest pause between restarts of a failed watch. */
  maxRestartDelayMs: number;
}

/**
 * Task status by watching: one shared informer on the Workflows this service labelled. It
 * lists once, then watches from the list's resourceVersion; a watch that ends (client-node
 * aborts them after 30 s) or fails is resumed from the last resourceVersion seen, and a 410
 * Gone makes it list again. Every change becomes a progress report; no Workflow is ever polled.
 */
export class WorkflowWatcher {
  private informer: (Informer<Workflow> & ObjectCache<Workflow>) | undefined;
  private restartDelay = 100;
  private restartTimer: NodeJS.Timeout | undefined;
  private running = false;
  private initialSync: Promise<void> = Promise.resolve();

  constructor(
    private readonly kubeConfig: KubeConfig,
    private readonly settings: WatcherSettings,
    private readonly deps: {
      sink: ProgressSink;
      /** Where image builds' progress goes. */
      builds: {
        report(progress: BuildProgress): Promise<void>;
        activeRuns(): Promise<Array<{ buildUid: string; attempt: number; runName: string }>>;
      };
      gateway: ArgoWorkflowGateway;
      logger: Logger;
      meter: Meter;
      activeTasks(): Promise<TaskRecord[]>;
    },
  ) {}

  /** Starts watching, then reconciles the database with what the cluster has. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    const { gateway } = this.deps;
    const selector = `${MANAGED_BY_LABEL}=${MANAGED_BY}`;
    const path = `/apis/${ARGO_GROUP}/${ARGO_VERSION}/namespaces/${gateway.namespace}/${WORKFLOWS}`;
    let lists = 0;
    const list = () => {
      // The informer lists once at start and again whenever its resourceVersion expired (410 Gone).
      if ((lists += 1) > 1) this.deps.meter.watchRestarted("relist");
      return gateway.listManagedWorkflows();
    };
    const informer = makeInformer<Workflow>(this.kubeConfig, path, list as never, selector);
    this.informer = informer;
    informer.on("add", (wf) => void this.observe(wf));
    informer.on("update", (wf) => void this.observe(wf));
    informer.on("delete", (wf) => void this.vanished(wf));
    informer.on("connect", () => (this.restartDelay = 100));
    informer.on("error", (error) => {
      if (!this.running) return; // our own stop aborts the watch
      this.deps.logger.warn({ err: error }, "action=watch-workflows outcome=restarting");
      this.deps.meter.watchRestarted("error");
      this.scheduleRestart();
    });
    this.initialSync = informer.start().catch((error: unknown) => {
      this.deps.logger.warn({ err: error }, "action=watch-workflows outcome=start-failed");
      this.scheduleRestart();
    });
    await this.initialSync;
    await this.reconcile();
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.restartTimer);
    await this.informer?.stop();
    this.informer = undefined;
  }

  /** Tasks (and image builds) the database thinks are active whose Workflow the cluster no longer has. */
  async reconcile(): Promise<void> {
    if (!this.informer) return;
    const known = new Set(this.informer.list(this.deps.gateway.namespace).map((wf) => wf.metadata.name));
    for (const run of await this.deps.builds.activeRuns()) {
      if (known.has(run.runName) || (await this.deps.gateway.getWorkflow(run.runName).catch(() => undefined))) continue;
      await this.deps.builds.report({
        buildUid: run.buildUid,
        attempt: run.attempt,
        phase: "Error",
        message: `the build's workflow ${run.runName} no longer exists in the cluster; rebuild it`,
        nodeId: null,
        podName: null,
        imageDigest: null,
        finishedAt: new Date(),
      });
    }
    for (const task of await this.deps.activeTasks()) {
      const name = task.workflowName ?? workflowName(task.uid);
      if (known.has(name)) continue;
      const confirmed = await this.deps.gateway.getWorkflow(name).then(
        (wf) => wf,
        () => undefined,
      );
      if (confirmed) await this.observe(confirmed);
      else
        await this.deps.sink.report({
          taskUid: task.uid,
          phase: "Error",
          message: `workflow ${name} no longer exists in the cluster`,
          finishedAt: new Date(),
          steps: [],
        });
    }
  }

  private scheduleRestart(): void {
    if (!this.running || !this.informer) return;
    clearTimeout(this.restartTimer);
    const delay = this.restartDelay * (0.5 + Math.random() / 2);
    this.restartDelay = Math.min(this.restartDelay * 2, this.settings.maxRestartDelayMs);
    // The informer keeps its last resourceVersion, so a restart resumes where it stopped.
    this.restartTimer = setTimeout(() => void this.informer?.start().catch(() => this.scheduleRestart()), delay);
  }

  private async observe(workflow: Workflow): Promise<void> {
    const build = buildProgressOf(workflow);
    if (build) {
      await this.deps.builds
        .report(build)
        .catch((error: unknown) =>
          this.deps.logger.error({ err: error, workflow: workflow.metadata.name }, "action=observe-build outcome=failed"),
        );
      return;
    }
    const progress = progressOf(workflow);
    if (!progress) return;
    // The credential goes when its task ends, once (a re-list of finished Workflows deletes nothing
    // again), and before the task reads as ended: a retry then writes a new one this cannot delete.
    const dropCredential = () =>
      this.deps.gateway
        .dropCredential(progress.taskUid)
        .catch((error: unknown) => this.deps.logger.error({ err: error, task: progress.taskUid }, "action=drop-credential outcome=failed"));
    try {
      await this.deps.sink.report(progress, dropCredential);
    } catch (error) {
      this.deps.logger.error({ err: error, workflow: workflow.metadata.name }, "action=observe-workflow outcome=failed");
    }
  }

  private async vanished(workflow: Workflow): Promise<void> {
    const taskUid = workflow.metadata.labels?.[TASK_UID_LABEL];
    if (!taskUid) return;
    await this.deps.sink
      .report({ taskUid, phase: "Error", message: `workflow ${workflow.metadata.name} was deleted`, finishedAt: new Date(), steps: [] })
      .catch((error: unknown) => this.deps.logger.error({ err: error }, "action=workflow-deleted outcome=failed"));
  }
}
