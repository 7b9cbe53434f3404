/** Registers what a task needs through the HTTP API, with plain fetch (benchmarks run outside jest). */
import { readFileSync } from "node:fs";

const API = "/api/v1.2.4/entrypoint/Router/parse";

export interface BenchWorld {
  credentials: { access_key: string; secret_key: string };
  trainingBody: Record<string, unknown>;
}

export async function registerTrainingWorld(
  baseUrl: string,
  credentials: { access_key: string; secret_key: string },
  program: { content: string; extension: string },
  /** A prebuilt image for the running step (Argo), so tasks do not wait for image builds. */
  runningImage?: string,
): Promise<BenchWorld> {
  const json = async (key: string, body: Record<string, unknown>) => {
    const response = await fetch(`${baseUrl}${API}/${key}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ ...credentials, ...body }),
    });
    if (!response.ok) throw new Error(`${key}: ${response.status} ${await response.text()}`);
    return ((await response.json()) as { data: { uid: string } }).data.uid;
  };
  const form = async (key: string, fields: Record<string, string>, file: Buffer | string) => {
    const data = new FormData();
    for (const [name, value] of Object.entries({ ...credentials, ...fields })) data.append(name, value);
    data.append("file", new Blob([typeof file === "string" ? file : new Uint8Array(file)]), "upload");
    const response = await fetch(`${baseUrl}${API}/${key}`, { method: "POST", body: data });
    if (!response.ok) throw new Error(`${key}: ${response.status} ${await response.text()}`);
    return ((await response.json()) as { data: { uid: string } }).data.uid;
  };
  const project = await json("9Q1lCs56iud4oPcS", { name: "bench" });
  const application = await json("iGXyNAx4Kp3DrosK", { application_name: "bench", f_project_uid: project });
  const dataset = await form(
    "OFbaCJE62lcPVbZj",
    { name: "d", type: "training", f_project_uid: project, extension: "zip" },
    readFileSync("examples/dataset.zip"),
  );
  const pipeline = await form(
    "FgdSO4ryg2UA2APl",
    { name: "p", type: "training", f_application_uid: application, extension: program.extension },
    program.content,
  );
  const config = await json("42XzWaxjE6dKA9mZ", { name: "c", data: { epochs: 1 }, f_pipeline_uid: pipeline });
  const images: Record<string, string> = {};
  for (const sequence of ["download", "running", "upload"])
    images[`${sequence}_uid`] = await form(
      "lwO7afcqdKtKEAhb",
      {
        name: sequence,
        sequence,
        f_pipeline_uid: pipeline,
        ...(runningImage && sequence === "running" ? { image_reference: runningImage } : {}),
      },
      "FROM scratch",
    );
  return {
    credentials,
    trainingBody: {
      ...credentials,
      task_name: "bench",
      task_description: "",
      pipeline_uid: pipeline,
      dataset_uid: dataset,
      type: "project",
      config_uid: config,
      image_uid: images,
      model_name: "m",
      model_type: "default",
      model_input_format: "f",
      model_output_format: "f",
      model_file_extension: "zip",
    },
  };
}
