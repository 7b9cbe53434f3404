import express from "express";
import type { Registry } from "prom-client";
import type { Logger, Meter, ObjectStore } from "../domain/ports.js";
import { mitlabRoute } from "./mitlab/router.js";
import { restRouter } from "./rest/router.js";
import { MRMS_SURFACE } from "./mrms/documentation.js";
import { PREDICTION_ONE_SURFACE } from "./prediction-one/documentation.js";
import { uiRouter } from "./ui/ui-router.js";
import { docsRouter } from "./openapi/docs.js";
import { openApiDocument, type OpenApiSettings } from "./openapi/openapi.js";
import type { Operation } from "./operations/operation.js";
import type { RequestAuthenticator } from "./shared/authenticate.js";
import { accessLog } from "./shared/access-log.js";
import { cors } from "./shared/cors.js";
import { errorHandler, notFoundHandler } from "./shared/errors.js";
import { metricsEndpoint } from "./shared/metrics-endpoint.js";
import { requestContext } from "./shared/request-context.js";

export interface AppDependencies {
  operations: Operation[];
  authenticator: RequestAuthenticator;
  objects: ObjectStore;
  logger: Logger;
  apiVersions: string[];
  maxUploadBytes: number;
  keepAliveMs: number;
  /** Aborted at shutdown: event streams end. */
  shutdown: AbortSignal;
  meter: Meter;
  openApi: OpenApiSettings;
  /** /metrics is served here only with a token (else on a port of its own, or not at all). */
  metrics: { registry: Registry; token: string | undefined };
  trustProxy: boolean;
  /** CORS_ORIGINS. */
  corsOrigins: string[];
  /** Routers mounted beside the surfaces (the step API). */
  routers: express.Router[];
  /** Resolves when the service can take traffic (database reachable, ...). */
  readiness(): Promise<void>;
}

/** The Express application, without listening: supertest and main.ts both start from here. */
export function createApp(deps: AppDependencies): express.Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", deps.trustProxy ? 1 : false);
  app.use(requestContext);
  app.use(accessLog({ logger: deps.logger, meter: deps.meter }));
  if (deps.metrics.token) app.get("/metrics", metricsEndpoint(deps.metrics.registry, deps.metrics.token));
  app.use(cors(deps.corsOrigins));
  app.get("/healthz", (_request, response) => void response.json({ status: "ok" }));
  app.get("/readyz", async (_request, response) => {
    try {
      await deps.readiness();
      response.json({ status: "ready" });
    } catch (error) {
      deps.logger.warn({ err: error }, "action=readiness outcome=not-ready");
      response.status(503).json({ status: "not ready" });
    }
  });
  // The hot paths first: a request tries each mounted route in turn until one matches.
  const mitlab = mitlabRoute({
    operations: deps.operations,
    authenticator: deps.authenticator,
    objects: deps.objects,
    apiVersions: deps.apiVersions,
    maxUploadBytes: deps.maxUploadBytes,
    keepAliveMs: deps.keepAliveMs,
    shutdown: deps.shutdown,
    meter: deps.meter,
    logger: deps.logger,
  });
  app.post(mitlab.path, mitlab.handler);
  app.use(
    restRouter({
      operations: deps.operations,
      authenticator: deps.authenticator,
      keepAliveMs: deps.keepAliveMs,
      shutdown: deps.shutdown,
      logger: deps.logger,
    }),
  );
  app.use(docsRouter(openApiDocument(deps.operations, [MRMS_SURFACE, PREDICTION_ONE_SURFACE], deps.openApi), deps.apiVersions));
  app.use(uiRouter());
  for (const router of deps.routers) app.use(router);
  app.use(notFoundHandler);
  app.use(errorHandler(deps.logger));
  return app;
}
