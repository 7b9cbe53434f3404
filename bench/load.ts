import http from "node:http";

export interface LoadResult {
  requests: number;
  failures: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

export interface RequestSpec {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

/**
 * Closed-loop load: `concurrency` clients on keep-alive sockets send requests back to back for
 * `seconds`. Bounded in time and count, loopback only.
 */
export async function runLoad(
  port: number,
  spec: () => RequestSpec,
  options: { concurrency: number; seconds: number; maxRequests?: number },
): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  const latencies: number[] = [];
  let failures = 0;
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  const limit = options.maxRequests ?? Number.POSITIVE_INFINITY;

  const once = async (request: RequestSpec) => {
    const t0 = performance.now();
    const ok = await succeeds(port, agent, request);
    latencies.push(performance.now() - t0);
    if (!ok) failures += 1;
  };

  const client = async () => {
    while (performance.now() < deadline && latencies.length < limit) await once(spec());
  };
  await Promise.all(Array.from({ length: options.concurrency }, client));
  agent.destroy();
  return summary(latencies, failures, started);
}

/** One request on `agent`; whether it was answered 2xx (a connection error is a failure). */
function succeeds(port: number, agent: http.Agent, request: RequestSpec): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.request(
      { host: "127.0.0.1", port, agent, method: request.method, path: request.path, headers: request.headers },
      (res) => {
        res.resume();
        res.on("end", () => resolve((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300));
      },
    );
    req.on("error", () => resolve(false));
    req.end(request.body);
  });
}

function summary(latencies: number[], failures: number, started: number): LoadResult {
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { requests: latencies.length, failures, seconds, perSecond: latencies.length / seconds, p50Ms: at(0.5), p99Ms: at(0.99) };
}

export interface RoundResult extends LoadResult {
  /** Process CPU time (user + system, load generator included) per request. */
  cpuMsPerRequest: number;
  /** Requests per second of each round, in order (one figure for a single run). */
  rounds?: number[];
}

/** Closed-loop load, with the process CPU it took. */
export async function runMeasured(
  port: number,
  spec: () => RequestSpec,
  options: { concurrency: number; seconds: number },
): Promise<RoundResult> {
  const cpu = process.cpuUsage();
  const result = await runLoad(port, spec, options);
  const used = process.cpuUsage(cpu);
  return { ...result, cpuMsPerRequest: (used.user + used.system) / 1000 / Math.max(1, result.requests) };
}

/**
 * Baseline and scenarios measured in alternating rounds (the machine's noise hits both alike);
 * each figure is the median over the rounds, and each round's rate is kept for paired ratios.
 * A first round warms every one up (the JIT, connections, prepared statements) and is not counted:
 * measured, it ran at 0.4-0.7 of the next ones.
 */
export async function interleaved(rounds: number, runs: Array<() => Promise<RoundResult>>): Promise<RoundResult[]> {
  for (const run of runs) await run();
  const results: RoundResult[][] = runs.map(() => []);
  for (let round = 0; round < rounds; round += 1) for (const [index, run] of runs.entries()) results[index]!.push(await run());
  return results.map((series) => {
    const median = (pick: (r: RoundResult) => number) => [...series.map(pick)].sort((a, b) => a - b)[Math.floor(series.length / 2)]!;
    return {
      requests: series.reduce((sum, r) => sum + r.requests, 0),
      failures: series.reduce((sum, r) => sum + r.failures, 0),
      seconds: series.reduce((sum, r) => sum + r.seconds, 0),
      perSecond: median((r) => r.perSecond),
      p50Ms: median((r) => r.p50Ms),
      p99Ms: median((r) => r.p99Ms),
      cpuMsPerRequest: median((r) => r.cpuMsPerRequest),
      rounds: series.map((r) => r.perSecond),
    };
  });
}

/**
 * The scenario's rate over the baseline's, round by round (each against the baseline measured
 * just before it, so a slow spell of the machine cancels out): the median and the range.
 */
export function pairedRatio(scenario: RoundResult, baseline: RoundResult): { median: number; low: number; high: number } {
  const theirs = baseline.rounds ?? [baseline.perSecond];
  const ratios = (scenario.rounds ?? [scenario.perSecond]).map((rate, index) => rate / theirs[Math.min(index, theirs.length - 1)]!);
  ratios.sort((a, b) => a - b);
  return { median: ratios[Math.floor(ratios.length / 2)]!, low: ratios[0]!, high: ratios[ratios.length - 1]! };
}

export interface OpenLoopOptions {
  perSecond: number;
  seconds: number;
}

/**
 * Open-loop load: requests start at a fixed rate whatever the answers do (so a slow answer
 * cannot hide queueing, as it can in a closed loop); latency counts from the scheduled start.
 * A warm-up at the same rate, not counted, first opens the connections and warms the client's JIT.
 */
export async function runOpenLoop(
  port: number,
  spec: () => RequestSpec,
  options: OpenLoopOptions & { warmUpSeconds?: number },
): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const send = () => succeeds(port, agent, spec());
  try {
    if (options.warmUpSeconds) await openLoop({ perSecond: options.perSecond, seconds: options.warmUpSeconds }, send);
    return await openLoop(options, send);
  } finally {
    agent.destroy();
  }
}

/** Starts `send` (which tells whether it succeeded) at a fixed rate; latency from each scheduled start. */
export async function openLoop(options: OpenLoopOptions, send: () => Promise<boolean>): Promise<LoadResult> {
  const latencies: number[] = [];
  let failures = 0;
  const started = performance.now();
  const total = Math.floor(options.perSecond * options.seconds);
  const inFlight: Array<Promise<void>> = [];
  for (let i = 0; i < total; i += 1) {
    const scheduled = started + (i * 1000) / options.perSecond;
    const wait = scheduled - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    // From the scheduled start, or from the actual one when the timer woke up to 1 ms early.
    const from = Math.min(scheduled, performance.now());
    inFlight.push(
      send()
        .catch(() => false)
        .then((ok) => {
          latencies.push(performance.now() - from);
          if (!ok) failures += 1;
        }),
    );
  }
  await Promise.all(inFlight);
  return summary(latencies, failures, started);
}
