/**
 * The Prediction One surface (seeds 002 and 004): Train Status Check and Retrain Status Check,
 * with `x-api-key`, their response bodies and their error table. A training task is an
 * `external_process_id`; an optimization task is a `retrain_job_id`. Its errors are its own
 * shape, mapped here once from the domain's.
 */
import express, { type Request, type Response } from "express";
import { ApiKeyRefused, permits } from "../../domain/auth/api-keys.js";
import { NotFoundError, ValidationError } from "../../domain/errors.js";
import type { RetrainJobs, RetrainJobState } from "../../domain/tasks/retrain-jobs.js";
import type { ModelAliases } from "../../domain/registry/model-aliases.js";
import type { AuditTrail } from "../../domain/audit/audit-trail.js";
import type { SignedLinks } from "../../domain/files/signed-links.js";
import type { DownloadLinks } from "../../domain/files/download-links.js";
import type { Database, ObjectStore } from "../../domain/ports.js";
import { canAccess, type Principal } from "../../domain/principal.js";
import type { TaskRecord, TaskStatus } from "../../domain/records.js";
import { describeCaller, describeRoute } from "../shared/access-log.js";
import type { RequestAuthenticator } from "../shared/authenticate.js";
import { describeError } from "../shared/errors.js";
import { boundedBody } from "../shared/multipart-body.js";
import { settleUnreadBody } from "../shared/unread-body.js";
import { UID_PATTERN } from "../../lib/patterns.js";
import { assertIdentityEncoding } from "../shared/json-body.js";

/** The code and error every documented failure carries (seed 002 and 004's tables). */
const CODE = 4001000204;
const UID = new RegExp(UID_PATTERN);
const ERROR = "PREDA_EXTERNAL_BAD_REQUEST";

class PredictionOneError extends Error {}

const TRAIN_STATUS: Record<TaskStatus, string> = {
  init: "waiting",
  pending: "waiting",
  running: "running",
  success: "finished",
  fail: "failed",
  "init error": "failed",
};
const RETRAIN_STATUS: Record<TaskStatus, string> = {
  init: "job_waiting",
  pending: "job_waiting",
  running: "job_running",
  success: "job_finished",
  fail: "job_failed",
  "init error": "job_failed",
};

export function predictionOneRouter(deps: {
  requests: RequestAuthenticator;
  db: Database;
  audit: AuditTrail;
  links: SignedLinks;
  downloads: DownloadLinks;
  aliases: ModelAliases;
  retrainJobs: RetrainJobs;
  objects: ObjectStore;
  maxUploadBytes: number;
}): express.Router {
  const router = express.Router();
  const linkTo = async (request: Request, principal: Principal, uid: string, organizationUid: string) => {
    const link = await deps.downloads.to(principal, { uid, organizationUid });
    return "url" in link ? link.url : `${request.protocol}://${request.get("host")}/api/v1/links/${link.token}`;
  };

  const handle =
    (route: string, answer: (principal: Principal, request: Request) => Promise<unknown>) =>
    async (request: Request, response: Response) => {
      describeRoute(response, route);
      try {
        const key = request.headers["x-api-key"];
        if (typeof key !== "string" || key === "") throw new PredictionOneError("invalid_api_key.");
        const principal = await deps.requests.withApiKey(key, request);
        describeCaller(response, principal.userUid);
        response.json(await answer(principal, request));
      } catch (error) {
        const message = messageOf(error);
        if (message) response.status(400).json({ code: CODE, error: ERROR, message });
        else {
          const { status, body } = describeError(error, response);
          response.status(status).json(body);
        }
      }
    };

  router.get(
    "/v1/external/models/results",
    handle("/v1/external/models/results", async (principal, request) => {
      const id = request.query.external_process_id;
      if (principal.apiKey?.modelUid) throw new PredictionOneError("Not found external process.");
      const task = await visibleTask(
        typeof id === "string" ? id : "",
        principal,
        ["training", "optimization"],
        "Not found external process.",
      );
      return {
        status: TRAIN_STATUS[task.status],
        created_datetime: task.createdAt.toISOString(),
        updated_datetime: (task.finishedAt ?? task.updatedAt).toISOString(),
        ...(task.status === "success" && task.outputModelUid
          ? { result_url: await linkTo(request, principal, task.outputModelUid, task.organizationUid) }
          : {}),
      };
    }),
  );

  // Get retrain job dataset upload url: a job for the key's model (or `model_uid`), started when its data lands.
  router.post(
    "/v1/external/retrain_jobs",
    handle("/v1/external/retrain_jobs", async (principal, request) => {
      if (principal.apiKey && !permits(principal.apiKey.purpose, "retrain"))
        throw new PredictionOneError("This API key cannot retrain models.");
      const named = request.query.model_uid;
      const modelUid = principal.apiKey?.modelUid ?? (typeof named === "string" ? named : undefined);
      if (!modelUid) throw ValidationError.field("model_uid", "is required when the API key is not a model's");
      const { job, uploadToken } = await deps.retrainJobs.create(principal, modelUid).catch((error: unknown) => {
        throw error instanceof NotFoundError ? new PredictionOneError("Not found model.") : error;
      });
      return {
        retrain_job_id: job.uid,
        upload_url: `${request.protocol}://${request.get("host")}/v1/external/retrain_uploads/${uploadToken}`,
        expires_datetime: job.expiresAt.toISOString(),
        metadata: { retrain_job_id: job.uid, model_uid: job.baseModelUid },
      };
    }),
  );

  // The upload URL: the signed link is the credential (like a presigned PUT), checked before the body is read.
  router.put("/v1/external/retrain_uploads/:token", async (request, response) => {
    describeRoute(response, "/v1/external/retrain_uploads/{token}");
    try {
      const jobUid = deps.retrainJobs.jobOfUpload(String(request.params.token));
      assertIdentityEncoding(request);
      const extension = typeof request.query.extension === "string" ? request.query.extension : "csv";
      const staged = await deps.objects.stage(boundedBody(request, deps.maxUploadBytes, "body"));
      try {
        const task = await deps.retrainJobs.receiveData(jobUid, staged, extension);
        response.json({ status: RETRAIN_STATUS[task.status], metadata: { retrain_job_id: task.uid } });
      } finally {
        await staged.discard();
      }
    } catch (error) {
      const { status, body } = describeError(error, response);
      settleUnreadBody(request, response);
      response.status(status).json(body);
    }
  });

  router.get(
    "/v1/external/retrain_jobs/:retrainJobId",
    handle("/v1/external/retrain_jobs/{retrain_job_id}", async (principal, request) => {
      const state = await retrainJob(principal, String(request.params.retrainJobId));
      if (!state.task)
        return {
          status: state.expired ? "job_failed" : "job_waiting",
          message: state.expired ? "Its upload URL expired before any data arrived." : "Waiting for its data at the upload URL.",
          metadata: { retrain_job_id: state.job.uid },
        };
      const task = state.task;
      const model = task.status === "success" && task.outputModelUid ? await deps.db.models.find(task.outputModelUid) : null;
      return {
        status: RETRAIN_STATUS[task.status],
        ...(model ? { model_id: model.version, download_url: await linkTo(request, principal, model.uid, task.organizationUid) } : {}),
        ...(task.statusMessage ? { message: task.statusMessage } : {}),
        metadata: { retrain_job_id: task.uid, ...(model ? { model_uid: model.uid } : {}) },
      };
    }),
  );

  // Retrain Model Switch: the retrained model becomes the application's selected model.
  router.put(
    "/v1/external/retrain_jobs/:retrainJobId/update_model",
    handle("/v1/external/retrain_jobs/{retrain_job_id}/update_model", async (principal, request) => {
      if (principal.apiKey && !permits(principal.apiKey.purpose, "retrain"))
        throw new PredictionOneError("This API key cannot switch models.");
      const { task } = await retrainJob(principal, String(request.params.retrainJobId));
      if (task?.status !== "success" || !task.outputModelUid) throw new PredictionOneError("The retrain job has not finished.");
      await deps.aliases.select(principal, task.outputModelUid);
      const model = await deps.db.models.find(task.outputModelUid);
      return { status: "model_switched", model_id: model?.version, metadata: { retrain_job_id: task.uid, model_uid: task.outputModelUid } };
    }),
  );

  /** A retrain job the caller may see (waiting for data, or its optimization task); a key tied to a model reaches only that model's. */
  async function retrainJob(principal: Principal, id: string): Promise<RetrainJobState> {
    const state = UID.test(id) ? await deps.retrainJobs.find(principal, id) : null;
    const scope = principal.apiKey?.modelUid;
    if (state && (!scope || (state.task ? state.task.baseModelUid : state.job.baseModelUid) === scope)) return state;
    if (!state && UID.test(id) && (await wasDeleted(principal, id))) throw new PredictionOneError("This job may be deleted.");
    throw new PredictionOneError("Not found retrain job.");
  }

  /** A task of the caller's organization of one of `kinds`. */
  async function visibleTask(uid: string, principal: Principal, kinds: string[], notFound: string): Promise<TaskRecord> {
    const task = UID.test(uid) ? await deps.db.tasks.find(uid) : null;
    if (task && canAccess(principal, task.organizationUid) && kinds.includes(task.kind)) return task;
    throw new PredictionOneError(notFound);
  }

  async function wasDeleted(principal: Principal, uid: string): Promise<boolean> {
    const deleted = await deps.audit.listAll({ subjectUid: uid, action: "task.delete" }, { limit: 1 });
    const record = deleted.items[0];
    return Boolean(record?.organizationUid && canAccess(principal, record.organizationUid));
  }

  return router;
}

/** The message of the seed's error table this failure is, if it is one. */
function messageOf(error: unknown): string | undefined {
  if (error instanceof PredictionOneError) return error.message;
  if (error instanceof ApiKeyRefused)
    return { unknown: "Not_found_credential.", inactive: "Inactive_credential.", "user-gone": "This user may be deleted." }[error.refusal];
  return undefined;
}
