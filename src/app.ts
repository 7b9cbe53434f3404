import express from "express";
import type { Logger, ObjectStore } from "./domain/ports.js";
import type { RequestAuthenticator } from "./http/shared/authenticate.js";
import { entrypointRouter } from "./http/entrypoint-router.js";
import { errorHandler, notFoundHandler } from "./http/middleware/error-handler.js";
import { requestContext } from "./http/middleware/request-context.js";
import type { RouteDefinition } from "./http/route-definition.js";

export interface AppDependencies {
  routes: RouteDefinition[];
  authenticator: RequestAuthenticator;
  objects: ObjectStore;
  logger: Logger;
  apiVersions: string[];
  maxUploadBytes: number;
  trustProxy: boolean;
  /** Routers mounted beside the entrypoint (the step API). */
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
  for (const router of deps.routers) app.use(router);
  app.use(entrypointRouter({ routes: deps.routes, authenticator: deps.authenticator, objects: deps.objects, apiVersions: deps.apiVersions, maxUploadBytes: deps.maxUploadBytes, logger: deps.logger }));
  app.use(notFoundHandler);
  app.use(errorHandler(deps.logger));
  return app;
}
