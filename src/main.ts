import { mkdirSync } from "node:fs";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { ConfigError, loadConfig, presentConfig } from "./config/config.js";
import { buildContainer } from "./container.js";

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`argo-entrypoint: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  if (config.database.url.startsWith("file:")) mkdirSync(path.dirname(config.database.url.slice("file:".length)), { recursive: true });

  const container = await buildContainer(config);
  const { logger } = container;
  logger.info({ config: presentConfig(config) }, "action=start");

  const server = container.app.listen(config.http.port, config.http.host, () => {
    const { port } = server.address() as AddressInfo;
    const loopback = config.http.host === "0.0.0.0" || config.http.host === "::" ? "127.0.0.1" : config.http.host;
    logger.info({ port }, `action=listen url=http://${loopback}:${port}`);
    container.start(`http://${loopback}:${port}`).catch((error: unknown) => logger.error({ err: error }, "action=recover outcome=failed"));
  });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "action=shutdown");
    const deadline = setTimeout(() => {
      logger.warn({}, "action=shutdown outcome=timeout");
      process.exit(1);
    }, config.http.shutdownTimeoutSeconds * 1000);
    deadline.unref();
    server.close(async () => {
      await container.close();
      logger.info({}, "action=shutdown outcome=done");
      process.exit(0);
    });
    server.closeIdleConnections();
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

main().catch((error: unknown) => {
  process.stderr.write(`argo-entrypoint: failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
