import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { execFile as execFileCallback } from "node:child_process";
import { runCli } from "../../src/cli.js";
import { createTestDatabase } from "../support/test-database.js";

const TSX_LOADER = new URL("../../node_modules/tsx/dist/loader.mjs", import.meta.url).href;

/** Starts the real entry point (`src/main.ts`) and waits for it to exit. */
function runMain(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", TSX_LOADER, path.resolve("src/main.ts")],
      { env: { PATH: process.env.PATH, ...env }, timeout: 60_000 },
      (error, _stdout, stderr) => {
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stderr });
      },
    );
  });
}

describe("Starting the service", () => {
  let database: { url: string; drop(): Promise<void> };
  const dir = mkdtempSync(path.join(os.tmpdir(), "argo-entrypoint-startup-"));
  const env = (extra: Record<string, string>) => ({
    DATABASE_URL: database.url,
    FILES_DIR: path.join(dir, "files"),
    WORK_DIR: path.join(dir, "work"),
    HOST: "127.0.0.1",
    LOG_LEVEL: "silent",
    ...extra,
  });

  beforeAll(async () => (database = await createTestDatabase()));
  afterAll(async () => {
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("When the port is in use, then it says so in one line and exits 1 (no TypeError, no stack)", async () => {
    const occupier = net.createServer();
    await new Promise<void>((resolve) => occupier.listen(0, "127.0.0.1", resolve));
    const port = (occupier.address() as AddressInfo).port;
    try {
      const { code, stderr } = await runMain(env({ PORT: String(port) }));
      expect(code).toBe(1);
      expect(stderr.trim()).toBe(`argo-entrypoint: cannot listen: port ${port} on 127.0.0.1 is already in use (set PORT to another one)`);
    } finally {
      occupier.close();
    }
  });

  test("When the configuration is invalid, then every problem is listed and it exits 1", async () => {
    const { code, stderr } = await runMain(env({ PORT: "seventy", LOCAL_SANDBOX: "sometimes" }));
    expect(code).toBe(1);
    expect(stderr).toMatch(/PORT must be an integer/);
    expect(stderr).toMatch(/LOCAL_SANDBOX must be one of auto, require, off/);
  });

  test("When SIGTERM comes while a status stream is open, then the stream ends and the service exits 0 without waiting out its timeout; metrics have their own port", async () => {
    const freePort = () =>
      new Promise<number>((resolve) => {
        const probe = net.createServer().listen(0, "127.0.0.1", () => {
          const { port: free } = probe.address() as AddressInfo;
          probe.close(() => resolve(free));
        });
      });
    const port = await freePort();
    const metricsPort = await freePort();
    const admin = (...argv: string[]) => runCli(argv, { DATABASE_URL: database.url, BCRYPT_COST: "4" }, () => undefined);
    await admin("org", "create", "shutdown-lab");
    await admin("user", "create", "--org", "shutdown-lab", "--access-key", "streamer", "--secret", "streamer-secret-1");
    const child = execFileCallback(process.execPath, ["--import", TSX_LOADER, path.resolve("src/main.ts")], {
      env: {
        PATH: process.env.PATH,
        ...env({ PORT: String(port), SHUTDOWN_TIMEOUT_SECONDS: "30", METRICS_PORT: String(metricsPort), METRICS_HOST: "127.0.0.1" }),
      },
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 600; i += 1) {
      if (
        await fetch(`${base}/healthz`).then(
          (r) => r.ok,
          () => false,
        )
      )
        break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // METRICS_PORT: /metrics there without a token; the service's own port has none without METRICS_TOKEN.
    const scraped = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect({ status: scraped.status, text: (await scraped.text()).includes("argo_entrypoint_http_requests_total") }).toEqual({
      status: 200,
      text: true,
    });
    expect((await fetch(`${base}/metrics`)).status).toBe(404);
    const stream = await fetch(`${base}/api/v1.2.4/entrypoint/Router/parse/Ts5pWq8LmN3vXc2z`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Access-Key": "streamer", "X-Secret-Key": "streamer-secret-1" },
      body: "{}",
    });
    expect(stream.status).toBe(200);
    const ended = stream.text().then(
      () => "ended",
      (error: Error) => `cut: ${error.message}`,
    );
    child.kill("SIGTERM");
    expect(await exited).toBe(0); // without ending the stream, the shutdown timeout would exit 1
    expect(await ended).toBe("ended");
  }, 90_000);
});
