/**
 * `npm run bench`: every figure is a ratio against a baseline measured in the same run, so
 * results compare across machines. Servers and load share this process (loopback only).
 */
import express from "express";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { Writable } from "node:stream";
import { loadConfig } from "../src/config/config.js";
import { buildContainer, type Container } from "../src/container.js";
import { createLogger } from "../src/logging/logger.js";
import { createTestDatabase } from "../tests/support/test-database.js";
import { runLoad, type LoadResult } from "./load.js";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const API = "/api/v1.2.4/entrypoint/Router/parse";

async function listen(app: express.Express): Promise<{ server: Server; port: number }> {
  const server = app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

async function registryService(env: Record<string, string>) {
  const database = await createTestDatabase();
  const silent = new Writable({ write: (_c, _e, done) => done() });
  const container: Container = await buildContainer(loadConfig({ DATABASE_URL: database.url, FILES_DIR: `/tmp/argo-entrypoint-bench-${process.pid}`, LOG_LEVEL: "silent", ...env }), { logger: createLogger("silent", silent) });
  await container.accounts.createOrganization("bench");
  const { user, secretKey } = await container.accounts.createUser({ organization: "bench", accessKey: "bench-user", role: "member" });
  for (let i = 0; i < 20; i += 1) await container.db.projects.create({ uid: crypto.randomUUID(), name: `p${i}`, description: "", organizationUid: user.organizationUid });
  const { server, port } = await listen(container.app);
  const body = JSON.stringify({ f_organization_uid: user.organizationUid });
  const request = () => ({
    method: "POST", path: `${API}/a75vPQAyPqVGFwiZ`, body,
    headers: { "Content-Type": "application/json", "X-Access-Key": user.accessKey, "X-Secret-Key": secretKey },
  });
  return { port, request, close: async () => { server.close(); await container.close(); await database.drop(); } };
}

function row(name: string, result: LoadResult, baseline?: LoadResult) {
  const ratio = baseline ? (result.perSecond / baseline.perSecond).toFixed(3) : "1.000";
  return { scenario: name, "req/s": Math.round(result.perSecond), "ratio to baseline": ratio, "p50 ms": result.p50Ms.toFixed(2), "p99 ms": result.p99Ms.toFixed(2), failures: result.failures };
}

async function main() {
  const rows = [];
  const bare = express();
  bare.post("/bare", express.json(), (_req, res) => void res.json({ detail: "ok", data: [] }));
  const baselineServer = await listen(bare);
  const baseline = await runLoad(baselineServer.port, () => ({ method: "POST", path: "/bare", body: "{}", headers: { "Content-Type": "application/json" } }), { concurrency: CONCURRENCY, seconds: SECONDS });
  baselineServer.server.close();
  rows.push(row("bare Express route (baseline)", baseline));

  const cached = await registryService({});
  const withCache = await runLoad(cached.port, cached.request, { concurrency: CONCURRENCY, seconds: SECONDS });
  await cached.close();
  rows.push(row("authenticated registry read, credential cache on (bcrypt cost 12)", withCache, baseline));

  const uncached = await registryService({ AUTH_CACHE_TTL_SECONDS: "0" });
  const withoutCache = await runLoad(uncached.port, uncached.request, { concurrency: CONCURRENCY, seconds: SECONDS });
  await uncached.close();
  rows.push(row("authenticated registry read, credential cache off (bcrypt cost 12)", withoutCache, baseline));

  console.log(`\nRegistry reads (${CONCURRENCY} concurrent clients, ${SECONDS}s each, SQLite)`);
  console.table(rows);
  console.log(`credential cache speed-up: ${(withCache.perSecond / withoutCache.perSecond).toFixed(1)}x`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
