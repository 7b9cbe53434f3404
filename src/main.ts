import type { AddressInfo } from "node:net";
import express from "express";
import { ConfigError, loadConfig, presentConfig } from "./config/config.js";
import { buildContainer } from "./container.js";
import { StartupRefusal } from "./adapters/startup-refusal.js";
import { metricsEndpoint } from "./http/shared/metrics-endpoint.js";
import { createHttpServer } from "./http/server.js";

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) fatal(error.message);
    throw error;
  }

  let container;
  try {
    container = await buildContainer(config);
  } catch (error) {
    if (error instanceof StartupRefusal) fatal(error.message);
    throw error;
  }
  const { logger } = container;
  logger.info({ config: presentConfig(config) }, "action=start");

  const server = createHttpServer(container.app);
  const listening = (error?: Error) => {
    if (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const reason =
        code === "EADDRINUSE"
          ? `port ${config.http.port} on ${config.http.host} is already in use (set PORT to another one)`
          : code === "EACCES"
            ? `no permission to listen on port ${config.http.port}`
            : error.message;
      void container.close().finally(() => fatal(`cannot listen: ${reason}`));
      return;
    }
    const { port } = server.address() as AddressInfo;
    const loopback = config.http.host === "0.0.0.0" || config.http.host === "::" ? "127.0.0.1" : config.http.host;
    logger.info({ port }, `action=listen url=http://${loopback}:${port}`);
    container.start(`http://${loopback}:${port}`).catch((error: unknown) => logger.error({ err: error }, "action=recover outcome=failed"));
  };
  server.once("error", listening);
  server.listen(config.http.port, config.http.host, () => {
    server.off("error", listening);
    // Past listening, an error is the server's (an accept failing, out of file descriptors): logged, not fatal.
    server.on("error", (error) => logger.error({ err: error }, "action=serve outcome=failed"));
    listening();
  });

  // A port of its own for the scraper, without the token (METRICS_PORT); it stops with the process.
  const metricsPort = config.metrics.port;
  if (metricsPort !== undefined) {
    const metricsServer = createHttpServer(express().get("/metrics", metricsEndpoint(container.metrics.registry)));
    metricsServer.listen(metricsPort, config.metrics.host);
    metricsServer.on("error", (error) => logger.error({ err: error, port: metricsPort }, "action=metrics-listen outcome=failed"));
    metricsServer.unref();
  }

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
    container.drain(); // open event streams end, so the server can close once the requests under way are done
    // A kept-alive connection whose answer just ended is closed at once, not after its idle timeout.
    const idle = setInterval(() => server.closeIdleConnections(), 100);
    server.close(async () => {
      clearInterval(idle);
      await container.close();
      logger.info({}, "action=shutdown outcome=done");
      process.exit(0);
    });
    server.closeIdleConnections();
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

function fatal(message: string): never {
  process.stderr.write(`argo-entrypoint: ${message}\n`);
  process.exit(1);
}

main().catch((error: unknown) => {
  process.stderr.write(`argo-entrypoint: failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
