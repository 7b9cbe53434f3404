/**
 * The hot paths against a bare Express route, in interleaved rounds: authenticated registry
 * reads, and task submissions (the accept path, then the Kubernetes dispatch on its own).
 */
import { driverReadRoute } from "./database-floor.js";
import { interleaved, pairedRatio, runMeasured, type LoadResult, type RoundResult } from "./load.js";
import { openLoopInFreshProcess } from "./open-loop.js";
import { API, bareRoute, databaseName, listeningService, submissionService } from "./service.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
/** The baseline served as the service serves its app (requests born with Express's prototypes): what the service's HTTP layer alone gains. */
const BARE_ON_OURS = "bare Express route on the service's HTTP server (no per-request prototype change)";
const SECONDS = Number(process.env.BENCH_ROUND_SECONDS ?? 2);

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
  const bareOnOurs = await bareRoute("service");
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
  const [baseline, bareOnOursResult, driver, hit, miss] = await interleaved(ROUNDS, [
    () => runMeasured(bare.port, bare.request, { concurrency, seconds: SECONDS }),
    () => runMeasured(bareOnOurs.port, bareOnOurs.request, { concurrency, seconds: SECONDS }),
    () => runMeasured(floor.port, floor.request, { concurrency, seconds: SECONDS }),
    () => runMeasured(cached.port, withCache, { concurrency, seconds: SECONDS }),
    () => runMeasured(uncached.port, withoutCache, { concurrency, seconds: SECONDS / 2 }),
  ]);
  await floor.close();
  await Promise.all([bare.close(), bareOnOurs.close(), cached.close(), uncached.close()]);
  console.log(`\nRegistry reads on ${databaseName()} (${concurrency} clients, ${ROUNDS} interleaved rounds after a warm-up, medians)`);
  console.table([
    row("bare Express route (baseline)", baseline!),
    row(BARE_ON_OURS, bareOnOursResult!, baseline),
    row("bare Express route on the service's HTTP server + the list's query through the driver (what the stack allows)", driver!, baseline),
    row("list projects, credential cached", hit!, baseline),
    row("list projects, credential cache off (bcrypt cost 12 each)", miss!, baseline),
  ]);
}

export async function submissions(): Promise<void> {
  const concurrency = Number(process.env.BENCH_SUBMIT_CONCURRENCY ?? 64);
  const bare = await bareRoute();
  const bareOnOurs = await bareRoute("service");
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
  const [baseline, bareOnOursResult, accepted] = await interleaved(ROUNDS, [
    () => runMeasured(bare.port, bare.request, { concurrency, seconds: SECONDS }),
    () => runMeasured(bareOnOurs.port, bareOnOurs.request, { concurrency, seconds: SECONDS }),
    accept,
  ]);
  const acceptedInRounds = dispatched.reduce((sum, d) => sum + d.tasks, 0);
  const dispatchSeconds = dispatched.reduce((sum, d) => sum + d.seconds, 0);
  const callsPerTask = dispatched.reduce((sum, d) => sum + d.calls, 0) / Math.max(1, acceptedInRounds);
  await Promise.all([close(), bare.close(), bareOnOurs.close()]);

  // Three runs, the median reported: one run's p99 is a handful of requests, and a database's own
  // background work (PostgreSQL's autovacuum) can land in any one.
  const open = await openLoopInFreshProcess(Math.max(1, Math.round(accepted!.perSecond / 2)));
  const service = middleByP99(open.service);
  const bareOpen = middleByP99(open.bare);
  const databaseOpen = middleByP99(open.database);
  const openRate = open.rate;

  console.log(
    `\nTask submissions on ${databaseName()} (${concurrency} clients, ${ROUNDS} interleaved rounds, medians; fake Kubernetes API at zero latency)`,
  );
  console.table([
    row("bare Express route (baseline)", baseline!),
    row(BARE_ON_OURS, bareOnOursResult!, baseline),
    row("submit a training task: accept path (auth, checks, one write; dispatch held)", accepted!, baseline),
    row(
      `bare Express route on the service's HTTP server, open loop at ${openRate}/s (median of 3 runs by p99: ${bareOpen.spread} ms)`,
      bareOpen.middle,
    ),
    row(
      `${databaseName()} alone, one committed INSERT each, open loop at ${openRate}/s (median of 3 by p99: ${databaseOpen.spread} ms)`,
      databaseOpen.middle,
    ),
    row(
      `submission, open loop at ${openRate}/s (half the maximum; dispatch held; median of 3 runs by p99: ${service.spread} ms; ` +
        `event-loop delay p99 ${open.loopDelayP99.map((d) => d.toFixed(1)).join(", ")} ms)`,
      service.middle,
    ),
  ]);
  console.log(
    `open loop in a process of its own; there, the first touch of a fresh memory page took ${open.pageFaultMicros.toFixed(2)} µs ` +
      `(native Linux: well under 1): each MB a garbage collection newly commits costs ${((open.pageFaultMicros * 256) / 1000).toFixed(1)} ms`,
  );
  console.log(
    `dispatch on its own: ${acceptedInRounds} tasks handed to Kubernetes at ${(acceptedInRounds / dispatchSeconds).toFixed(0)}/s ` +
      `(DISPATCH_CONCURRENCY 8); Kubernetes writes per task: ${callsPerTask.toFixed(2)} (Workflow create, Secret create)`,
  );
}
