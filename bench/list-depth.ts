/**
 * Task info and list pages in pipelines of 1k to 1M tasks: the rows are seeded straight into each
 * size's own database (one INSERT ... SELECT), then the first page, a page 90% deep (by its
 * cursor) and one task's info are timed through HTTP, the sizes interleaved in rounds.
 */
import { createClient } from "@libsql/client";
import pg from "pg";
import { encodeCursor } from "../src/http/shared/cursor.js";
import { registerTrainingWorld } from "./fixtures.js";
import { runLoad } from "./load.js";
import { API, databaseName, listeningService } from "./service.js";

const SIZES = (process.env.BENCH_LIST_SIZES ?? "1000,100000,1000000").split(",").map(Number);
const SECONDS = Number(process.env.BENCH_ROUND_SECONDS ?? 2);
const ROUNDS = Number(process.env.BENCH_LIST_ROUNDS ?? 5);
/** Seeded tasks are spaced 1 ms apart from this instant (all older than the real one). */
const EPOCH_SECONDS = Date.UTC(2020, 0, 1) / 1000;

interface Seeder {
  /** Adds copies of the template task numbered [from, to). */
  seed(template: string, from: number, to: number): Promise<void>;
  close(): Promise<void>;
}

const TASK_COLUMNS = [
  "name",
  "description",
  "kind",
  "status",
  "executeStep",
  "statusMessage",
  "updatedAt",
  "finishedAt",
  "organizationUid",
  "createdByUid",
  "pipelineUid",
  "downloadImageUid",
  "runningImageUid",
  "uploadImageUid",
  "configUid",
  "datasetUid",
  "resources",
  "engine",
  "metrics",
]
  .map((c) => `"${c}"`)
  .join(", ");

function seeder(url: string): Seeder {
  if (url.startsWith("file:")) {
    const client = createClient({ url });
    return {
      async seed(template, from, to) {
        await client.execute("PRAGMA busy_timeout = 30000");
        await client.execute({
          sql: `WITH RECURSIVE n(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?)
                INSERT INTO "Task" ("uid", "createdAt", ${TASK_COLUMNS})
                SELECT printf('00000000-0000-4000-8000-%012x', n.i),
                       strftime('%Y-%m-%dT%H:%M:%f', ? + n.i / 1000.0, 'unixepoch') || '+00:00', ${TASK_COLUMNS}
                FROM n, "Task" AS t WHERE t."uid" = ?`,
          args: [from, to, EPOCH_SECONDS, template],
        });
      },
      close: async () => client.close(),
    };
  }
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  return {
    async seed(template, from, to) {
      await pool.query(
        `INSERT INTO "Task" ("uid", "createdAt", ${TASK_COLUMNS})
         SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::text,
                to_timestamp($3 + i / 1000.0) AT TIME ZONE 'UTC', ${TASK_COLUMNS}
         FROM generate_series($1::bigint, $2::bigint - 1) AS i, "Task" AS t WHERE t."uid" = $4`,
        [from, to, EPOCH_SECONDS, template],
      );
      await pool.query(`ANALYZE "Task"`);
    },
    close: () => pool.end(),
  };
}

/** A pipeline of `size` tasks on its own service and database, and the three reads timed on it. */
async function pipelineOf(size: number) {
  const instance = await listeningService({});
  await instance.container.start(instance.url);
  const world = await registerTrainingWorld(instance.url, instance.credentials, {
    content: 'touch "$OUTPUTS_DIR/$OUTPUT_FILE_NAME"\n',
    extension: "sh",
  });
  const submitted = await fetch(`${instance.url}${API}/q8uzMBcM5YJH6dPf`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(world.trainingBody),
  });
  const template = ((await submitted.json()) as { data: { uid: string } }).data.uid;
  while (!["success", "fail"].includes((await instance.container.db.tasks.find(template))!.status))
    await new Promise((resolve) => setTimeout(resolve, 50));
  const seeds = seeder(instance.databaseUrl);
  const started = performance.now();
  await seeds.seed(template, 0, size);
  const seedSeconds = (performance.now() - started) / 1000;
  await seeds.close();
  const headers = {
    "Content-Type": "application/json",
    "X-Access-Key": instance.credentials.access_key,
    "X-Secret-Key": instance.credentials.secret_key,
  };
  const post = (key: string, body: Record<string, unknown>) => () => ({
    method: "POST",
    path: `${API}/${key}`,
    body: JSON.stringify(body),
    headers,
  });
  const pipelineUid = world.trainingBody.pipeline_uid as string;
  // The row 90% deep in creation order, as the page before it would have handed out its cursor.
  const deep = Math.floor(size * 0.9);
  const deepUid = `00000000-0000-4000-8000-${deep.toString(16).padStart(12, "0")}`;
  const cursor = encodeCursor({ createdAt: new Date((EPOCH_SECONDS + deep / 1000) * 1000), uid: deepUid });
  const reads = {
    "task info": post("KlnZtRyqy3rPAZWL", { uid: deepUid }),
    "first page": post("s8i1TNiTXwwv02mv", { f_pipeline_uid: pipelineUid, limit: 100 }),
    "90%-deep page": post("s8i1TNiTXwwv02mv", { f_pipeline_uid: pipelineUid, limit: 100, cursor }),
  };
  for (const spec of Object.values(reads)) await runLoad(instance.port, spec, { concurrency: 4, seconds: 1 }); // warm-up: caches, JIT
  return { size, seedSeconds, instance, reads };
}

/**
 * Each size has its own database, so the sizes are measured side by side in rounds (the
 * machine's drift hits them alike) instead of one after another as one table grows.
 */
export async function listDepth(): Promise<void> {
  const pipelines = [];
  for (const size of SIZES) pipelines.push(await pipelineOf(size));
  const p50s = pipelines.map(() => ({ "task info": [] as number[], "first page": [] as number[], "90%-deep page": [] as number[] }));
  for (let round = 0; round < ROUNDS; round += 1) {
    // Each round starts at another size, so no size is always the one measured first.
    for (let step = 0; step < pipelines.length; step += 1) {
      const index = (round + step) % pipelines.length;
      const { instance, reads } = pipelines[index]!;
      for (const [name, spec] of Object.entries(reads))
        p50s[index]![name as keyof typeof reads].push((await runLoad(instance.port, spec, { concurrency: 4, seconds: SECONDS })).p50Ms);
    }
  }
  await Promise.all(pipelines.map(({ instance }) => instance.close()));

  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const medians = p50s.map((reads) => Object.fromEntries(Object.entries(reads).map(([name, xs]) => [name, median(xs)])));
  const base = medians[0]!;
  console.log(
    `\nTask info and list pages (100 items) by pipeline size, on ${databaseName()} (4 clients, ${ROUNDS} interleaved rounds of ${SECONDS}s, median p50 ms and ratio to the smallest)`,
  );
  console.table(
    pipelines.map(({ size, seedSeconds }, index) => ({
      tasks: size,
      "seeding s": seedSeconds.toFixed(1),
      ...Object.fromEntries(
        Object.entries(medians[index]!).map(([name, ms]) => [`${name} p50 ms`, `${ms.toFixed(2)} (${(ms / base[name]!).toFixed(2)}×)`]),
      ),
    })),
  );
}
