/** `GET /api/v1/links/{token}`: what a signed link opens, without a credential (the link is one). */
import express from "express";
import type { SignedLinks } from "../../domain/files/signed-links.js";
import type { Logger } from "../../domain/ports.js";
import type { RegistryService } from "../../domain/registry/registry-service.js";
import { describeRoute } from "../shared/access-log.js";
import { respond } from "../shared/respond.js";

export function linksRouter(deps: { links: SignedLinks; registry: RegistryService; logger: Logger; keepAliveMs: number }): express.Router {
  const router = express.Router();
  router.get("/api/v1/links/:token", async (request, response) => {
    describeRoute(response, "/api/v1/links/{token}");
    const { target, principal } = deps.links.open(String(request.params.token));
    const opened = await deps.registry.openFile(principal, target.uid);
    await respond(response, { kind: "download", ...opened }, { createdStatus: 200, keepAliveMs: deps.keepAliveMs, logger: deps.logger });
  });
  return router;
}
