/** Run a task from a form filled with the pipeline's choices: its configs, build files, fitting datasets and models. */
import { ApiError, rest } from "../api.js";
import { field, h, replace, select } from "../dom.js";

interface Choice {
  uid: string;
  name: string;
}

const KIND_OF_PIPELINE: Record<string, string> = {
  preprocessing: "preprocessing",
  training: "training",
  retrain: "optimization",
  tuning: "optimization",
  evaluation: "evaluation",
};
/** The datasets each kind takes (scope:type). */
const INPUTS: Record<string, string[]> = {
  preprocessing: ["project:original", "application:original"],
  training: ["project:training"],
  optimization: ["project:training", "application:optimization"],
  evaluation: ["project:training", "application:optimization"],
};

export async function runPage(view: HTMLElement, [projectUid, applicationUid, pipelineUid]: string[]): Promise<void> {
  const [pipeline, configs, buildFiles, projectSets, applicationSets, models] = await Promise.all([
    rest<Choice & { type: string }>("GET", `/pipelines/${pipelineUid}`),
    rest<Choice[]>("GET", `/pipelines/${pipelineUid}/configs`),
    rest<Array<Choice & { sequence: string }>>("GET", `/pipelines/${pipelineUid}/build-files`),
    rest<Array<Choice & { type: string; status: string }>>("GET", `/projects/${projectUid}/datasets`),
    rest<Array<Choice & { type: string; status: string }>>("GET", `/applications/${applicationUid}/datasets`),
    rest<Array<Choice & { version: number | null; status: string }>>("GET", `/applications/${applicationUid}/models`),
  ]);
  const kind = KIND_OF_PIPELINE[pipeline.data.type] ?? "training";
  const datasets = [
    ...projectSets.data.map((d) => ({ ...d, scope: "project" })),
    ...applicationSets.data.map((d) => ({ ...d, scope: "application" })),
  ].filter((d) => d.status === "available" && INPUTS[kind]!.includes(`${d.scope}:${d.type}`));
  const options = (items: Choice[]) => items.map((i): [string, string] => [i.uid, i.name]);
  const name = h("input", { name: "task_name", required: true, value: `${pipeline.data.name} run` });
  const config = select("config_uid", options(configs.data));
  const images = Object.fromEntries(
    ["download", "running", "upload"].map((sequence) => [sequence, select(`${sequence}_uid`, options(buildFiles.data.filter((b) => b.sequence === sequence)))]),
  ) as Record<"download" | "running" | "upload", HTMLSelectElement>;
  const dataset = select("dataset", datasets.map((d): [string, string] => [`${d.scope}:${d.uid}`, `${d.name} (${d.scope} ${d.type})`]));
  const baseModel = select("model_uid", models.data.filter((m) => m.status === "available").map((m): [string, string] => [m.uid, `${m.name} v${m.version ?? "?"}`]));
  const outputName = h("input", { name: "output_name", required: true, value: `${pipeline.data.name} output` });
  const extension = h("input", { name: "extension", required: true, value: "zip" });
  const message = h("p", { role: "alert", class: "error" });

  const submit = async (event: Event) => {
    event.preventDefault();
    message.textContent = "";
    const [scope, datasetUid] = dataset.value.split(":");
    const body: Record<string, unknown> = {
      task_name: name.value,
      pipeline_uid: pipelineUid,
      dataset_uid: datasetUid,
      type: scope,
      config_uid: config.value,
      image_uid: { download_uid: images.download.value, running_uid: images.running.value, upload_uid: images.upload.value },
    };
    if (kind === "optimization" || kind === "evaluation") body.model_uid = baseModel.value;
    if (kind === "training" || kind === "optimization")
      Object.assign(body, {
        model_name: outputName.value,
        model_type: "default",
        model_input_format: "float32",
        model_output_format: "float32",
        model_file_extension: extension.value,
      });
    if (kind === "preprocessing") Object.assign(body, { dataset_name: outputName.value, dataset_file_extension: extension.value });
    try {
      const created = await rest<{ uid: string }>("POST", `/tasks/${kind}`, body);
      location.hash = `#/tasks/${created.data.uid}`;
    } catch (error) {
      message.textContent = error instanceof ApiError ? `The task was not created: ${error.message}` : String(error);
    }
  };

  replace(
    view,
    h("h1", {}, `Run ${pipeline.data.name} (${kind})`),
    h(
      "form",
      { class: "card", onsubmit: submit },
      field("Task name", name),
      field("Config", config),
      field("Download build file", images.download),
      field("Running build file", images.running),
      field("Upload build file", images.upload),
      field("Input dataset", dataset, datasets.length ? undefined : "No dataset of a kind this task takes is available yet."),
      kind === "optimization" || kind === "evaluation" ? field("Base model", baseModel) : null,
      kind !== "evaluation" ? field(kind === "preprocessing" ? "Output dataset name" : "Output model name", outputName) : null,
      kind !== "evaluation" ? field("Output file extension", extension) : null,
      message,
      h("button", { type: "submit" }, "Run"),
    ),
  );
}
