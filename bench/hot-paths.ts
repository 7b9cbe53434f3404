/**
 * The hot paths against a bare Express route, in interleaved rounds: authenticated registry
 * reads, and task submissions (the accept path, then the Kubernetes dispatch on its own).
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import express from "express";
import { databaseOpenLoop, driverReadRoute } from "./database-floor.js";
import { startFakeCluster, argoEnv } from "../tests/support/fake-kube/fake-cluster.js";
import { registerTrainingWorld } from "./fixtures.js";
import { interleaved, pairedRatio, runMeasured, runOpenLoop, type LoadResult, type RoundResult } from "./load.js";
import { API, databaseName, listen, listeningService } from "./service.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SECONDS = Number(process.env.BENCH_ROUND_SECONDS ?? 2);
/** Each open-loop run. */
const OPEN_SECONDS = 4;

async function bareRoute() {
  const bare = express();
  bare.post("/bare", express.json(), (_req, res) => void res.json({ detail: "ok", data: [] }));
  const { server, port } = await listen(bare);
  const request = () => ({ method: "POST", path: "/bare", body: "{}", headers: { "Content-Type": "application/json" } });
  return {
    run: (concurrency: number) => runMeasured(port, request, { concurrency, seconds: SECONDS }),
    openLoop: (perSecond: number) => runOpenLoop(port, request, { perSecond, seconds: OPEN_SECONDS }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The middle of three open-loop runs by p99, and every run's p99 to show the spread. */
function middleByP99(runs: LoadResult[]): { middle: LoadResult; spread: string } {
  return {
    middle: [...runs].sort((a, b) => a.p99Ms - b.p99Ms)[Math.floor(runs.length / 2)]!,
    spread: runs.map((r) => r.p99Ms.toFixed(1)).join(", "),
  };
}

function pairedRatioText(result: RoundResult, baseline: RoundResult): string {
  const { median, low, high } = pairedRatio(result, baseline);
  return `${median.toFixed(3)} (${low.toFixed(3)}-${high.toFixed(3)})`;
}

function row(name: string, result: RoundResult | LoadResult, baseline?: RoundResult) {
  return {
    scenario: name,
    "req/s": Math.round(result.perSecond),
    "ratio to baseline (rounds' range)": baseline && "cpuMsPerRequest" in result ? pairedRatioText(result, baseline) : "1.000",
    "p50 ms": result.p50Ms.toFixed(2),
    "p99 ms": result.p99Ms.toFixed(2),
    "CPU ms/req": "cpuMsPerRequest" in result ? result.cpuMsPerRequest.toFixed(3) : "",
    failures: result.failures,
  };
}

export async function registryReads(): Promise<void> {
  const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 32);
  const bare = await bareRoute();
  const cached = await listeningService({});
  const uncached = await listeningService({ AUTH_CACHE_TTL_SECONDS: "0" });
  const projects = async (instance: typeof cached) => {
    for (let i = 0; i < 20; i += 1)
      await instance.container.db.projects.create({
        uid: crypto.randomUUID(),
        name: `p${i}`,
        description: "",
        organizationUid: instance.organizationUid,
      });
    const body = JSON.stringify({ f_organization_uid: instance.organizationUid });
    return () => ({
      method: "POST",
      path: `${API}/a75vPQAyPqVGFwiZ`,
      body,
      headers: {
        "Content-Type": "application/json",
        "X-Access-Key": instance.credentials.access_key,
        "X-Secret-Key": instance.credentials.secret_key,
      },
    });
  };
  const withCache = await projects(cached);
  const withoutCache = await projects(uncached);
  const floor = await driverReadRoute(cached.databaseUrl, cached.organizationUid);
  const [baseline, driver, hit, miss] = await interleaved(ROUNDS, [
    () => bare.run(concurrency),
    () => runMeasured(floor.port, floor.request, { concurrency, seconds: SECONDS }),
    () => runMeasured(cached.port, withCache, { concurrency, seconds: SECONDS }),
    () => runMeasured(uncached.port, withoutCache, { concurrency, seconds: SECONDS / 2 }),
  ]);
  await floor.close();
  await Promise.all([bare.close(), cached.close(), uncached.close()]);
  console.log(`\nRegistry reads on ${databaseName()} (${concurrency} clients, ${ROUNDS} interleaved rounds after a warm-up, medians)`);
  console.table([
    row("bare Express route (baseline)", baseline!),
    row("bare Express route + the list's query through the driver (what the stack allows)", driver!, baseline),
    row("list projects, credential cached", hit!, baseline),
    row("list projects, credential cache off (bcrypt cost 12 each)", miss!, baseline),
  ]);
}

/** A service on a fake cluster whose controller runs nothing, with a training world: what a submission needs. */
async function submissionService() {
  const cluster = await startFakeCluster();
  cluster.controller.stop(); // nothing runs: this measures the service's own path and its Kubernetes calls
  // The service's own timings for leadership and resumes, not the tests' quick ones.
  const production = { LEADER_LEASE_SECONDS: "15", LEADER_LEASE_RENEW_SECONDS: "5", DISPATCH_STRANDED_SECONDS: "30" };
  const instance = await listeningService(argoEnv(cluster, { AUTH_CACHE_TTL_SECONDS: "600", ...production }));
  await instance.container.start(instance.url);
  const world = await registerTrainingWorld(
    instance.url,
    instance.credentials,
    { content: "exit 0\n", extension: "sh" },
    "registry.local/train:1",
  );
  const body = JSON.stringify(world.trainingBody);
  return {
    cluster,
    instance,
    submit: () => ({ method: "POST", path: `${API}/q8uzMBcM5YJH6dPf`, body, headers: { "Content-Type": "application/json" } }),
    close: async () => {
      await instance.close();
      await cluster.close();
    },
  };
}

export async function submissions(): Promise<void> {
  const concurrency = Number(process.env.BENCH_SUBMIT_CONCURRENCY ?? 64);
  const bare = await bareRoute();
  const { cluster, instance, submit, close } = await submissionService();
  const kubeCalls = () => cluster.server.requests.filter((r) => !r.watch && r.resource !== "leases" && r.method !== "GET").length;

  // Accept path alone: dispatch is held during each round, then timed on its own as the queue drains.
  const dispatched: Array<{ tasks: number; seconds: number; calls: number }> = [];
  const accept = async () => {
    const dispatcher = instance.container.dispatcher;
    dispatcher.pauseDispatch();
    const result = await runMeasured(instance.port, submit, { concurrency, seconds: SECONDS });
    const calls = kubeCalls();
    const started = performance.now();
    dispatcher.resumeDispatch();
    await dispatcher.idle();
    dispatched.push({
      tasks: result.requests - result.failures,
      seconds: (performance.now() - started) / 1000,
      calls: kubeCalls() - calls,
    });
    return result;
  };
  const [baseline, accepted] = await interleaved(ROUNDS, [() => bare.run(concurrency), accept]);
  const acceptedInRounds = dispatched.reduce((sum, d) => sum + d.tasks, 0);
  const dispatchSeconds = dispatched.reduce((sum, d) => sum + d.seconds, 0);
  const callsPerTask = dispatched.reduce((sum, d) => sum + d.calls, 0) / Math.max(1, acceptedInRounds);
  await close();

  // Open loop at half the measured maximum: the latency a client sees when the service is not
  // saturated. On a fresh service and fake cluster: the one above holds every Workflow the rounds
  // created in this process's heap (the fake API server's store), and its major GCs are not the
  // service's. Three runs with dispatch held, the median reported: one run's p99 is a handful of
  // requests, and a database's own background work (PostgreSQL's autovacuum) can land in any one.
  // The bare route and the database alone (one committed INSERT per request) at the same rate,
  // run by run in between, show the machine's own tail and its database's: the service's cannot be shorter.
  const openRate = Math.max(1, Math.round(accepted!.perSecond / 2));
  const fresh = await submissionService();
  fresh.instance.container.dispatcher.pauseDispatch();
  await runMeasured(fresh.instance.port, fresh.submit, { concurrency: 8, seconds: 1 }); // warm-up: connections, statements
  const openRuns: LoadResult[] = [];
  const bareOpenRuns: LoadResult[] = [];
  const databaseOpenRuns: LoadResult[] = [];
  const loopDelays: number[] = [];
  for (let run = 0; run < 3; run += 1) {
    bareOpenRuns.push(await bare.openLoop(openRate));
    databaseOpenRuns.push(await databaseOpenLoop(fresh.instance.databaseUrl, { perSecond: openRate, seconds: OPEN_SECONDS }));
    const delay = monitorEventLoopDelay({ resolution: 5 });
    delay.enable();
    openRuns.push(await runOpenLoop(fresh.instance.port, fresh.submit, { perSecond: openRate, seconds: OPEN_SECONDS }));
    delay.disable();
    loopDelays.push(delay.percentile(99) / 1e6);
  }
  fresh.instance.container.dispatcher.resumeDispatch();
  await fresh.instance.container.dispatcher.idle();
  await Promise.all([fresh.close(), bare.close()]);
  const open = middleByP99(openRuns);
  const bareOpen = middleByP99(bareOpenRuns);
  const databaseOpen = middleByP99(databaseOpenRuns);

  console.log(
    `\nTask submissions on ${databaseName()} (${concurrency} clients, ${ROUNDS} interleaved rounds, medians; fake Kubernetes API at zero latency)`,
  );
  console.table([
    row("bare Express route (baseline)", baseline!),
    row("submit a training task: accept path (auth, checks, one write; dispatch held)", accepted!, baseline),
    row(`bare Express route, open loop at ${openRate}/s (median of 3 runs by p99: ${bareOpen.spread} ms)`, bareOpen.middle),
    row(
      `${databaseName()} alone, one committed INSERT each, open loop at ${openRate}/s (median of 3 by p99: ${databaseOpen.spread} ms)`,
      databaseOpen.middle,
    ),
    row(
      `submission, open loop at ${openRate}/s (half the maximum; dispatch held; median of 3 runs by p99: ${open.spread} ms; ` +
        `event-loop delay p99 ${loopDelays.map((d) => d.toFixed(1)).join(", ")} ms)`,
      open.middle,
    ),
  ]);
  console.log(
    `dispatch on its own: ${acceptedInRounds} tasks handed to Kubernetes at ${(acceptedInRounds / dispatchSeconds).toFixed(0)}/s ` +
      `(DISPATCH_CONCURRENCY 8); Kubernetes writes per task: ${callsPerTask.toFixed(2)} (Workflow create, Secret create)`,
  );
}
