import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { openSync, closeSync } from "node:fs";
import { mkdir, open, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Clock } from "../../domain/clock.js";
import type { Logger } from "../../domain/ports.js";
import type { TaskRecord } from "../../domain/records.js";
import type { ProgressSink, RunPhase, ShutdownStrategy, StepProgress, TaskEngine, TaskPlan } from "../../domain/tasks/task-engine.js";
import { chooseSandbox, type Sandbox, type SandboxMode, type StepDirectories } from "./sandbox.js";
import { STEP_RUNNER_FILE, installStepRuntime } from "./step-runtime.js";
import { lockDirectory } from "./work-dir-lock.js";

export interface LocalEngineSettings {
  /** Per-task work directories live here. */
  workRoot: string;
  /** Tasks running at once; more wait in submission order (status `pending`). */
  concurrency: number;
  /** The step API's base URL as steps see it. */
  serviceUrl: () => string;
  /** Commands replacing the built-in download and upload steps (run confined like any step). */
  downloadCommand: string[] | undefined;
  uploadCommand: string[] | undefined;
  /** Seconds between SIGTERM and SIGKILL when a step is stopped. */
  stopGraceSeconds: number;
  sandbox: SandboxMode;
}

interface Run {
  plan: TaskPlan;
  phase: RunPhase;
  message: string;
  steps: StepProgress[];
  finishedAt: Date | null;
  child?: ChildProcess;
  stopping?: ShutdownStrategy;
}

/** The running step's interpreter, from the pipeline program's extension. */
const INTERPRETERS: Record<string, string[]> = {
  py: ["python3"],
  js: [process.execPath],
  mjs: [process.execPath],
  cjs: [process.execPath],
  sh: ["bash"],
};

/**
 * Runs tasks on this machine: each step is a process in its own process group (so stop reaches
 * everything it started), confined by the sandbox, in a per-task work directory, with stdout
 * and stderr captured as the step's log. It implements the same step contract as the Argo
 * templates. One service at a time owns a work directory (a lock file refuses a second one).
 */
export class LocalEngine implements TaskEngine {
  readonly name = "local";
  private readonly runs = new Map<string, Run>();
  private readonly queue: string[] = [];
  private active = 0;

  private constructor(
    private readonly settings: LocalEngineSettings & { workRoot: string },
    private readonly deps: { logger: Logger; clock: Clock; sink: ProgressSink },
    private readonly host: { sandbox: Sandbox; runtimeDir: string; instance: string; unlock(): Promise<void> },
  ) {}

  /** Locks the work directory, installs the built-in step program and chooses the sandbox. */
  static async open(settings: LocalEngineSettings, deps: { logger: Logger; clock: Clock; sink: ProgressSink }): Promise<LocalEngine> {
    // Steps run with their own directory as cwd, so every path handed to them is absolute.
    const workRoot = path.resolve(settings.workRoot);
    await mkdir(workRoot, { recursive: true });
    const lock = await lockDirectory(path.join(workRoot, ".lock"), `the work directory ${workRoot}`);
    try {
      const { sandbox, warning } = await chooseSandbox(settings.sandbox);
      if (warning) deps.logger.warn({ sandbox: sandbox.kind }, `action=local-engine ${warning}`);
      const runtimeDir = await installStepRuntime(path.join(workRoot, ".runtime"));
      const instance = await workDirIdentity(workRoot);
      return new LocalEngine({ ...settings, workRoot }, deps, { sandbox, runtimeDir, instance, unlock: lock.release });
    } catch (error) {
      await lock.release();
      throw error;
    }
  }

  get sandboxKind(): Sandbox["kind"] {
    return this.host.sandbox.kind;
  }

  /** The log file of one step; the log sources read it while it grows and after. */
  logFile(taskUid: string, stepName: string): string {
    return path.join(this.taskDir(taskUid), "logs", `${stepName}.log`);
  }

  /** Whether this process is running or queueing the task (a finished task's log is then complete). */
  isActive(taskUid: string): boolean {
    const run = this.runs.get(taskUid);
    return run !== undefined && run.finishedAt === null;
  }

  /** Whether the step is running right now in this process (a follower keeps reading until it is not). */
  isStepRunning(taskUid: string, stepName: string): boolean {
    const run = this.runs.get(taskUid);
    if (!run || run.finishedAt) return false;
    const step = run.steps.find((s) => s.name === stepName);
    return step !== undefined && (step.phase === "Running" || step.phase === "Pending");
  }

  async submit(plan: TaskPlan): Promise<{ runName: string; runUid: string | null }> {
    const runName = `local-${plan.task.uid}`;
    if (this.isActive(plan.task.uid)) return { runName, runUid: this.host.instance };
    this.runs.set(plan.task.uid, {
      plan,
      phase: "Pending",
      message: "",
      finishedAt: null,
      steps: plan.steps.map((step) => pendingStep(step.name)),
    });
    this.enqueue(plan.task.uid);
    return { runName, runUid: this.host.instance };
  }

  async retry(plan: TaskPlan): Promise<void> {
    const previous = this.runs.get(plan.task.uid);
    const steps = previous?.steps ?? plan.steps.map((step) => pendingStep(step.name));
    // Succeeded steps keep their outputs in the work directory; the rest run again.
    this.runs.set(plan.task.uid, {
      plan,
      phase: "Pending",
      message: "",
      finishedAt: null,
      steps: steps.map((step) => (step.phase === "Succeeded" ? step : pendingStep(step.name))),
    });
    this.enqueue(plan.task.uid);
  }

  async shutdown(task: TaskRecord, strategy: ShutdownStrategy): Promise<void> {
    const run = this.runs.get(task.uid);
    if (!run || run.finishedAt) {
      // Not ours any more (the service restarted): there is nothing left to stop.
      await this.deps.sink.report({
        taskUid: task.uid,
        phase: "Failed",
        message: `Stopped with strategy '${strategy}'`,
        finishedAt: this.deps.clock.now(),
        steps: [],
      });
      return;
    }
    run.stopping = strategy;
    const queued = this.queue.indexOf(task.uid);
    if (queued >= 0) {
      this.queue.splice(queued, 1);
      await this.finish(run, "Failed", `Stopped with strategy '${strategy}'`);
      return;
    }
    if (run.child?.pid) this.killGroup(run.child);
  }

  async remove(task: TaskRecord): Promise<void> {
    const run = this.runs.get(task.uid);
    if (run && !run.finishedAt) {
      await this.shutdown(task, "Terminate");
      await new Promise<void>((resolve) => {
        const check = setInterval(() => {
          if (run.finishedAt) {
            clearInterval(check);
            resolve();
          }
        }, 20);
      });
    }
    this.runs.delete(task.uid);
    await rm(this.taskDir(task.uid), { recursive: true, force: true });
  }

  /**
   * After a restart: a task this work directory was running when the service stopped cannot be
   * resumed honestly (its steps died with it), so it fails with the reason; retry re-runs it.
   * Tasks of another work directory (another service on the same database) are not ours.
   */
  async recover(active: TaskRecord[]): Promise<void> {
    for (const task of active) {
      if (this.runs.has(task.uid) || (task.workflowUid !== null && task.workflowUid !== this.host.instance)) continue;
      await this.deps.sink.report({
        taskUid: task.uid,
        phase: "Error",
        message: "the service restarted while the task was queued or running; retry it to run it again",
        finishedAt: this.deps.clock.now(),
        steps: [],
      });
    }
  }

  /** Stops everything (service shutdown) and gives the work directory up. */
  async close(): Promise<void> {
    this.queue.length = 0;
    for (const run of this.runs.values()) if (run.child?.pid && !run.finishedAt) this.killGroup(run.child);
    await this.host.unlock();
  }

  private enqueue(taskUid: string): void {
    this.queue.push(taskUid);
    void this.report(this.runs.get(taskUid)!);
    this.pump();
  }

  private pump(): void {
    while (this.active < this.settings.concurrency && this.queue.length > 0) {
      const taskUid = this.queue.shift()!;
      const run = this.runs.get(taskUid);
      if (!run) continue;
      this.active += 1;
      this.execute(run)
        .catch((error: unknown) => this.finish(run, "Error", `local engine: ${(error as Error).message}`))
        .finally(() => {
          this.active -= 1;
          this.pump();
        });
    }
  }

  private async execute(run: Run): Promise<void> {
    run.phase = "Running";
    const taskDir = this.taskDir(run.plan.task.uid);
    await mkdir(path.join(taskDir, "logs"), { recursive: true });
    for (let index = 0; index < run.plan.steps.length; index += 1) {
      const step = run.steps[index]!;
      if (step.phase === "Succeeded") continue;
      if (run.stopping) return this.finish(run, "Failed", `Stopped with strategy '${run.stopping}'`);
      const exitCode = await this.runStep(run, index);
      if (run.stopping) {
        step.phase = "Failed";
        step.message = `workflow shutdown with strategy: ${run.stopping}`;
        return this.finish(run, "Failed", `Stopped with strategy '${run.stopping}'`);
      }
      if (exitCode !== 0) return this.finish(run, "Failed", `${step.name}: ${step.message}`);
    }
    return this.finish(run, "Succeeded", "");
  }

  private async runStep(run: Run, index: number): Promise<number> {
    const { plan } = run;
    const definition = plan.steps[index]!;
    const step = run.steps[index]!;
    const taskDir = this.taskDir(plan.task.uid);
    const outputs = path.join(taskDir, "steps", `${index + 1}-${definition.name}`);
    const inputs =
      index === 0 ? path.join(taskDir, "steps", "0-none") : path.join(taskDir, "steps", `${index}-${plan.steps[index - 1]!.name}`);
    await rm(outputs, { recursive: true, force: true });
    await mkdir(outputs, { recursive: true });
    await mkdir(inputs, { recursive: true });

    const dirs: StepDirectories = { inputs, outputs, runtime: this.host.runtimeDir };
    const view = this.host.sandbox.view(dirs);
    const command = this.commandFor(definition.sequence, view, plan);
    step.phase = "Running";
    step.startedAt = this.deps.clock.now();
    step.finishedAt = null;
    step.exitCode = null;
    step.message = "";
    await this.report(run);

    const logPath = this.logFile(plan.task.uid, definition.name);
    const log = openSync(logPath, "a");
    const started = performance.now();
    let exitCode: number;
    try {
      if (!command) {
        exitCode = 127;
        step.message = `no interpreter for .${plan.programExtension} programs (use .py, .js, .mjs or .sh)`;
      } else {
        const argv = this.host.sandbox.wrap(command, dirs);
        const child = spawn(argv[0]!, argv.slice(1), {
          cwd: outputs,
          detached: true,
          stdio: ["ignore", log, log],
          env: this.stepEnvironment(plan, definition.name, definition.sequence, view),
        });
        run.child = child;
        exitCode = await new Promise<number>((resolve) => {
          child.on("error", (error) => {
            step.message = `could not start ${command[0]}: ${error.message}`;
            resolve(127);
          });
          child.on("exit", (code, signal) => resolve(code ?? (signal ? 128 + signalNumber(signal) : 1)));
        });
        run.child = undefined;
      }
    } finally {
      closeSync(log);
    }
    step.finishedAt = this.deps.clock.now();
    step.exitCode = exitCode;
    step.resources = { durationSeconds: Math.round((performance.now() - started) / 10) / 100 };
    step.phase = exitCode === 0 ? "Succeeded" : "Failed";
    if (exitCode !== 0 && !step.message) step.message = `main: Error (exit code ${exitCode})${await lastLine(logPath)}`;
    await this.report(run);
    return exitCode;
  }

  /** The step's command line, with paths as the step sees them. */
  private commandFor(sequence: string, view: StepDirectories, plan: TaskPlan): string[] | undefined {
    const builtIn = (name: string) => [process.execPath, path.join(view.runtime, STEP_RUNNER_FILE), name];
    if (sequence === "download") return this.settings.downloadCommand ?? builtIn("download");
    if (sequence === "upload") return this.settings.uploadCommand ?? builtIn("upload");
    const interpreter = INTERPRETERS[plan.programExtension];
    return interpreter ? [...interpreter, path.join(view.inputs, `program.${plan.programExtension}`)] : undefined;
  }

  /** Only what the step contract names: nothing of the service's own environment. */
  private stepEnvironment(plan: TaskPlan, stepName: string, sequence: string, view: StepDirectories): NodeJS.ProcessEnv {
    return {
      PATH: this.host.sandbox.path,
      HOME: this.host.sandbox.kind === "none" ? process.env.HOME : "/tmp",
      LANG: "C.UTF-8",
      ARGO_ENTRYPOINT_URL: this.settings.serviceUrl(),
      TASK_UID: plan.task.uid,
      TASK_KIND: plan.task.kind,
      TASK_TOKEN: plan.stepToken,
      STEP_NAME: stepName,
      STEP_SEQUENCE: sequence,
      INPUTS_DIR: view.inputs,
      OUTPUTS_DIR: view.outputs,
      TASK_CONFIG: JSON.stringify(plan.config),
      CONFIG_FILE: path.join(sequence === "download" ? view.outputs : view.inputs, "config.json"),
      METRICS_FILE: path.join(view.outputs, "metrics.json"),
      ...(plan.outputFileName ? { OUTPUT_FILE_NAME: plan.outputFileName } : {}),
    };
  }

  private async finish(run: Run, phase: RunPhase, message: string): Promise<void> {
    run.phase = phase;
    run.message = message;
    run.finishedAt = this.deps.clock.now();
    await this.report(run);
  }

  private async report(run: Run): Promise<void> {
    const progress = {
      taskUid: run.plan.task.uid,
      phase: run.phase,
      message: run.message,
      finishedAt: run.finishedAt,
      steps: run.steps.map((s) => ({ ...s })),
      runName: `local-${run.plan.task.uid}`,
      runUid: null,
    };
    await this.deps.sink
      .report(progress)
      .catch((error: unknown) => this.deps.logger.error({ err: error, task: run.plan.task.uid }, "action=report outcome=failed"));
  }

  private killGroup(child: ChildProcess): void {
    const pid = child.pid!;
    try {
      process.kill(-pid, "SIGTERM");
    } catch {
      return; // already gone
    }
    setTimeout(() => {
      try {
        process.kill(-pid, "SIGKILL");
      } catch {
        // exited within the grace period
      }
    }, this.settings.stopGraceSeconds * 1000).unref();
  }

  private taskDir(taskUid: string): string {
    if (!/^[0-9a-f-]{36}$/.test(taskUid)) throw new Error(`not a task uid: ${taskUid}`);
    return path.join(this.settings.workRoot, taskUid);
  }
}

/** A stable identity of the work directory, recorded on the tasks it runs. */
async function workDirIdentity(workRoot: string): Promise<string> {
  const file = path.join(workRoot, ".instance");
  const existing = (await readFile(file, "utf8").catch(() => "")).trim();
  if (/^[0-9a-f-]{36}$/.test(existing)) return existing;
  const created = randomUUID();
  await writeFile(file, created);
  return created;
}

function pendingStep(name: string): StepProgress {
  return { name, phase: "Pending", startedAt: null, finishedAt: null, exitCode: null, message: "", resources: {} };
}

function signalNumber(signal: NodeJS.Signals): number {
  return ({ SIGTERM: 15, SIGKILL: 9, SIGINT: 2 } as Record<string, number>)[signal] ?? 1;
}

/** The log's last non-empty line, as the failed step's message (what a user wants to see first). */
async function lastLine(file: string): Promise<string> {
  const handle = await open(file, "r");
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, 4096);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    const line = buffer.toString("utf8").trimEnd().split("\n").pop()?.trim();
    return line ? `: ${line.slice(0, 500)}` : "";
  } finally {
    await handle.close();
  }
}
