import type { Database } from "../ports.js";
import type { Principal } from "../principal.js";
import type { ConfigRecord, DatasetRecord, ImageRecord, ModelRecord } from "../records.js";
import type { WithFile } from "./registry-records.js";
import type { ModelRegistry } from "./model-registry.js";
import type { RegistryService } from "./registry-service.js";

export type RunForm = "preprocessing" | "training" | "retrain" | "evaluation";

export interface RunChoices {
  /** Dataset lists by scope, under the name the original's form uses for them. */
  datasets: { key: "original_dataset" | "training_dataset"; project: WithFile<DatasetRecord>[]; application?: WithFile<DatasetRecord>[] };
  models: Record<string, WithFile<ModelRecord>[]>;
  configs: ConfigRecord[];
  images: Record<"download" | "running" | "upload", WithFile<ImageRecord>[]>;
}

/** What a pipeline's "run" form may choose from (the original's Preparer routes). */
export class PreparerService {
  constructor(private readonly deps: { db: Database; registry: RegistryService; models: ModelRegistry }) {}

  async choices(principal: Principal, form: RunForm, pipelineUid: string): Promise<RunChoices> {
    const { record: pipeline } = await this.deps.registry.getPipeline(principal, pipelineUid);
    const application = (await this.deps.db.applications.find(pipeline.applicationUid))!;
    const datasets = async (scope: "project" | "application", type: string) => {
      const parent = scope === "project" ? { projectUid: application.projectUid } : { applicationUid: application.uid };
      const rows = await this.deps.db.datasets.list({ scope, type, status: "available", ...parent });
      return Promise.all(rows.map((r) => this.deps.registry.withFile(r)));
    };
    const models = async (type?: string) => {
      const rows = await this.deps.models.usable(
        await this.deps.db.models.list({ applicationUid: application.uid, ...(type ? { type } : {}) }),
      );
      return Promise.all(rows.map((r) => this.deps.registry.withFile(r)));
    };
    const images = await this.deps.db.images.list({ pipelineUid: pipeline.uid });
    const withFiles = await Promise.all(images.map((r) => this.deps.registry.withFile(r)));
    const common = {
      configs: await this.deps.db.configs.list({ pipelineUid: pipeline.uid }),
      images: {
        download: withFiles.filter((i) => i.record.sequence === "download"),
        running: withFiles.filter((i) => i.record.sequence === "running"),
        upload: withFiles.filter((i) => i.record.sequence === "upload"),
      },
    };
    switch (form) {
      case "preprocessing":
        return {
          ...common,
          datasets: {
            key: "original_dataset",
            project: await datasets("project", "original"),
            application: await datasets("application", "original"),
          },
          models: {},
        };
      case "training":
        return { ...common, datasets: { key: "training_dataset", project: await datasets("project", "training") }, models: {} };
      case "retrain":
        return {
          ...common,
          datasets: {
            key: "training_dataset",
            project: await datasets("project", "training"),
            application: await datasets("application", "optimization"),
          },
          models: { retrain_pretrain_model: await models("default"), tuning_pretrain_model: await models("agent") },
        };
      case "evaluation":
        return {
          ...common,
          datasets: {
            key: "training_dataset",
            project: await datasets("project", "training"),
            application: await datasets("application", "optimization"),
          },
          models: { pretrain_model: await models() },
        };
    }
  }
}
