/** One step as a process: started in its own process group with its output in a log file, stopped as a group. */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { open } from "node:fs/promises";

export interface StepOutcome {
  exitCode: number;
  /** Why it could not start, when it could not. */
  failure?: string;
  durationSeconds: number;
}

/**
 * Runs `argv` to its end, appending stdout and stderr to `logPath`. `started` receives the
 * child (to stop it). A signal's death is the shell's convention, 128 + its number.
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
      stdio: ["ignore", log, log],
      env: options.env,
    });
    options.started(child);
    const { exitCode, failure } = await new Promise<{ exitCode: number; failure?: string }>((resolve) => {
      child.on("error", (error) => resolve({ exitCode: 127, failure: `could not start ${options.argv[0]}: ${error.message}` }));
      child.on("exit", (code, signal) => resolve({ exitCode: code ?? (signal ? 128 + signalNumber(signal) : 1) }));
    });
    return { exitCode, ...(failure ? { failure } : {}), durationSeconds: Math.round((performance.now() - begun) / 10) / 100 };
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

function signalNumber(signal: NodeJS.Signals): number {
  return ({ SIGTERM: 15, SIGKILL: 9, SIGINT: 2 } as Record<string, number>)[signal] ?? 1;
}
