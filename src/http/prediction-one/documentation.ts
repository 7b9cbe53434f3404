/** The Prediction One routes as the OpenAPI document shows them (held to the router by a test). */
import type { Surface } from "../openapi/surface-routes.js";

const json = (description: string) => ({
  kind: "json" as const,
  description: `${description}; a refusal is a 400 {code: 4001000204, error: "PREDA_EXTERNAL_BAD_REQUEST", message}`,
});

export const PREDICTION_ONE_SURFACE: Surface = {
  name: "Prediction One",
  description:
    "Prediction One's train and retrain APIs (seeds 002, 004) with x-api-key: a training task is an external_process_id, an optimization task a retrain_job_id.",
  routes: [
    {
      method: "get",
      path: "/v1/external/models/results",
      summary: "Train Status Check",
      caller: "api-key",
      query: { external_process_id: { required: true, description: "the training task" } },
      answer: json("{status, created_datetime, updated_datetime, result_url}"),
    },
    {
      method: "post",
      path: "/v1/external/retrain_jobs",
      summary: "Get retrain job dataset upload url",
      caller: "api-key",
      query: { model_uid: { required: false, description: "the model to retrain, when the key is not a model's" } },
      answer: json("{retrain_job_id, upload_url, expires_datetime, metadata}"),
    },
    {
      method: "put",
      path: "/v1/external/retrain_uploads/{token}",
      summary: "Retrain Data Upload (the upload_url)",
      caller: "signed-url",
      query: { extension: { required: false, description: "the data's file extension (csv)" } },
      body: "binary",
      answer: { kind: "json", description: "{status, metadata}; the retrain has started" },
    },
    {
      method: "get",
      path: "/v1/external/retrain_jobs/{retrain_job_id}",
      summary: "Retrain Status Check",
      caller: "api-key",
      answer: json("{status, model_id, message, download_url, metadata}"),
    },
    {
      method: "put",
      path: "/v1/external/retrain_jobs/{retrain_job_id}/update_model",
      summary: "Retrain Model Switch",
      caller: "api-key",
      answer: json("{status: model_switched, model_id, metadata}"),
    },
  ],
};
