/**
 * Runs each step pod's main container for real, on this machine, as the fake controller built it:
 * its `command`, its `env` (Secret references resolved as the kubelet would), its paths under
 * `/workspace` mapped to a directory per step, and the workflow's artifacts passed on (a step's
 * `/workspace/inputs` is a copy of the previous step's `/workspace/outputs`). Images cannot run
 * here: the host's sh, python3 and node stand in for them, and this service's image
 * (`/app/dist/steps`) is the step runtime installed from source. What it proves is that the
 * rendered pods, not a test double, carry the steps.
 */
import { spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { installStepRuntime } from "../../../src/adapters/local-engine/step-runtime.js";
import type { StepContext } from "./fake-argo-controller.js";

const IMAGE_STEP_RUNNER = "/app/dist/steps/step-runner.js";
const WORKSPACE = /^\/workspace\/(inputs|outputs|scratch)(?=\/|$)/;
/** Which step's outputs each template receives as its inputs (the templates' DAG). */
const INPUT_FROM: Record<string, string | undefined> = { download: undefined, running: "download", upload: "running" };

export class ContainerExecutor {
  /** Every command line a pod ran, by template, for assertions. */
  readonly commands: Array<{ template: string; image: string; command: string[] }> = [];

  private constructor(
    private readonly root: string,
    private readonly runtime: string,
  ) {}

  static async create(): Promise<ContainerExecutor> {
    const root = mkdtempSync(path.join(os.tmpdir(), "fake-pods-"));
    return new ContainerExecutor(root, await installStepRuntime(path.join(root, ".image")));
  }

  /** Runs the pod's main container; `serviceUrl` is where the cluster's DNS name of the service leads. */
  async run(context: StepContext, serviceUrl: string): Promise<number> {
    const { container } = context;
    const command = [...(container.command ?? []), ...(container.args ?? [])];
    if (!command.length) throw new Error(`the ${context.template} pod has no command: the image's CMD would run instead`);
    this.commands.push({ template: context.template, image: container.image, command });

    const dir = (template: string) => path.join(this.root, context.workflow, template);
    const own = dir(context.template);
    rmSync(own, { recursive: true, force: true });
    for (const sub of ["inputs", "outputs", "scratch"]) mkdirSync(path.join(own, sub), { recursive: true });
    const from = INPUT_FROM[context.template];
    if (from) cpSync(path.join(dir(from), "outputs"), path.join(own, "inputs"), { recursive: true });

    const local = (value: string) =>
      value === IMAGE_STEP_RUNNER
        ? path.join(this.runtime, "step-runner.mjs")
        : value.replace(WORKSPACE, (_, sub: string) => path.join(own, sub));
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: path.join(own, "scratch"), LANG: "C.UTF-8" };
    for (const variable of container.env ?? []) {
      if (variable.valueFrom?.secretKeyRef) env[variable.name] = context.token;
      else if (variable.name === "ARGO_ENTRYPOINT_URL") env[variable.name] = serviceUrl;
      else env[variable.name] = local(variable.value ?? "");
    }

    const child = spawn(local(command[0]!), command.slice(1).map(local), {
      cwd: path.join(own, "outputs"),
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const abort = () => child.kill("SIGTERM");
    context.signal.addEventListener("abort", abort);
    for (const stream of [child.stdout, child.stderr]) createInterface({ input: stream }).on("line", (line) => context.log(line));
    const code = await new Promise<number>((resolve) => {
      child.on("error", () => resolve(127));
      child.on("close", (exit, signal) => resolve(exit ?? (signal ? 143 : 1)));
    });
    context.signal.removeEventListener("abort", abort);
    return code;
  }

  close(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}
