/**
 * The built-in download and upload steps (the step contract in the README). It runs as a host
 * process under the local engine and as the step image's command on Argo:
 *
 *   node dist/steps/step-runner.js download   fetch the task's inputs into $OUTPUTS_DIR
 *   node dist/steps/step-runner.js upload     store $INPUTS_DIR/$OUTPUT_FILE_NAME and metrics.json
 *
 * It talks only to the service's step API, with the task credential; it imports nothing from
 * the service so it can run in a small image. Any failure exits non-zero, which fails the step.
 */
import { createReadStream, createWriteStream, existsSync } from "node:fs";
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

function api(suffix: string): string {
  return `${env("ARGO_ENTRYPOINT_URL").replace(/\/$/, "")}/api/steps/v1/tasks/${env("TASK_UID")}/${suffix}`;
}

const auth = () => ({ Authorization: `Bearer ${env("TASK_TOKEN")}` });

async function fetchInput(input: string, target: (filename: string) => string, optional = false): Promise<void> {
  const response = await fetch(api(`inputs/${input}`), { headers: auth() });
  if (response.status === 404 && optional) return;
  if (!response.ok || !response.body) throw new Error(`input ${input}: HTTP ${response.status} ${await response.text()}`);
  if (input === "config") {
    await writeFile(target("config.json"), JSON.stringify(await response.json(), null, 2));
    return;
  }
  const disposition = response.headers.get("content-disposition") ?? "";
  const extension = /filename="[^"]*?(\.[A-Za-z0-9]+)"/.exec(disposition)?.[1] ?? "";
  const file = target(extension);
  await pipeline(Readable.fromWeb(response.body as import("node:stream/web").ReadableStream), createWriteStream(file));
  console.log(`downloaded ${input} -> ${path.basename(file)} (${(await stat(file)).size} bytes)`);
}

async function download(): Promise<void> {
  const out = env("OUTPUTS_DIR");
  await mkdir(out, { recursive: true });
  await fetchInput("config", (name) => path.join(out, name));
  await fetchInput("program", (ext) => path.join(out, `program${ext}`));
  await fetchInput("dataset", (ext) => path.join(out, `dataset${ext}`));
  await fetchInput("base_model", (ext) => path.join(out, `pretrain_model${ext}`), true);
}

async function upload(): Promise<void> {
  const inputs = env("INPUTS_DIR");
  const metricsFile = path.join(inputs, "metrics.json");
  if (existsSync(metricsFile)) {
    const metrics: unknown = JSON.parse(await readFile(metricsFile, "utf8"));
    const response = await fetch(api("metrics"), { method: "POST", headers: { ...auth(), "Content-Type": "application/json" }, body: JSON.stringify(metrics) });
    if (!response.ok) throw new Error(`metrics: HTTP ${response.status} ${await response.text()}`);
    console.log("reported metrics.json");
  }
  const outputName = process.env.OUTPUT_FILE_NAME;
  if (!outputName) return; // an evaluation reports metrics only
  const file = path.join(inputs, outputName);
  if (!existsSync(file)) throw new Error(`the running step did not write ${outputName}`);
  const { size } = await stat(file);
  const response = await fetch(api("output"), {
    method: "PUT",
    headers: { ...auth(), "Content-Type": "application/octet-stream", "Content-Length": String(size) },
    body: Readable.toWeb(createReadStream(file)) as unknown as BodyInit,
    duplex: "half",
  } as RequestInit);
  if (!response.ok) throw new Error(`output: HTTP ${response.status} ${await response.text()}`);
  console.log(`uploaded ${outputName} (${size} bytes)`);
}

const command = process.argv[2];
const steps: Record<string, () => Promise<void>> = { download, upload };
const run = command ? steps[command] : undefined;
if (!run) {
  console.error("usage: step-runner download|upload");
  process.exit(64);
}
run().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`${command} failed: ${(error as Error).message}`);
    process.exit(1);
  },
);
