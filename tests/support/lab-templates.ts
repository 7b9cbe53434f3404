/**
 * The lab's three pipeline programs in its KFP v1 template format (examples/kfp), run over HTTP
 * one after another as a user would: preprocessing on the original dataset, training on its
 * output, optimization (retrain) of the trained model. Shared by the local engine's and the Argo
 * path's tests, which must give the same results.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "@jest/globals";
import { upload } from "./registry-fixture.js";
import { registerPipeline, waitForStatus, type PipelineFixture } from "./task-fixture.js";
import { API, type TestService, type TestUser } from "./test-service.js";

const program = (name: string) => readFileSync(path.resolve("examples/kfp", name));

export interface LabTemplateRun {
  tasks: Record<"preprocessing" | "training" | "optimization", Record<string, any>>;
  trainingDataset: string;
  model: string;
  retrainedModel: string;
}

export async function runLabTemplates(service: TestService, user: TestUser): Promise<LabTemplateRun> {
  const ok = async (request: PromiseLike<{ status: number; body: any }>) => {
    const response = await request;
    expect({ status: response.status, detail: response.body.detail }).toMatchObject({ status: 200 });
    return response.body.data;
  };
  const project = (await ok(service.post("9Q1lCs56iud4oPcS", user, { name: "lab", description: "" }))).uid as string;
  const application = (await ok(service.post("iGXyNAx4Kp3DrosK", user, { application_name: "power", f_project_uid: project })))
    .uid as string;
  const original = (
    await ok(
      upload(
        service,
        "OFbaCJE62lcPVbZj",
        user,
        { name: "power-readings", description: "", type: "original", f_project_uid: project, extension: "zip" },
        { content: program("original_dataset.zip"), name: "original_dataset.zip" },
      ),
    )
  ).uid as string;
  const pipeline = (type: string, file: string, config: Record<string, unknown>): Promise<PipelineFixture> =>
    registerPipeline(service, user, application, { type, program: program(file), extension: "py", config });
  const preprocessing = await pipeline("preprocessing", "preprocessing.py", {});
  const training = await pipeline("training", "training.py", { learning_rate: 0.5, epochs: 300 });
  const retrain = await pipeline("retrain", "retrain.py", { learning_rate: 0.5, epochs: 50 });
  const common = (fixture: PipelineFixture, dataset: string) => ({
    access_key: user.accessKey,
    secret_key: user.secretKey,
    pipeline_uid: fixture.pipeline,
    dataset_uid: dataset,
    type: "project",
    config_uid: fixture.config,
    image_uid: fixture.images,
  });
  const modelFields = { model_type: "default", model_input_format: "npy", model_output_format: "json", model_file_extension: "zip" };
  const finish = async (answer: { uid: string }) => {
    const task = await waitForStatus(service, user, answer.uid, ["success", "fail", "init error"], 60_000);
    expect({ name: task.name, status: task.status, message: task.status_message }).toEqual({
      name: task.name,
      status: "success",
      message: "",
    });
    return task;
  };

  const prepared = await ok(
    service.http
      .post(`${API}/jPqyAFWh7hBKRRNK`)
      .send({
        ...common(preprocessing, original),
        task_name: "lab-preprocessing",
        dataset_name: "scaled",
        dataset_type: "training",
        dataset_file_extension: "zip",
      }),
  );
  const preprocessed = await finish(prepared);
  const trained = await finish(
    await ok(
      service.http
        .post(`${API}/q8uzMBcM5YJH6dPf`)
        .send({ ...common(training, prepared.training_dataset_uid), task_name: "lab-training", model_name: "power-model", ...modelFields }),
    ),
  );
  const retrained = await finish(
    await ok(
      service.http
        .post(`${API}/Oi6u8dkur8GTKPxS`)
        .send({
          ...common(retrain, prepared.training_dataset_uid),
          task_name: "lab-retrain",
          model_uid: trained.f_output_model_uid,
          model_name: "power-model",
          ...modelFields,
        }),
    ),
  );
  return {
    tasks: { preprocessing: preprocessed, training: trained, optimization: retrained },
    trainingDataset: prepared.training_dataset_uid,
    model: trained.f_output_model_uid,
    retrainedModel: retrained.f_output_model_uid,
  };
}

/** The members of a zip and one member's text, read with Python's zipfile (what the lab's programs use). */
export function zipMember(bytes: Buffer, member: string): { names: string[]; text: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), "zip-"));
  try {
    const file = path.join(dir, "archive.zip");
    writeFileSync(file, bytes);
    const script =
      "import json,sys,zipfile; z=zipfile.ZipFile(sys.argv[1]); print(json.dumps({'names': z.namelist(), 'text': z.read(sys.argv[2]).decode('latin1')}))";
    return JSON.parse(execFileSync("python3", ["-c", script, file, member], { encoding: "utf8" }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
