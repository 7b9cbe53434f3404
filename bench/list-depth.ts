/**
 * Task info and list pages as a pipeline grows from 1k to 1M tasks: the rows are seeded straight
 * into the database (one INSERT ... SELECT per step), then the first page, a page 90% deep (by
 * its cursor) and one task's info are timed through HTTP at each size.
 */
import { createClient } from "@libsql/client";
import pg from "pg";
import { encodeCursor } from "../src/http/shared/cursor.js";
import { registerTrainingWorld } from "./fixtures.js";
import { runLoad } from "./load.js";
import { API, databaseName, listeningService } from "./service.js";

const SIZES = (process.env.BENCH_LIST_SIZES ?? "1000,100000,1000000").split(",").map(Number);
const SECONDS = Number(process.env.BENCH_ROUND_SECONDS ?? 2);
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

export async function listDepth(): Promise<void> {
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
  const pipelineUid = world.trainingBody.pipeline_uid as string;
  const seeds = seeder(instance.databaseUrl);
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
  const p50 = async (spec: ReturnType<typeof post>) => {
    await runLoad(instance.port, spec, { concurrency: 4, seconds: 1 }); // warm-up: caches, JIT, the page cache
    return (await runLoad(instance.port, spec, { concurrency: 4, seconds: SECONDS })).p50Ms;
  };

  const rows = [];
  let seeded = 0;
  for (const size of SIZES) {
    const started = performance.now();
    await seeds.seed(template, seeded, size);
    seeded = size;
    const seedSeconds = (performance.now() - started) / 1000;
    // The row 90% deep in creation order, as the page before it would have handed out its cursor.
    const deep = Math.floor(size * 0.9);
    const deepUid = `00000000-0000-4000-8000-${deep.toString(16).padStart(12, "0")}`;
    const cursor = encodeCursor({ createdAt: new Date((EPOCH_SECONDS + deep / 1000) * 1000), uid: deepUid });
    const [info, first, deepPage] = [
      await p50(post("KlnZtRyqy3rPAZWL", { uid: deepUid })),
      await p50(post("s8i1TNiTXwwv02mv", { f_pipeline_uid: pipelineUid, limit: 100 })),
      await p50(post("s8i1TNiTXwwv02mv", { f_pipeline_uid: pipelineUid, limit: 100, cursor })),
    ];
    rows.push({
      tasks: size,
      "seeding s": seedSeconds.toFixed(1),
      "task info p50 ms": info,
      "first page p50 ms": first,
      "90%-deep page p50 ms": deepPage,
    });
  }
  await seeds.close();
  await instance.close();
  const base = rows[0]!;
  console.log(`\nTask info and list pages (100 items) as one pipeline grows, on ${databaseName()} (4 clients, ${SECONDS}s each)`);
  console.table(
    rows.map((r) => ({
      ...r,
      "task info p50 ms": `${r["task info p50 ms"].toFixed(2)} (${(r["task info p50 ms"] / base["task info p50 ms"]).toFixed(2)}×)`,
      "first page p50 ms": `${r["first page p50 ms"].toFixed(2)} (${(r["first page p50 ms"] / base["first page p50 ms"]).toFixed(2)}×)`,
      "90%-deep page p50 ms": `${r["90%-deep page p50 ms"].toFixed(2)} (${(r["90%-deep page p50 ms"] / base["90%-deep page p50 ms"]).toFixed(2)}×)`,
    })),
  );
}
