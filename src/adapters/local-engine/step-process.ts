/** One step as a process: started in its own process group with its output in a log file, stopped as a group. */
import { spawn, type ChildProcess } from "node:child_process";
import type { Readable } from "node:stream";
import { closeSync, openSync } from "node:fs";
import { open } from "node:fs/promises";

export interface StepOutcome {
  exitCode: number;
  /** Why it could not start, when it could not. */
  failure?: string;
  durationSeconds: number;
  /** CPU seconds the step's processes used (user and system), as its shell's `times` counts its children; absent when it was killed. */
  cpuSeconds?: { user: number; system: number };
}

/**
 * Node cannot read a child's rusage, so a step's command runs under a shell that runs it (fd 3
 * closed to it) and then writes `times` to fd 3: the CPU time of every process of the step it
 * waited for. Inside the sandbox: bubblewrap's monitor does not wait for the sandboxed processes,
 * so their time never reaches a shell outside it.
 */
export function measuredCommand(command: string[]): string[] {
  return ["/bin/sh", "-c", '"$@" 3>&-; status=$?; times >&3; exit $status', "step", ...command];
}

/**
 * Runs `argv` (a `measuredCommand`, sandboxed or not) to its end, appending stdout and stderr to
 * `logPath`. `started` receives the child (to stop it). A signal's death is the shell's
 * convention, 128 + its number.
 */
export async function runStepProcess(options: {
  argv: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  logPath: string;
  started(child: ChildProcess): void;
}): Promise<StepOutcome> {
  const log = openSync(options.logPath, "a");
  const begun = performance.now();
  try {
    const child = spawn(options.argv[0]!, options.argv.slice(1), {
      cwd: options.cwd,
      detached: true,
      stdio: ["ignore", log, log, "pipe"],
      env: options.env,
    });
    options.started(child);
    const times = collect(child.stdio[3] as Readable | null);
    const { exitCode, failure } = await new Promise<{ exitCode: number; failure?: string }>((resolve) => {
      child.on("error", (error) => resolve({ exitCode: 127, failure: `could not start ${options.argv[0]}: ${error.message}` }));
      child.on("close", (code, signal) => resolve({ exitCode: code ?? (signal ? 128 + signalNumber(signal) : 1) }));
    });
    const cpuSeconds = childrenTimes(await times);
    return {
      exitCode,
      ...(failure ? { failure } : {}),
      durationSeconds: Math.round((performance.now() - begun) / 10) / 100,
      ...(cpuSeconds ? { cpuSeconds } : {}),
    };
  } finally {
    closeSync(log);
  }
}

/** SIGTERM to the child's whole process group, then SIGKILL after the grace period. */
export function stopProcessGroup(child: ChildProcess, graceSeconds: number): void {
  const pid = child.pid;
  if (!pid) return;
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
  }, graceSeconds * 1000).unref();
}

/** The log's last non-empty line, as the failed step's message (what a user wants to see first). */
export async function lastLogLine(file: string): Promise<string> {
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

function collect(stream: Readable | null): Promise<string> {
  if (!stream) return Promise.resolve("");
  let text = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => (text = (text + chunk).slice(-1000)));
  return new Promise((resolve) => {
    stream.once("close", () => resolve(text));
    stream.once("error", () => resolve(text));
  });
}

/** The second line of `times` ("0m1.250000s 0m0.040000s"): the children's user and system time. */
function childrenTimes(output: string): { user: number; system: number } | undefined {
  const line = output.trim().split("\n")[1];
  const match = line && /^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/.exec(line.trim());
  if (!match) return undefined;
  const seconds = (minutes: string, rest: string) => Math.round((Number(minutes) * 60 + Number(rest)) * 1000) / 1000;
  return { user: seconds(match[1]!, match[2]!), system: seconds(match[3]!, match[4]!) };
}

function signalNumber(signal: NodeJS.Signals): number {
  return ({ SIGTERM: 15, SIGKILL: 9, SIGINT: 2 } as Record<string, number>)[signal] ?? 1;
}
