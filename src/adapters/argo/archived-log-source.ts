import type { Readable } from "node:stream";
import { NotFoundError } from "../../domain/errors.js";
import type { LogOptions, LogRun, LogSource, LogStep } from "../../domain/logs/log-source.js";
import type { ObjectStore } from "../../domain/ports.js";
import { lastLinesOfStream } from "../../lib/lines.js";
import { isSafeObjectKey } from "../../lib/patterns.js";
import type { ArgoWorkflowGateway } from "./workflow-gateway.js";
import { nodesOf } from "./workflow-status.js";

/**
 * Logs Argo archived to the artifact repository (`archiveLogs`), read after the pods are gone:
 * the node's `main-logs` artifact key (and bucket) from the Workflow's status; when the
 * Workflow itself is gone, the default key format `<workflow>/<pod>/main.log`.
 */
export class ArchivedLogSource implements LogSource {
  readonly name = "archive";

  constructor(
    private readonly gateway: ArgoWorkflowGateway,
    private readonly storeFor: (bucket: string | undefined) => ObjectStore,
  ) {}

  async open(task: LogRun, step: LogStep, options: LogOptions): Promise<Readable> {
    if (task.engine !== "argo" || !task.workflowName) throw new NotFoundError("the task has no Workflow");
    const { key, bucket } = await this.locate(task.workflowName, step);
    // The key came from the cluster: check it before it reaches the object store.
    if (key.includes("{") || !isSafeObjectKey(key)) throw new NotFoundError(`the archived log key ${JSON.stringify(key)} is not usable`);
    const stream = await this.storeFor(bucket)
      .get(key)
      .catch((error: unknown) => {
        if (error instanceof NotFoundError) throw new NotFoundError(`no archived log at ${key}`);
        throw error;
      });
    return options.tailLines === undefined ? stream : lastLinesOfStream(stream, options.tailLines);
  }

  private async locate(workflowName: string, step: LogStep): Promise<{ key: string; bucket: string | undefined }> {
    const workflow = await this.gateway.getWorkflow(workflowName).catch((error: unknown) => {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    });
    if (!workflow) {
      if (!step.podName) throw new NotFoundError("the Workflow is gone and the step's pod is unknown");
      return { key: `${workflowName}/${step.podName}/main.log`, bucket: undefined };
    }
    const node = step.nodeId ? nodesOf(workflow)[step.nodeId] : undefined;
    const artifact = node?.outputs?.artifacts?.find((a) => a.name === "main-logs");
    if (!artifact?.s3?.key) throw new NotFoundError("the step has no archived log (yet)");
    return { key: artifact.s3.key, bucket: artifact.s3.bucket ?? workflow.status?.artifactRepositoryRef?.artifactRepository?.s3?.bucket };
  }
}
