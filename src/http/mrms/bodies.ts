/** The bodies MRMS's POST endpoints take (seed 000), as its clients send them: checked on arrival and shown in the OpenAPI document. */
import { Type } from "@sinclair/typebox";
import { PROJECT_STATUS_CODES } from "../../domain/registry/project-profiles.js";
import { Optional, Uid, oneOf } from "../operations/schemas.js";

/** MRMS's times: YYYYmmddHHMMSS (UTC). */
const MRMS_TIME = "^\\d{14}$";

const HistNo = Type.String({ minLength: 1, description: "the learning history number (a task uid)" });
/** MRMS sent numbers as strings; both are taken. */
const Numeric = Type.Union([Type.String({ maxLength: 64 }), Type.Number()]);
const closed = { additionalProperties: false } as const;
const StatusCode = oneOf(PROJECT_STATUS_CODES);

export const MRMS_BODIES = {
  get_sttus_cd: Type.Object({ hist_no: Optional(HistNo), learn_hist_no: Optional(HistNo) }, closed),
  status_update: Type.Object(
    {
      hist_no: HistNo,
      task_idx: Type.String({ maxLength: 64, description: "the worker's index" }),
      sttus_cd: oneOf(["5", "6", "7"] as const),
      message: Type.String({ maxLength: 100_000 }),
    },
    closed,
  ),
  eps_update: Type.Object({ eps: Numeric, hist_no: HistNo }, closed),
  learn_result_update: Type.Object(
    { result: Type.String({ maxLength: 100_000, description: "a JSON object as text" }), hist_no: HistNo },
    closed,
  ),
  time_update: Type.Object(
    { type: oneOf(["start", "end"] as const), curr_time: Type.String({ pattern: MRMS_TIME }), hist_no: HistNo },
    closed,
  ),
  model_resources: Type.Object({ learn_hist_no: HistNo, cpu: Type.Object({ percent: Numeric }, closed) }, closed),
  insert_learn_hist: Type.Object(
    {
      learn_hist_no: Uid,
      param_id: Uid,
      alg_anal_id: Type.String({ maxLength: 255 }),
      alg_id: Uid,
      dp_analysis_id: Uid,
      project_id: Uid,
      learn_sttus_cd: oneOf(["5"] as const),
      start_time: Type.String({ pattern: MRMS_TIME }),
    },
    closed,
  ),
  project_create: Type.Object(
    {
      project_id: Type.String({ minLength: 1 }),
      project_purpose_cd: Type.String({ pattern: "^\\d{1,4}$" }),
      dataset_id: Optional(Type.String({ maxLength: 255 })),
      status: StatusCode,
      start_time: Optional(Type.String({ pattern: MRMS_TIME })),
      modeling_mode: Optional(oneOf(["1", "2"] as const)),
      early_stop_param: Optional(Type.String({ maxLength: 2000, description: "an early_stop_param object as JSON text" })),
      tag: Optional(Type.String({ maxLength: 1000, description: "comma-separated" })),
    },
    closed,
  ),
  update_projects_status: Type.Object({ project_id: Type.String({ minLength: 1 }), status: StatusCode }, closed),
  model_alias_update: Type.Object({ learn_hist_no: HistNo, model_alias: Type.String({ minLength: 1 }) }, closed),
};
