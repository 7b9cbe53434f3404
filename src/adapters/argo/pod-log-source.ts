import { PassThrough, type Readable } from "node:stream";
import { Log, type KubeConfig } from "@kubernetes/client-node";
import { NotFoundError } from "../../domain/errors.js";
import type { LogOptions, LogRun, LogSource, LogStep } from "../../domain/logs/log-source.js";
import { NODE_ID_ANNOTATION } from "./argo-types.js";
import type { ArgoWorkflowGateway } from "./workflow-gateway.js";
import { resumingAfter } from "./kubelet-timestamps.js";

/**
 * Live logs of the `main` container, streamed from the Kubernetes API while the pod exists.
 * The pod is found by Argo's workflow label and node-id annotation, never by a guessed name.
 */
export class PodLogSource implements LogSource {
  readonly name = "pod";
  private readonly log: Log;

  constructor(
    kubeConfig: KubeConfig,
    private readonly gateway: ArgoWorkflowGateway,
  ) {
    this.log = new Log(kubeConfig);
  }

  async open(task: LogRun, step: LogStep, options: LogOptions): Promise<Readable> {
    if (task.engine !== "argo" || !task.workflowName) throw new NotFoundError("the task has no Workflow");
    if (!step.nodeId) throw new NotFoundError("the step has no pod yet");
    const pods = await this.gateway.podsOf(task.workflowName);
    const pod = pods.find((p) => p.metadata?.annotations?.[NODE_ID_ANNOTATION] === step.nodeId);
    if (!pod?.metadata?.name) throw new NotFoundError("the step's pod no longer exists");
    // With a position, lines come timestamped, so a read that resumes skips what was passed on.
    const out = options.position ? resumingAfter(options.position) : new PassThrough();
    const request = await this.log.log(this.gateway.namespace, pod.metadata.name, "main", out, {
      follow: options.follow,
      timestamps: options.position !== undefined,
      ...(options.tailLines === undefined ? {} : { tailLines: options.tailLines }),
      ...(options.sinceSeconds === undefined ? {} : { sinceSeconds: options.sinceSeconds }),
    });
    // A reader that goes away stops the upstream request.
    out.on("close", () => request.abort());
    return out;
  }
}
