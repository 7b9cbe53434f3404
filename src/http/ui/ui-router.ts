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
  // Looked for until found: a build made after the service started is served without a restart.
  let built = false;
  router.use("/ui", (request, response, next) => {
    describeRoute(response, "/ui");
    response.setHeader("Content-Security-Policy", POLICY);
    response.setHeader("X-Content-Type-Options", "nosniff");
    response.setHeader("Referrer-Policy", "same-origin");
    built ||= existsSync(`${directory}/index.html`);
    if (!built) throw new UpstreamError("the dashboard is not built; run `npm run build`");
    // Its page names its assets under /ui/.
    if (!request.originalUrl.startsWith("/ui/")) return response.redirect(302, "/ui/");
    next();
  });
  router.use("/ui", express.static(directory, { index: "index.html", fallthrough: true, maxAge: "5m" }));
  return router;
}
