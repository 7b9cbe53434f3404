// Over 300 lines on purpose: the whole life of a local run (queue, steps, stop, retry, recovery
// after a restart) stays in one class; launching and process handling live beside it.
import type { ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { appendFile, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Clock } from "../../domain/clock.js";
import type { Logger } from "../../domain/ports.js";
import type { TaskRecord } from "../../domain/records.js";
import type { ProgressSink, RunPhase, ShutdownStrategy, StepProgress, TaskEngine, TaskPlan } from "../../domain/tasks/task-engine.js";
import { chooseSandbox, type Sandbox, type SandboxMode, type StepDirectories } from "./sandbox.js";
import { lastLogLine, measuredCommand, runStepProcess, stopProcessGroup } from "./step-process.js";
import { stepCommand, stepEnvironment } from "./step-launch.js";
import { installStepRuntime } from "./step-runtime.js";
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
    if (run.child?.pid) stopProcessGroup(run.child, this.settings.stopGraceSeconds);
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
    for (const run of this.runs.values())
      if (run.child?.pid && !run.finishedAt) stopProcessGroup(run.child, this.settings.stopGraceSeconds);
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
    const command = stepCommand(definition.sequence, view, {
      download: this.settings.downloadCommand,
      upload: this.settings.uploadCommand,
    });
    // The log file exists before the step is reported running: a follower may open it the moment it hears.
    const logPath = this.logFile(plan.task.uid, definition.name);
    await appendFile(logPath, "");
    step.phase = "Running";
    step.startedAt = this.deps.clock.now();
    step.finishedAt = null;
    step.exitCode = null;
    step.message = "";
    await this.report(run);

    const outcome = await runStepProcess({
      argv: this.host.sandbox.wrap(measuredCommand(command), dirs),
      cwd: outputs,
      env: stepEnvironment({
        plan,
        stepName: definition.name,
        sequence: definition.sequence,
        view,
        sandbox: this.host.sandbox,
        serviceUrl: this.settings.serviceUrl(),
      }),
      logPath,
      started: (child) => (run.child = child),
    });
    run.child = undefined;
    const { exitCode } = outcome;
    step.finishedAt = this.deps.clock.now();
    step.exitCode = exitCode;
    step.resources = {
      durationSeconds: outcome.durationSeconds,
      ...(outcome.cpuSeconds ? { cpuUserSeconds: outcome.cpuSeconds.user, cpuSystemSeconds: outcome.cpuSeconds.system } : {}),
    };
    step.phase = exitCode === 0 ? "Succeeded" : "Failed";
    if (exitCode !== 0) step.message = outcome.failure ?? `main: Error (exit code ${exitCode})${await lastLogLine(logPath)}`;
    await this.report(run);
    return exitCode;
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
