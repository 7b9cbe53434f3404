import { createHash, timingSafeEqual } from "node:crypto";
import type { RequestHandler } from "express";
import type { Registry } from "prom-client";

/**
 * The Prometheus text of `registry`. With a token, only a request bearing it is answered (401
 * otherwise, compared in constant time); without one, the caller must already be trusted (a
 * port of its own).
 */
export function metricsEndpoint(registry: Registry, token?: string): RequestHandler {
  const expected = token === undefined ? undefined : digest(token);
  return (request, response, next) => {
    if (expected) {
      const given = /^Bearer (.+)$/.exec(request.header("authorization") ?? "")?.[1];
      if (!given || !timingSafeEqual(digest(given), expected)) {
        response.status(401).setHeader("WWW-Authenticate", 'Bearer realm="metrics"').json({ detail: "a valid metrics token is required" });
        return;
      }
    }
    registry.metrics().then((text) => void response.type(registry.contentType).send(text), next);
  };
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}
