/**
 * The built-in download and upload steps (the step contract in the README). It runs as a host
 * process under the local engine and as the step image's command on Argo:
 *
 *   node dist/steps/step-runner.js download   fetch the task's inputs into $OUTPUTS_DIR
 *   node dist/steps/step-runner.js upload     store $INPUTS_DIR/$OUTPUT_FILE_NAME and metrics.json
 *
 * It talks only to the service's step API, with the task credential, and retries it with
 * backoff (connection errors, 429 and 5xx) so a restart of the service does not fail the task.
 * It imports nothing from the service so it can run in a small image or a sandbox. Any other
 * failure exits non-zero, which fails the step.
 */
import { constants, createWriteStream } from "node:fs";
import { cp, mkdir, open, readFile, realpath, stat, writeFile, type FileHandle } from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";

const MAX_METRICS_BYTES = 256 * 1024;
/** Where download puts the running step's runtime in its outputs (the running step's inputs). */
const PROGRAM_RUNTIME = ".argo-entrypoint";

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

function api(suffix: string): string {
  return `${env("ARGO_ENTRYPOINT_URL").replace(/\/$/, "")}/api/steps/v1/tasks/${env("TASK_UID")}/${suffix}`;
}

const auth = () => ({ Authorization: `Bearer ${env("TASK_TOKEN")}` });

/** How long the step keeps trying the step API before it gives up (a rolling update takes seconds, a crash longer). */
const retryBudgetMs = () => Number(process.env.STEP_API_RETRY_SECONDS ?? 300) * 1000;
/** The longest one attempt may take, so a connection that hangs is given up and retried. */
const attemptTimeoutMs = () => Number(process.env.STEP_API_TIMEOUT_SECONDS ?? 600) * 1000;

/** A problem with the step's own files: retrying cannot help. */
class Refusal extends Error {}

interface Answer {
  status: number;
  text(): Promise<string>;
}

/**
 * A step API call, retried on connection errors, timeouts, 429 and 5xx with exponential backoff
 * and full jitter until the retry budget is spent. `attempt` makes a fresh request each time.
 */
async function withRetries<T extends Answer>(what: string, attempt: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + retryBudgetMs();
  for (let count = 1; ; count += 1) {
    let reason: string;
    try {
      const answer = await attempt();
      if (answer.status !== 429 && answer.status < 500) return answer;
      reason = `HTTP ${answer.status}`;
      await answer.text().catch(() => "");
    } catch (error) {
      if (error instanceof Refusal) throw error;
      reason = (error as Error & { cause?: Error }).cause?.message ?? (error as Error).message;
    }
    const delay = Math.random() * Math.min(10_000, 250 * 2 ** Math.min(count, 10));
    if (Date.now() + delay > deadline) throw new Error(`${what}: the service did not answer (${reason}); gave up after ${count} attempts`);
    console.error(`${what}: ${reason}; retrying (attempt ${count})`);
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

const call = (what: string, url: string, init: () => RequestInit) =>
  withRetries(what, () => fetch(url, { ...init(), signal: AbortSignal.timeout(attemptTimeoutMs()) }));

/**
 * PUTs an output file with node:http: a failed connection fails the request and the file stream
 * together (fetch with a streamed body could stall forever on a reset connection). Each attempt
 * opens, and checks, the file anew: a failed attempt closes what it read.
 */
async function putOutput(url: string, dir: string, name: string): Promise<Answer & { size: number }> {
  const output = await openOwnOutput(dir, name);
  if (!output) throw new Refusal(`the running step did not write ${name}`);
  const { handle: file, size } = output;
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const request = (target.protocol === "https:" ? https : http).request(
      target,
      {
        method: "PUT",
        timeout: attemptTimeoutMs(),
        headers: { ...auth(), "Content-Type": "application/octet-stream", "Content-Length": String(size) },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("error", reject);
        response.on("end", () => resolve({ status: response.statusCode ?? 0, size, text: async () => Buffer.concat(chunks).toString() }));
      },
    );
    request.on("timeout", () => request.destroy(new Error("no answer in time")));
    request.on("error", reject);
    pipeline(file.createReadStream(), request).catch(reject);
  });
}

async function fetchInput(input: string, target: (extension: string) => string, optional = false): Promise<void> {
  const response = await call(`input ${input}`, api(`inputs/${input}`), () => ({ headers: auth() }));
  if (response.status === 404 && optional) return;
  if (!response.ok || !response.body) throw new Error(`input ${input}: HTTP ${response.status} ${await response.text()}`);
  if (input === "config") {
    await writeFile(target("config.json"), JSON.stringify(await response.json(), null, 2), { flag: "wx" });
    return;
  }
  const disposition = response.headers.get("content-disposition") ?? "";
  const extension = /filename="[^"]*?(\.[A-Za-z0-9]+)"/.exec(disposition)?.[1] ?? "";
  const file = target(extension);
  await pipeline(Readable.fromWeb(response.body as import("node:stream/web").ReadableStream), createWriteStream(file, { flags: "wx" }));
  console.log(`downloaded ${input} -> ${path.basename(file)} (${(await stat(file)).size} bytes)`);
}

/**
 * The running step's runtime (its script, the KFP runner, the Python stand-ins) goes on with
 * the inputs: on Argo the running step runs in the build file's image, which has none of it.
 */
async function handOnProgramRuntime(out: string): Promise<void> {
  const source = fileURLToPath(new URL("./runtime", import.meta.url));
  await cp(source, path.join(out, PROGRAM_RUNTIME), { recursive: true, errorOnExist: true, force: false });
}

async function download(): Promise<void> {
  const out = env("OUTPUTS_DIR");
  await mkdir(out, { recursive: true });
  await handOnProgramRuntime(out);
  await fetchInput("config", (name) => path.join(out, name));
  await fetchInput("program", (ext) => path.join(out, `program${ext}`));
  await fetchInput("dataset", (ext) => path.join(out, `dataset${ext}`));
  await fetchInput("base_model", (ext) => path.join(out, `pretrain_model${ext}`), true);
}

/**
 * Opens a file the previous (untrusted) step wrote, only if it is what it claims: a regular file
 * directly inside `dir`, not a symbolic link, and with no other hard link (which could point at
 * a file the step could not read itself).
 */
async function openOwnOutput(dir: string, name: string): Promise<{ handle: FileHandle; size: number } | undefined> {
  if (name.includes("/") || name === ".." || name === ".") throw new Refusal(`${name} is not a plain file name`);
  const file = path.join(dir, name);
  let handle;
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return undefined;
    if (code === "ELOOP") throw new Refusal(`${name} is a symbolic link; write the file itself`);
    throw error;
  }
  const info = await handle.stat();
  const inside = path.dirname(await realpath(file)) === (await realpath(dir));
  if (!info.isFile() || info.nlink !== 1 || !inside) {
    await handle.close();
    throw new Refusal(`${name} must be a regular file written by the step itself (not a link or a directory)`);
  }
  return { handle, size: info.size };
}

async function upload(): Promise<void> {
  const inputs = env("INPUTS_DIR");
  const metrics = await openOwnOutput(inputs, "metrics.json");
  if (metrics) {
    if (metrics.size > MAX_METRICS_BYTES) throw new Error(`metrics.json is larger than ${MAX_METRICS_BYTES} bytes`);
    const text = await readFile(metrics.handle, "utf8");
    await metrics.handle.close();
    const response = await call("metrics", api("metrics"), () => ({
      method: "POST",
      headers: { ...auth(), "Content-Type": "application/json" },
      body: text,
    }));
    if (!response.ok) throw new Error(`metrics: HTTP ${response.status} ${await response.text()}`);
    console.log("reported metrics.json");
  }
  const outputName = process.env.OUTPUT_FILE_NAME;
  if (!outputName) return; // an evaluation reports metrics only
  const response = await withRetries("output", () => putOutput(api("output"), inputs, outputName));
  if (response.status !== 201) throw new Error(`output: HTTP ${response.status} ${await response.text()}`);
  console.log(`uploaded ${outputName} (${response.size} bytes)`);
}

const command = process.argv[2];
const steps: Record<string, () => Promise<void>> = { download, upload };
const run = command ? steps[command] : undefined;
if (!run) {
  console.error("usage: step-runner download|upload");
  process.exit(64);
}
// A step whose work stalled with nothing left to wait on must not end as a success.
let finished = false;
process.on("beforeExit", () => {
  if (finished) return;
  console.error(`${command} failed: it stopped making progress (a request neither completed nor failed)`);
  process.exit(1);
});
run().then(
  () => {
    finished = true;
    process.exit(0);
  },
  (error: unknown) => {
    console.error(`${command} failed: ${(error as Error).message}`);
    process.exit(1);
  },
);
