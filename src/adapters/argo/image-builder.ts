import type { ImageBuilder } from "../../domain/builds/image-builds.js";
import { ConflictError } from "../../domain/errors.js";
import type { Workflow } from "./argo-types.js";
import { dockerfileConfigMapName, renderBuildWorkflow, type BuildRunSettings } from "./image-build-template.js";
import type { ArgoWorkflowGateway } from "./workflow-gateway.js";

/**
 * Image builds as Argo Workflows of the image-build template: the Dockerfile goes into a
 * ConfigMap first (the build pod mounts it), then the Workflow, which then owns the ConfigMap.
 * Each attempt has its own names, so a re-run never meets the last one's leftovers; a repeated
 * start of the same attempt adopts what exists.
 */
export class ArgoImageBuilder implements ImageBuilder {
  readonly buildsImages = true;

  constructor(
    private readonly gateway: ArgoWorkflowGateway,
    private readonly settings: BuildRunSettings,
  ) {}

  async start(request: { buildUid: string; attempt: number; dockerfile: string; reference: string }): Promise<{ runName: string }> {
    const configMap = dockerfileConfigMapName(request.buildUid, request.attempt);
    await this.gateway.createConfigMap(configMap, { Dockerfile: request.dockerfile });
    const body = renderBuildWorkflow(request, this.settings);
    let workflow: Workflow;
    try {
      workflow = await this.gateway.createWorkflow(body);
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      workflow = await this.gateway.getWorkflow(body.metadata.name!);
    }
    await this.gateway.ownConfigMap(configMap, workflow);
    return { runName: workflow.metadata.name! };
  }
}
