/**
 * CORS for browser clients on other origins, from an allowlist (CORS_ORIGINS; empty by default:
 * the dashboard is meant to be served from the service's own origin). A listed origin may send
 * credentials (its cookies); `*` lets any page call without them, as the original's dashboard
 * did. Preflights name `Authorization` explicitly, since `*` does not cover it.
 */
import type { RequestHandler } from "express";

const ALLOWED_HEADERS = ["Authorization", "Content-Type", "X-Access-Key", "X-Secret-Key", "Idempotency-Key"].join(", ");
const EXPOSED_HEADERS = ["Content-Disposition", "X-Next-Cursor", "X-Request-Id", "Retry-After"].join(", ");

export function cors(allowedOrigins: readonly string[]): RequestHandler {
  const listed = new Set(allowedOrigins.filter((origin) => origin !== "*"));
  const anyOrigin = allowedOrigins.includes("*");
  return (request, response, next) => {
    const origin = request.headers.origin;
    response.vary("Origin");
    const allowed = origin !== undefined && (listed.has(origin) || anyOrigin);
    if (allowed) {
      if (listed.has(origin)) {
        response.setHeader("Access-Control-Allow-Origin", origin);
        response.setHeader("Access-Control-Allow-Credentials", "true");
      } else {
        response.setHeader("Access-Control-Allow-Origin", "*");
      }
      response.setHeader("Access-Control-Expose-Headers", EXPOSED_HEADERS);
    }
    if (request.method !== "OPTIONS" || !request.headers["access-control-request-method"]) return next();
    // A preflight: an unlisted origin gets no permission (the browser then refuses the call).
    if (allowed) {
      response.setHeader("Access-Control-Allow-Methods", "GET, POST, PUT, OPTIONS");
      response.setHeader("Access-Control-Allow-Headers", ALLOWED_HEADERS);
      response.setHeader("Access-Control-Max-Age", "600");
    }
    response.status(204).end();
  };
}
