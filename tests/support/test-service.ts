import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import supertest from "supertest";
import { loadConfig, type AppConfig } from "../../src/config/config.js";
import { buildContainer, type Container } from "../../src/container.js";
import { createHttpServer } from "../../src/http/server.js";
import { createLogger } from "../../src/logging/logger.js";
import { createTestDatabase } from "./test-database.js";

export const API = "/api/v1.2.4/entrypoint/Router/parse";

/** The original's timestamp format, `2024-09-18T18:13:22.552851+08:00`. */
export const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}[+-]\d{2}:\d{2}$/;
/** A random (v4) UUID. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export interface TestUser {
  accessKey: string;
  secretKey: string;
  organizationUid: string;
  userUid: string;
}

export interface TestService {
  container: Container;
  config: AppConfig;
  http: ReturnType<typeof supertest>;
  /** Every log line the service wrote, for "never logs secrets" checks. */
  logs: string[];
  filesDir: string;
  user(options?: { organization?: string; role?: "admin" | "member" }): Promise<TestUser>;
  /** POST a JSON body to a route key, with the user's credentials in the body like the original's clients. */
  post(key: string, user: TestUser, body?: Record<string, unknown>): supertest.Test;
  close(): Promise<void>;
}

/** The real service (real database, real object store, real HTTP stack) with test-sized settings. */
export async function startTestService(env: Record<string, string> = {}): Promise<TestService> {
  // A DATABASE_URL given by the test is shared with another instance and outlives this one.
  const database = env.DATABASE_URL ? { url: env.DATABASE_URL, drop: async () => undefined } : await createTestDatabase();
  const filesDir = mkdtempSync(path.join(os.tmpdir(), "argo-entrypoint-files-"));
  const config = loadConfig({
    DATABASE_URL: database.url,
    FILES_DIR: filesDir,
    WORK_DIR: path.join(filesDir, "work"),
    BCRYPT_COST: "4",
    LOG_LEVEL: "debug",
    ...env,
  });
  const logs: string[] = [];
  // TEST_LOGS=1 echoes the service's log lines, for diagnosing a failing test.
  const sink = new Writable({
    write: (chunk, _encoding, done) => (logs.push(String(chunk)), process.env.TEST_LOGS && process.stderr.write(chunk), done()),
  });
  const container = await buildContainer(config, { logger: createLogger("debug", sink) });
  // The server main.ts serves the app on (supertest starts and stops it around its requests).
  const http = supertest(createHttpServer(container.app));
  const organizations = new Map<string, string>();
  let counter = Math.floor(Math.random() * 1e6);

  return {
    container,
    config,
    http,
    logs,
    filesDir,
    async user({ organization = "lab", role = "member" } = {}) {
      if (!organizations.has(organization))
        organizations.set(organization, (await container.accounts.createOrganization(organization)).uid);
      counter += 1;
      const { user, secretKey } = await container.accounts.createUser(
        { organization, accessKey: `user${counter}-${organization}`, role },
        "admin-cli",
      );
      return { accessKey: user.accessKey, secretKey, organizationUid: user.organizationUid, userUid: user.uid };
    },
    post(key, user, body = {}) {
      return http.post(`${API}/${key}`).send({ access_key: user.accessKey, secret_key: user.secretKey, ...body });
    },
    async close() {
      await container.close();
      await database.drop();
      rmSync(filesDir, { recursive: true, force: true });
    },
  };
}
