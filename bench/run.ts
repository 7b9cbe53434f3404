/**
 * `npm run bench [suite]`: every figure is a ratio against a baseline measured in the same run,
 * so results compare across machines. Servers and load share this process (loopback only), but
 * for the open loop, whose servers and load each run in a process of their own.
 * `TEST_DATABASE_URL=postgresql://...` runs them on PostgreSQL.
 */
import { startFakeCluster, argoEnv } from "../tests/support/fake-kube/fake-cluster.js";
import { registerTrainingWorld } from "./fixtures.js";
import { registryReads, submissions } from "./hot-paths.js";
import { listDepth } from "./list-depth.js";
import { runAsChild } from "./open-loop.js";
import { API, listeningService } from "./service.js";

async function localEngine() {
  const instance = await listeningService({ LOCAL_CONCURRENCY: "2" });
  await instance.container.start(instance.url);
  const world = await registerTrainingWorld(instance.url, instance.credentials, {
    content: 'touch "$OUTPUTS_DIR/$OUTPUT_FILE_NAME"\n',
    extension: "sh",
  });
  const count = Number(process.env.BENCH_LOCAL_TASKS ?? 12);
  const started = performance.now();
  const uids: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const response = await fetch(`${instance.url}${API}/q8uzMBcM5YJH6dPf`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(world.trainingBody),
    });
    uids.push(((await response.json()) as { data: { uid: string } }).data.uid);
  }
  const done = async () => (await instance.container.db.tasks.count({ status: { in: ["success", "fail"] } })) === count;
  while (!(await done())) await new Promise((resolve) => setTimeout(resolve, 20));
  const seconds = (performance.now() - started) / 1000;
  const tasks = await Promise.all(uids.map((uid) => instance.container.db.tasks.find(uid)));
  const steps = await Promise.all(uids.map((uid) => instance.container.db.taskSteps.listFor(uid)));
  const failed = tasks.filter((t) => t!.status !== "success").length;
  const latency = tasks.map((t) => (t!.finishedAt!.getTime() - t!.createdAt.getTime()) / 1000);
  const program = steps.map((s) =>
    s.filter((x) => x.sequence === "running").reduce((sum, x) => sum + (x.finishedAt!.getTime() - x.startedAt!.getTime()) / 1000, 0),
  );
  // From the first step's start to the last step's end: the run itself, without time in the queue.
  const run = steps.map(
    (s) => (Math.max(...s.map((x) => x.finishedAt!.getTime())) - Math.min(...s.map((x) => x.startedAt!.getTime()))) / 1000,
  );
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  await instance.close();
  console.log(`\nLocal engine (${count} tasks, concurrency 2, a program that only writes its output)`);
  console.table([
    {
      "tasks/minute": Math.round(((count - failed) / seconds) * 60),
      failed,
      "mean latency incl. queue s": mean(latency).toFixed(2),
      "mean run s (first step start to last step end)": mean(run).toFixed(2),
      "mean program s": mean(program).toFixed(2),
      "engine overhead per task s (run - program)": (mean(run) - mean(program)).toFixed(2),
    },
  ]);
}

/** Reads an SSE or chunked stream until `predicate` holds for the text so far; resolves with the ms taken. */
async function timeUntil(response: Response, predicate: (text: string) => boolean, started: number): Promise<number> {
  let text = "";
  const decoder = new TextDecoder();
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    text += decoder.decode(chunk, { stream: true });
    if (predicate(text)) return performance.now() - started;
  }
  throw new Error("stream ended first");
}

async function logs() {
  const cluster = await startFakeCluster();
  const instance = await listeningService(argoEnv(cluster, {}));
  cluster.stepApi.url = instance.url;
  await instance.container.start(instance.url);
  while (!cluster.server.get("leases", "argo", "argo-entrypoint-leader")) await new Promise((resolve) => setTimeout(resolve, 20));
  const world = await registerTrainingWorld(instance.url, instance.credentials, { content: "exit 0\n", extension: "sh" });
  let write!: (line: string) => void;
  let release!: () => void;
  let pod = "";
  cluster.behavior.running = (context) =>
    new Promise((resolve) => {
      write = context.log;
      pod = cluster.server.list(
        "pods",
        "argo",
        (p) => p.metadata.labels?.["workflows.argoproj.io/workflow"] === context.workflow && p.metadata.name!.includes("-running-"),
      )[0]!.metadata.name!;
      release = () => resolve(0);
    });
  const submitted = await fetch(`${instance.url}${API}/q8uzMBcM5YJH6dPf`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(world.trainingBody),
  });
  const taskUid = ((await submitted.json()) as { data: { uid: string } }).data.uid;
  while (!write || (await instance.container.db.taskSteps.listFor(taskUid)).find((s) => s.sequence === "running")?.phase !== "Running")
    await new Promise((resolve) => setTimeout(resolve, 20));

  const rounds = 20;
  const viaService: number[] = [];
  const direct: number[] = [];
  const follow = () =>
    fetch(`${instance.url}${API}/Fw3lGz8Kc1VbN6mQ`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ ...world.credentials, task_uid: taskUid, step: "training" }),
    });
  const raw = () =>
    fetch(`${cluster.server.url}/api/v1/namespaces/argo/pods/${pod}/log?container=main&follow=true&tailLines=0`, {
      headers: { Authorization: `Bearer ${cluster.server.token}` },
    });
  for (let i = 0; i < rounds; i += 1) {
    for (const [open, into] of [
      [follow, viaService],
      [raw, direct],
    ] as const) {
      const response = await open();
      await new Promise((resolve) => setTimeout(resolve, 30)); // attached
      const marker = `marker-${i}-${into === viaService ? "s" : "d"}`;
      const started = performance.now();
      const waiting = timeUntil(response, (text) => text.includes(marker), started);
      write(marker);
      into.push(await waiting);
      await response.body?.cancel();
    }
  }
  const n = Number(process.env.BENCH_FOLLOWERS ?? 100);
  const before = cluster.server.requests.filter((r) => r.resource === "pods/log" && r.query.follow === "true").length;
  const followers = await Promise.all(Array.from({ length: n }, () => follow()));
  while (instance.container.fanout.followers < n) await new Promise((resolve) => setTimeout(resolve, 20));
  const upstream = cluster.server.requests.filter((r) => r.resource === "pods/log" && r.query.follow === "true").length - before;
  release();
  await Promise.all(followers.map((f) => f.body?.cancel()));
  await instance.close();
  await cluster.close();
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(`\nLog follow (Argo engine on the fake API server, ${rounds} rounds)`);
  console.table([
    {
      scenario: "pod log stream read directly (baseline)",
      "median ms to first byte of a new line": median(direct).toFixed(2),
      ratio: "1.00",
    },
    {
      scenario: "followed through the service (SSE)",
      "median ms to first byte of a new line": median(viaService).toFixed(2),
      ratio: (median(viaService) / median(direct)).toFixed(2),
    },
  ]);
  console.log(`upstream log streams for ${n} followers of one step: ${upstream}`);
}

async function bigLog() {
  const instance = await listeningService({});
  await instance.container.start(instance.url);
  const size = Number(process.env.BENCH_LOG_BYTES ?? 1024 ** 3);
  // A running step that prints `size` bytes of 100-character lines.
  const program = `head -c ${size} /dev/zero | tr '\\0' 'a' | fold -w 99\ntouch "$OUTPUTS_DIR/$OUTPUT_FILE_NAME"\n`;
  const world = await registerTrainingWorld(instance.url, instance.credentials, { content: program, extension: "sh" });
  const submitted = await fetch(`${instance.url}${API}/q8uzMBcM5YJH6dPf`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(world.trainingBody),
  });
  const taskUid = ((await submitted.json()) as { data: { uid: string } }).data.uid;
  while ((await instance.container.db.tasks.find(taskUid))!.status !== "success") await new Promise((resolve) => setTimeout(resolve, 200));
  const engine = instance.container.engine as unknown as { logFile(task: string, step: string): string };
  const measure = async (consume: () => Promise<number>) => {
    global.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
    const started = performance.now();
    const bytes = await consume();
    clearInterval(sampler);
    return { bytes, seconds: (performance.now() - started) / 1000, growthMiB: (peak - before) / 1024 ** 2 };
  };
  const { createReadStream } = await import("node:fs");
  const baseline = await measure(async () => {
    let bytes = 0;
    for await (const chunk of createReadStream(engine.logFile(taskUid, "training"))) bytes += (chunk as Buffer).length;
    return bytes;
  });
  const download = await measure(async () => {
    const response = await fetch(`${instance.url}${API}/Lg7dWnQ2xR5tYp8k`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ ...world.credentials, task_uid: taskUid, format: "txt" }),
    });
    let bytes = 0;
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) bytes += chunk.length;
    return bytes;
  });
  await instance.close();
  console.log(`\nStreaming a ${(size / 1024 ** 3).toFixed(2)} GiB step log (client and service in one process)`);
  console.table([
    {
      scenario: "read the log file directly (baseline)",
      "MiB/s": Math.round(baseline.bytes / 1024 ** 2 / baseline.seconds),
      "RSS growth MiB": baseline.growthMiB.toFixed(1),
    },
    {
      scenario: "log download route (.txt) over HTTP",
      "MiB/s": Math.round(download.bytes / 1024 ** 2 / download.seconds),
      "RSS growth MiB": download.growthMiB.toFixed(1),
      "throughput ratio": (download.bytes / download.seconds / (baseline.bytes / baseline.seconds)).toFixed(2),
    },
  ]);
}

async function main() {
  const only = process.argv[2];
  if (await runAsChild(only, process.argv[3] ?? "")) return;
  const suites: Record<string, () => Promise<void>> = {
    registry: registryReads,
    submissions,
    lists: listDepth,
    local: localEngine,
    logs,
    "big-log": bigLog,
  };
  for (const [name, run] of Object.entries(suites)) if (!only || only === name) await run();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
