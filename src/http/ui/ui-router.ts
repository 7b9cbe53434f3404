/**
 * The dashboard at /ui: static files built by `npm run build` (dist/ui), same origin, nothing
 * from a CDN. A strict Content-Security-Policy: only this origin's scripts, styles and
 * connections, no inline code, no framing.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import express from "express";
import { UpstreamError } from "../../domain/errors.js";
import { describeRoute } from "../shared/access-log.js";

const BUILT = fileURLToPath(new URL("../../../dist/ui/", import.meta.url));
const POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join("; ");

export function uiRouter(directory = BUILT): express.Router {
  const router = express.Router();
  router.use("/ui", (_request, response, next) => {
    describeRoute(response, "/ui");
    response.setHeader("Content-Security-Policy", POLICY);
    response.setHeader("X-Content-Type-Options", "nosniff");
    response.setHeader("Referrer-Policy", "same-origin");
    if (!existsSync(`${directory}/index.html`)) throw new UpstreamError("the dashboard is not built; run `npm run build`");
    next();
  });
  router.get("/ui", (request, response, next) =>
    request.path === "/ui" && !request.originalUrl.startsWith("/ui/") ? response.redirect(302, "/ui/") : next(),
  );
  router.use("/ui", express.static(directory, { index: "index.html", fallthrough: true, maxAge: "5m" }));
  return router;
}
