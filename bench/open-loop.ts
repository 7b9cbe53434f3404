/**
 * Submission latency in an open loop at a fixed rate (half the measured maximum): the latency a
 * client sees when the service is not saturated. It runs in a process of its own, started for
 * it: the closed-loop rounds before it leave hundreds of MB of garbage in their process (every
 * Workflow the fake API server stored), and collecting and re-growing that heap is not the
 * service's tail.
 */
import { spawn } from "node:child_process";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { databaseOpenLoop } from "./database-floor.js";
import { runMeasured, runOpenLoop, type LoadResult, type OpenLoopOptions, type RequestSpec } from "./load.js";
import { bareRoute, submissionService } from "./service.js";

/** Each open-loop run. */
const RUN_SECONDS = 4;
const RUNS = 3;
/** The event-loop monitor's timer interval: a delay is how much later than this it fired. */
const LOOP_RESOLUTION_MS = 5;
const RESULT_PREFIX = "open-loop-figures ";

export interface OpenLoopFigures {
  rate: number;
  service: LoadResult[];
  bare: LoadResult[];
  database: LoadResult[];
  /** The service process's event-loop delay p99 over each service run, ms. */
  loopDelayP99: number[];
  /** What touching one fresh 4 KiB page of memory costs on this machine, µs (a garbage collector's new pages). */
  pageFaultMicros: number;
}

/**
 * Three runs, each after a run of the bare route (on the service's kind of HTTP server) and one of
 * the database alone (one committed INSERT per request) at the same rate: the machine's own tail
 * and its database's, which the service's cannot undercut. The load comes from a process of its
 * own. Dispatch is held (the fake API server shares this process).
 */
async function openLoopFigures(rate: number): Promise<OpenLoopFigures> {
  const bare = await bareRoute("service");
  const fresh = await submissionService();
  const figures: OpenLoopFigures = { rate, service: [], bare: [], database: [], loopDelayP99: [], pageFaultMicros: pageFaultMicros() };
  try {
    fresh.instance.container.dispatcher.pauseDispatch();
    // Warm-up: the JIT, and every pooled connection opened with its statements prepared (on PostgreSQL
    // the submission's joined read takes ~9 ms to parse, once per connection).
    await runMeasured(fresh.instance.port, fresh.submit, { concurrency: 32, seconds: 2 });
    const options = { perSecond: rate, seconds: RUN_SECONDS };
    for (let run = 0; run < RUNS; run += 1) {
      figures.bare.push(await openLoopFromOwnProcess(bare.port, bare.request(), options));
      figures.database.push(await databaseOpenLoop(fresh.instance.databaseUrl, options));
      const delay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
      delay.enable();
      figures.service.push(await openLoopFromOwnProcess(fresh.instance.port, fresh.submit(), options));
      delay.disable();
      figures.loopDelayP99.push(Math.max(0, delay.percentile(99) / 1e6 - LOOP_RESOLUTION_MS));
    }
    fresh.instance.container.dispatcher.resumeDispatch();
    await fresh.instance.container.dispatcher.idle();
    return figures;
  } finally {
    await Promise.all([fresh.close(), bare.close()]);
  }
}

/** `openLoopFigures` in a child process of this bench. */
export function openLoopInFreshProcess(rate: number): Promise<OpenLoopFigures> {
  return inChildProcess<OpenLoopFigures>(OPEN_LOOP_CHILD, String(rate));
}

/**
 * `runOpenLoop` from a process of its own: a client in the server's process takes its event loop
 * (building requests, parsing answers, its own garbage) and adds its own stalls to every answer's
 * latency; a real client is elsewhere.
 */
function openLoopFromOwnProcess(port: number, request: RequestSpec, options: OpenLoopOptions): Promise<LoadResult> {
  return inChildProcess<LoadResult>(LOAD_CHILD, JSON.stringify({ port, request, options }));
}

/** This bench's script again, in a child process (same Node flags, same environment), as `role`; what it printed after `RESULT_PREFIX`. */
function inChildProcess<T>(role: string, argument: string): Promise<T> {
  const script = new URL("./run.ts", import.meta.url).pathname;
  const child = spawn(process.execPath, [...process.execArgv, script, role, argument], { stdio: ["ignore", "pipe", "inherit"] });
  let output = "";
  child.stdout.setEncoding("utf8").on("data", (text: string) => (output += text));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => {
      const line = output.split("\n").find((l) => l.startsWith(RESULT_PREFIX));
      if (code !== 0 || !line) reject(new Error(`the ${role} process ended with ${code} and no figures`));
      else resolve(JSON.parse(line.slice(RESULT_PREFIX.length)) as T);
    });
  });
}

/** The arguments `run.ts` takes to be one of these children. */
const OPEN_LOOP_CHILD = "--open-loop-child";
const LOAD_CHILD = "--open-loop-load";

/** Runs the child role `run.ts` was started as, if any; whether it was one. */
export async function runAsChild(role: string | undefined, argument: string): Promise<boolean> {
  let figures: unknown;
  if (role === OPEN_LOOP_CHILD) figures = await openLoopFigures(Number(argument));
  else if (role === LOAD_CHILD) {
    const { port, request, options } = JSON.parse(argument) as { port: number; request: RequestSpec; options: OpenLoopOptions };
    // A fresh process: its HTTP client is cold and it has no connections yet.
    figures = await runOpenLoop(port, () => request, { ...options, warmUpSeconds: 1 });
  } else return false;
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(figures)}\n`);
  return true;
}

/** Microseconds per first touch of a fresh page, over 64 MiB (native Linux: well under 1; a microVM may take 10+). */
function pageFaultMicros(): number {
  const pages = 16_384;
  const started = performance.now();
  const memory = Buffer.allocUnsafeSlow(pages * 4096);
  for (let offset = 0; offset < memory.length; offset += 4096) memory[offset] = 1;
  return ((performance.now() - started) * 1000) / pages;
}
