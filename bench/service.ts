/** A service instance for the benches: loopback HTTP, a fresh database, one user. */
import type express from "express";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { rmSync } from "node:fs";
import { Writable } from "node:stream";
import { loadConfig } from "../src/config/config.js";
import { buildContainer } from "../src/container.js";
import { createLogger } from "../src/logging/logger.js";
import { createTestDatabase } from "../tests/support/test-database.js";

export const API = "/api/v1.2.4/entrypoint/Router/parse";

/** Which database the benches run on: PostgreSQL when TEST_DATABASE_URL names a server, else SQLite. */
export function databaseName(): string {
  return process.env.TEST_DATABASE_URL ? "PostgreSQL" : "SQLite";
}

export async function listen(app: express.Express): Promise<{ server: Server; port: number }> {
  const server = app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

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
  const { server, port } = await listen(container.app);
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
