/** Records as the original API showed them: snake_case, `f_` foreign keys, offset timestamps. */
import { formatTimestamp } from "../../domain/clock.js";
import type { ModelLineage } from "../../domain/registry/model-aliases.js";
import type {
  AgentRecord,
  ModelAliasMoveRecord,
  MetricPointRecord,
  ApiKeyRecord,
  AuditEventRecord,
  ApplicationRecord,
  ConfigRecord,
  DatasetRecord,
  ImageRecord,
  InferenceTemplateRecord,
  ModelRecord,
  OrganizationRecord,
  PipelineRecord,
  ProjectRecord,
  RawDataRecord,
  StoredFileRecord,
  WebhookDeliveryRecord,
  WebhookRecord,
} from "../../domain/records.js";
import type { WithFile } from "../../domain/registry/registry-records.js";
import type { TaskView } from "../../domain/tasks/task-service.js";
import type { ImageView } from "../../domain/builds/image-builds.js";
import type { TaskRecord } from "../../domain/records.js";
import { keyDirectory } from "../../domain/registry/storage-keys.js";

/** A metric key's summary as the metric history stores it (the fields read here). */
type KeySummary = { latest: { value: number } };

/** The metric history's summary on a task: latest and best per key, the early stop that fired (if any), and what its steps reported. */
function metricSummary(t: TaskRecord) {
  const summary = JSON.parse(t.metricSummary) as {
    keys?: Record<string, KeySummary>;
    early_stop?: Record<string, unknown>;
    reported?: Record<string, unknown>;
  };
  return {
    metric_summary: summary.keys ?? {},
    // What the steps said of their own learning (MRMS status and times), beside the engine's phases and times.
    reported: summary.reported ?? {},
    early_stop: t.earlyStop ? { rule: JSON.parse(t.earlyStop) as unknown, fired: summary.early_stop ?? null } : null,
  };
}

/** Keys of the metric history that are resource reports (MRMS model_resources, a step's own). */
const RESOURCE_KEY = /^(cpu|memory|mem|gpu)[._/-]?/i;

/**
 * What the engine measured per step (Argo's resourcesDuration, the local engine's wall and CPU
 * seconds) beside the latest resource values the steps reported themselves (cpu %, memory).
 */
function resourceUsage(steps: TaskView["steps"], keys: Record<string, KeySummary>) {
  return {
    measured: Object.fromEntries(steps.map((s) => [s.name, JSON.parse(s.resources) as unknown])),
    reported: Object.fromEntries(
      Object.entries(keys).flatMap(([key, summary]) => (RESOURCE_KEY.test(key) ? [[key, summary.latest.value]] : [])),
    ),
  };
}

export class Presenter {
  constructor(private readonly offsetMinutes: number) {}

  time(date: Date | null): string | null {
    return date ? formatTimestamp(date, this.offsetMinutes) : null;
  }

  organization(o: OrganizationRecord) {
    return { uid: o.uid, created_time: this.time(o.createdAt), name: o.name };
  }

  project(p: ProjectRecord) {
    return {
      uid: p.uid,
      created_time: this.time(p.createdAt),
      name: p.name,
      description: p.description,
      f_organization_uid: p.organizationUid,
    };
  }

  application(a: ApplicationRecord) {
    return { uid: a.uid, created_time: this.time(a.createdAt), name: a.name, description: a.description, f_project_uid: a.projectUid };
  }

  file(f: StoredFileRecord | null) {
    return f
      ? { uid: f.uid, created_time: this.time(f.createdAt), path: keyDirectory(f.storageKey), extension: f.extension, size: f.size }
      : null;
  }

  pipeline({ record: p, file }: WithFile<PipelineRecord>) {
    return {
      uid: p.uid,
      created_time: this.time(p.createdAt),
      name: p.name,
      description: p.description,
      type: p.type,
      f_file_uid: this.file(file),
      f_application_uid: p.applicationUid,
    };
  }

  dataset({ record: d, file }: WithFile<DatasetRecord>) {
    return {
      uid: d.uid,
      created_time: this.time(d.createdAt),
      name: d.name,
      description: d.description,
      type: d.type,
      status: d.status,
      f_file_uid: this.file(file),
      ...(d.scope === "project" ? { f_project_uid: d.projectUid } : { f_application_uid: d.applicationUid }),
    };
  }

  config(c: ConfigRecord) {
    return {
      uid: c.uid,
      created_time: this.time(c.createdAt),
      name: c.name,
      description: c.description,
      data: JSON.parse(c.data) as unknown,
      f_pipeline_uid: c.pipelineUid,
    };
  }

  /** A build file, with its image as `ImageBuilds.viewOf` shows it. */
  image({ record: i, file }: WithFile<ImageRecord>, image: ImageView) {
    return {
      uid: i.uid,
      created_time: this.time(i.createdAt),
      name: i.name,
      description: i.description,
      sequence: i.sequence,
      image_reference: i.reference,
      own_image: i.ownImage,
      image_state: image.state,
      image_built_reference: image.reference,
      image_digest: image.digest,
      build_message: image.message,
      f_file_uid: this.file(file),
      f_pipeline_uid: i.pipelineUid,
    };
  }

  model({ record: m, file }: WithFile<ModelRecord>) {
    return {
      uid: m.uid,
      created_time: this.time(m.createdAt),
      name: m.name,
      description: m.description,
      type: m.type,
      model_input_format: m.inputFormat,
      model_output_format: m.outputFormat,
      status: m.status,
      version: m.version,
      accuracy: m.accuracy,
      access_token: m.accessToken,
      source: m.source,
      file_extension: m.extension,
      f_file_uid: this.file(file),
      f_application_uid: m.applicationUid,
      f_agent_uid: m.agentUid,
    };
  }

  agent(a: AgentRecord) {
    return {
      uid: a.uid,
      created_time: this.time(a.createdAt),
      name: a.name,
      description: a.description,
      activation_token: a.activationToken,
      f_organization_uid: a.organizationUid,
    };
  }

  inferenceTemplate({ record: t, file }: WithFile<InferenceTemplateRecord>) {
    return {
      uid: t.uid,
      created_time: this.time(t.createdAt),
      name: t.name,
      description: t.description,
      type: t.type,
      f_file_uid: this.file(file),
      f_model_uid: t.modelUid,
    };
  }

  rawData({ record: d, file }: WithFile<RawDataRecord>) {
    return {
      uid: d.uid,
      created_time: this.time(d.createdAt),
      name: d.name,
      description: d.description,
      f_file_uid: this.file(file),
      f_application_uid: d.applicationUid,
    };
  }

  /** The original's task fields, then what this service adds: lineage, run and step state. */
  task(t: TaskRecord) {
    return {
      uid: t.uid,
      created_time: this.time(t.createdAt),
      name: t.name,
      description: t.description,
      execute_step: t.executeStep,
      status: t.status,
      f_download_image_uid: t.downloadImageUid,
      f_running_image_uid: t.runningImageUid,
      f_upload_image_uid: t.uploadImageUid,
      f_pipeline_uid: t.pipelineUid,
      type: t.kind,
      status_message: t.statusMessage,
      finished_time: this.time(t.finishedAt),
      f_dataset_uid: t.datasetUid,
      f_config_uid: t.configUid,
      f_base_model_uid: t.baseModelUid,
      f_output_dataset_uid: t.outputDatasetUid,
      f_output_model_uid: t.outputModelUid,
      engine: t.engine,
      workflow_name: t.workflowName,
      resubmitted_from: t.resubmittedFrom,
      resources: JSON.parse(t.resources) as unknown,
      metrics: JSON.parse(t.metrics) as unknown,
      ...metricSummary(t),
    };
  }

  taskView(view: TaskView) {
    const task = this.task(view.task);
    return {
      ...task,
      steps: view.steps.map((s) => ({
        name: s.name,
        sequence: s.sequence,
        phase: s.phase,
        started_time: this.time(s.startedAt),
        finished_time: this.time(s.finishedAt),
        exit_code: s.exitCode,
        message: s.message,
        resources: JSON.parse(s.resources) as unknown,
        node_id: s.nodeId,
        pod_name: s.podName,
      })),
      history: view.history.map((e) => ({ status: e.status, execute_step: e.executeStep, message: e.message, time: this.time(e.at) })),
      resource_usage: resourceUsage(view.steps, task.metric_summary),
    };
  }

  /** Never its secret (the answer that creates it adds the secret once). */
  webhook(w: WebhookRecord) {
    return {
      uid: w.uid,
      created_time: this.time(w.createdAt),
      f_organization_uid: w.organizationUid,
      url: w.url,
      events: w.events,
      enabled: w.enabled,
      consecutive_failures: w.consecutiveFailures,
      disabled_time: this.time(w.disabledAt),
    };
  }

  webhookDelivery(d: WebhookDeliveryRecord) {
    return {
      uid: d.uid,
      created_time: this.time(d.createdAt),
      f_webhook_uid: d.webhookUid,
      event: d.event,
      event_id: d.eventId,
      status: d.status,
      attempts: d.attempts,
      next_attempt_time: d.status === "pending" ? this.time(d.nextAttemptAt) : null,
      last_status_code: d.lastStatusCode,
      last_error: d.lastError,
      delivered_time: this.time(d.deliveredAt),
    };
  }

  /** A model as the registry's views show it (no file or access token). */
  modelBrief(m: ModelRecord) {
    return {
      uid: m.uid,
      created_time: this.time(m.createdAt),
      name: m.name,
      version: m.version,
      status: m.status,
      accuracy: m.accuracy,
      bookmarked: m.bookmarked,
      source: m.source,
      f_application_uid: m.applicationUid,
    };
  }

  aliasMove(move: ModelAliasMoveRecord) {
    return {
      alias: move.alias,
      model_uid: move.modelUid,
      previous_model_uid: move.previousModelUid,
      by_user_uid: move.byUid,
      time: this.time(move.at),
    };
  }

  lineage(l: ModelLineage) {
    const produced = l.producedBy;
    return {
      model: this.modelBrief(l.model),
      aliases: l.aliases,
      produced_by: produced
        ? {
            task: { uid: produced.task.uid, name: produced.task.name, type: produced.task.kind, status: produced.task.status },
            dataset: produced.dataset && { uid: produced.dataset.uid, name: produced.dataset.name, type: produced.dataset.type },
            config: produced.config && { uid: produced.config.uid, name: produced.config.name },
            pipeline: produced.pipeline && { uid: produced.pipeline.uid, name: produced.pipeline.name, type: produced.pipeline.type },
          }
        : null,
      base_model: l.baseModel && this.modelBrief(l.baseModel),
      used_by: l.usedBy.map((t) => ({ uid: t.uid, name: t.name, type: t.kind, status: t.status })),
    };
  }

  metricPoint(p: MetricPointRecord) {
    return { key: p.key, value: p.value, step: p.stepIndex, step_name: p.stepName, time: this.time(p.at) };
  }

  auditEvent(e: AuditEventRecord) {
    return {
      uid: e.uid,
      created_time: this.time(e.createdAt),
      action: e.action,
      actor_uid: e.actorUid,
      actor_access_key: e.actorAccessKey,
      subject_uid: e.subjectUid,
      f_organization_uid: e.organizationUid,
      details: JSON.parse(e.details) as unknown,
    };
  }

  /** Never the key (the answer that mints it adds it once). */
  apiKey(k: ApiKeyRecord) {
    return {
      uid: k.uid,
      created_time: this.time(k.createdAt),
      name: k.name,
      purpose: k.purpose,
      model_uid: k.modelUid,
      prefix: k.prefix,
      expires_time: this.time(k.expiresAt),
      revoked_time: this.time(k.revokedAt),
    };
  }
}
