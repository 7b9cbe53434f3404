/** A project's MRMS fields (added; MRMS's project_create and get_projects_info serve the same) and Prediction One's retrain jobs. */
import { Type } from "@sinclair/typebox";
import type { ProjectProfileRecord } from "../../domain/records.js";
import { PROJECT_STATUS_CODES, type ProjectProfiles } from "../../domain/registry/project-profiles.js";
import type { EarlyStopRule } from "../../domain/tasks/metric-history.js";
import type { RetrainJobs } from "../../domain/tasks/retrain-jobs.js";
import type { Presenter } from "../shared/presenters.js";
import { EarlyStopParam, earlyStopRule } from "./early-stop.js";
import { CREATED, RETRIEVED, UPDATED } from "./messages.js";
import { operation, record } from "./operation.js";
import { Optional, Uid, oneOf } from "./schemas.js";

export function projectProfileOperations(deps: { profiles: ProjectProfiles; retrainJobs: RetrainJobs; present: Presenter }) {
  const { present } = deps;
  const profile = (p: ProjectProfileRecord) => ({
    project_uid: p.uid,
    purpose_code: p.purposeCode,
    dataset_id: p.datasetId,
    status_code: p.statusCode,
    start_time: present.time(p.startTime),
    end_time: present.time(p.endTime),
    modeling_mode: p.modelingMode,
    early_stop: p.earlyStop ? (JSON.parse(p.earlyStop) as EarlyStopRule) : null,
    tags: p.tags ? p.tags.split(",") : [],
  });
  return {
    setProfile: operation({
      id: "projects.set-profile",
      rest: [{ method: "post", path: "/projects/{uid}/profile", params: { uid: "project_uid" } }],
      summary: "Project profile set (added; MRMS's purpose, status code, modeling mode, early stop and tags)",
      mitlabKey: "Pp1sEt5PrF7xQz2m",
      body: Type.Object(
        {
          project_uid: Uid,
          purpose_code: Type.String({ pattern: "^\\d{1,4}$" }),
          dataset_id: Optional(Type.String({ maxLength: 255 })),
          status_code: oneOf(PROJECT_STATUS_CODES),
          start_time: Optional(Type.String({ format: "date-time" })),
          modeling_mode: Optional(oneOf(["1", "2"] as const)),
          early_stop_param: Optional(EarlyStopParam),
          tags: Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64, pattern: "^[^,]+$" }), { maxItems: 50 })),
        },
        { additionalProperties: false },
      ),
      fields: { projectUid: "project_uid" },
      handle: async ({ principal, body }) =>
        record(
          UPDATED,
          profile(
            await deps.profiles.describe(
              principal,
              {
                projectUid: body.project_uid,
                purposeCode: body.purpose_code,
                datasetId: body.dataset_id ?? "",
                statusCode: body.status_code,
                startTime: body.start_time ? new Date(body.start_time) : null,
                modelingMode: body.modeling_mode ?? "1",
                earlyStop: earlyStopRule(body.early_stop_param),
                tags: body.tags ?? [],
              },
              { createProject: false },
            ),
          ),
        ),
    }),
    getProfile: operation({
      id: "projects.profile",
      rest: [{ method: "get", path: "/projects/{uid}/profile", params: { uid: "project_uid" } }],
      apiKey: "read",
      summary: "Project profile (added)",
      mitlabKey: "Pp2gEt9PrF3wRt6n",
      body: Type.Object({ project_uid: Uid }, { additionalProperties: false }),
      fields: { projectUid: "project_uid" },
      handle: async ({ principal, body }) => record(RETRIEVED, profile(await deps.profiles.get(principal, body.project_uid))),
    }),
    createRetrainJob: operation({
      id: "models.create-retrain-job",
      rest: [{ method: "post", path: "/models/{uid}/retrain-jobs", params: { uid: "model_uid" } }],
      apiKey: "retrain",
      summary: "Retrain job create (added; Prediction One's: PUT the data to upload_path and the retrain starts)",
      mitlabKey: "Rj1cRt4JoB8yUv5k",
      body: Type.Object({ model_uid: Uid }, { additionalProperties: false }),
      fields: { modelUid: "model_uid" },
      handle: async ({ principal, body }) => {
        const { job, uploadToken } = await deps.retrainJobs.create(principal, body.model_uid);
        return record(
          CREATED,
          {
            retrain_job_id: job.uid,
            model_uid: job.baseModelUid,
            upload_path: `/v1/external/retrain_uploads/${uploadToken}`,
            expires_time: present.time(job.expiresAt),
          },
          { created: true },
        );
      },
    }),
  };
}
