/** The servers the benches load: the bare Express baseline and service instances, on loopback HTTP. */
import express from "express";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { rmSync } from "node:fs";
import { Writable } from "node:stream";
import { loadConfig } from "../src/config/config.js";
import { buildContainer } from "../src/container.js";
import { createHttpServer } from "../src/http/server.js";
import { createLogger } from "../src/logging/logger.js";
import { startFakeCluster, argoEnv } from "../tests/support/fake-kube/fake-cluster.js";
import { createTestDatabase } from "../tests/support/test-database.js";
import { registerTrainingWorld } from "./fixtures.js";
import type { RequestSpec } from "./load.js";

export const API = "/api/v1.2.4/entrypoint/Router/parse";

/** Which database the benches run on: PostgreSQL when TEST_DATABASE_URL names a server, else SQLite. */
export function databaseName(): string {
  return process.env.TEST_DATABASE_URL ? "PostgreSQL" : "SQLite";
}

type ServerKind = "express" | "service";

/** `app` on a loopback port: on a server as Express makes it (the baselines'), or as the service makes it. */
export async function listen(app: express.Express, how: ServerKind = "express"): Promise<{ server: Server; port: number }> {
  const server = how === "service" ? createHttpServer(app).listen(0, "127.0.0.1") : app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

/**
 * The baseline: a bare Express route that parses a JSON body and answers a small envelope, on a
 * server as Express makes it (`app.listen`) or as the service makes its own (`createHttpServer`).
 */
export async function bareRoute(
  how: ServerKind = "express",
): Promise<{ port: number; request: () => RequestSpec; close(): Promise<void> }> {
  const bare = express();
  bare.post("/bare", express.json(), (_req, res) => void res.json({ detail: "ok", data: [] }));
  const { server, port } = await listen(bare, how);
  return {
    port,
    request: () => ({ method: "POST", path: "/bare", body: "{}", headers: { "Content-Type": "application/json" } }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A service instance: a fresh database, one user. */
export async function listeningService(env: Record<string, string>) {
  const database = await createTestDatabase();
  const silent = new Writable({ write: (_c, _e, done) => done() });
  const dir = `/tmp/argo-entrypoint-bench-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const container = await buildContainer(
    loadConfig({ DATABASE_URL: database.url, FILES_DIR: `${dir}/files`, WORK_DIR: `${dir}/work`, LOG_LEVEL: "silent", ...env }),
    { logger: createLogger("silent", silent) },
  );
  await container.accounts.createOrganization("bench");
  const { user, secretKey } = await container.accounts.createUser({ organization: "bench", accessKey: "bench-user", role: "member" });
  const { server, port } = await listen(container.app, "service");
  const url = `http://127.0.0.1:${port}`;
  return {
    container,
    port,
    url,
    databaseUrl: database.url,
    organizationUid: user.organizationUid,
    credentials: { access_key: user.accessKey, secret_key: secretKey },
    close: async () => {
      await container.close();
      await new Promise((resolve) => server.close(resolve));
      await database.drop();
      rmSync(dir, { recursive: true, force: true }); // no temp files left behind
    },
  };
}

/** A service on a fake cluster whose controller runs nothing, with a training world: what a submission needs. */
export async function submissionService() {
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
