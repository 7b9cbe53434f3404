import { pipeline } from "node:stream/promises";
import express, { type Request, type Response } from "express";
import type { CredentialVerifier } from "../domain/auth/credential-verifier.js";
import { NotFoundError, UnsupportedMediaTypeError, ValidationError } from "../domain/errors.js";
import type { Logger, PageRequest } from "../domain/ports.js";
import { BodyValidator } from "./body-validator.js";
import { takeCredentials } from "./credentials.js";
import { readMultipart } from "./multipart.js";
import type { RouteContext, RouteDefinition, RouteResult } from "./route-definition.js";

export interface EntrypointRouterOptions {
  routes: RouteDefinition[];
  verifier: CredentialVerifier;
  apiVersions: string[];
  maxUploadBytes: number;
  logger: Logger;
}

/**
 * `POST /api/<version>/entrypoint/Router/parse/<routeKey>`: looks the key up in the route
 * table, authenticates, validates the body and runs the route's handler. Every answer is the
 * original's envelope `{"detail": ..., "data": ...}` or a file download.
 */
export function entrypointRouter(options: EntrypointRouterOptions): express.Router {
  const table = new Map(options.routes.map((route) => [route.key, route]));
  if (table.size !== options.routes.length) throw new Error("duplicate route key in the route table");
  const validator = new BodyValidator();
  for (const route of options.routes) {
    validator.compile(route.key, route.schema, "json");
    if (route.body === "multipart") validator.compile(route.key, route.schema, "multipart");
  }
  const versions = new Set(options.apiVersions);
  const parseJson = express.json({ limit: "1mb", type: ["application/json", "application/*+json"] });

  const router = express.Router();
  router.post("/api/:version/entrypoint/Router/parse/:routeKey", async (request: Request, response: Response) => {
    const { version, routeKey } = request.params as { version: string; routeKey: string };
    if (!versions.has(version)) throw new NotFoundError(`Unknown API version ${version}; supported: ${[...versions].join(", ")}`);
    const route = table.get(routeKey);
    if (!route) throw new NotFoundError(`Unknown route key ${routeKey}`);

    const contentKind = kindOf(request);
    const { body, file } = await readBody(route, contentKind, request, response);
    try {
      const credentials = takeCredentials(request.headers, body);
      const principal = await options.verifier.verify(credentials, request.ip ?? "unknown");
      const page = route.paginated ? takePage(body) : undefined;
      validator.validate(route.key, contentKind === "multipart" ? "multipart" : "json", body);
      if (route.file === "required" && !file) throw ValidationError.field("file", "is required");

      const aborted = new AbortController();
      response.on("close", () => aborted.abort());
      const context: RouteContext = { principal, body, headers: request.headers, signal: aborted.signal };
      if (file) context.file = { stream: file.stream };
      if (page) context.page = page;
      options.logger.info({ route: route.key, action: route.action, user: principal.userUid }, "action=route");
      await send(response, await route.handle(context));
    } catch (error) {
      if (file && !file.stream.readableEnded) {
        // The upload was refused before it was read: drop the rest of it without storing it.
        response.setHeader("Connection", "close");
        file.stream.resume();
      }
      throw error;
    }
  });
  return router;

  async function readBody(route: RouteDefinition, kind: "json" | "multipart" | "empty" | "other", request: Request, response: Response) {
    if (kind === "multipart") {
      if (route.body !== "multipart") throw new UnsupportedMediaTypeError(`route ${route.key} takes application/json`);
      const { fields, file } = await readMultipart(request, { maxFileBytes: options.maxUploadBytes });
      return { body: fields as Record<string, unknown>, file };
    }
    if (kind === "other") throw new UnsupportedMediaTypeError(`Content-Type must be ${route.body === "multipart" ? "multipart/form-data" : "application/json"}`);
    if (route.file === "required") throw new UnsupportedMediaTypeError(`route ${route.key} takes multipart/form-data with a file part`);
    if (kind === "json") await new Promise<void>((resolve, reject) => parseJson(request, response, (error?: unknown) => (error ? reject(error) : resolve())));
    const body: unknown = request.body ?? {};
    if (typeof body !== "object" || body === null || Array.isArray(body)) throw ValidationError.field("body", "must be a JSON object");
    return { body: body as Record<string, unknown>, file: undefined };
  }
}

function kindOf(request: Request): "json" | "multipart" | "empty" | "other" {
  if (!request.headers["content-type"]) return Number(request.headers["content-length"] ?? 0) > 0 || request.headers["transfer-encoding"] ? "other" : "empty";
  if (request.is("multipart/form-data")) return "multipart";
  if (request.is(["application/json", "application/*+json"])) return "json";
  return "other";
}

async function send(response: Response, result: RouteResult): Promise<void> {
  if (result.kind === "json") {
    // Extra envelope fields (e.g. a log's truncation) sit beside `data`, which keeps the original's shape.
    const envelope: Record<string, unknown> = { detail: result.detail, data: result.data, ...result.extra };
    if (result.next) {
      const cursor = encodeCursor(result.next);
      envelope.next_cursor = cursor;
      response.setHeader("X-Next-Cursor", cursor);
    }
    response.status(result.status ?? 200).json(envelope);
    return;
  }
  if (result.kind === "events") {
    response.status(200);
    response.setHeader("Content-Type", "text/event-stream; charset=utf-8");
    response.setHeader("Cache-Control", "no-cache, no-transform");
    response.setHeader("X-Accel-Buffering", "no"); // nginx-style proxies: do not buffer the stream
    response.flushHeaders();
    response.on("close", () => result.stream.destroy());
    await pipeline(result.stream, response).catch(() => undefined); // the client leaving ends it
    return;
  }
  response.status(200);
  response.setHeader("Content-Type", result.contentType ?? "application/octet-stream");
  response.setHeader("Content-Disposition", `attachment; filename="${result.filename.replace(/["\\\r\n]/g, "_")}"`);
  if (result.size !== undefined) response.setHeader("Content-Length", String(result.size));
  await pipeline(result.stream, response);
}

function takePage(body: Record<string, unknown>): PageRequest | undefined {
  const { limit, cursor } = body;
  delete body.limit;
  delete body.cursor;
  if (limit === undefined && cursor === undefined) return undefined;
  const problems = [];
  const size = typeof limit === "string" ? Number(limit) : limit;
  if (size !== undefined && (!Number.isInteger(size) || (size as number) < 1 || (size as number) > 1000)) problems.push({ field: "limit", message: "must be an integer from 1 to 1000" });
  let after: PageRequest["after"];
  if (cursor !== undefined) {
    after = typeof cursor === "string" ? decodeCursor(cursor) : undefined;
    if (!after) problems.push({ field: "cursor", message: "is not a cursor this service issued" });
  }
  if (problems.length) throw new ValidationError("Invalid pagination", { problems });
  return after ? { limit: (size as number | undefined) ?? 100, after } : { limit: (size as number | undefined) ?? 100 };
}

function encodeCursor(position: { createdAt: Date; uid: string }): string {
  return Buffer.from(JSON.stringify([position.createdAt.toISOString(), position.uid])).toString("base64url");
}

function decodeCursor(cursor: string): PageRequest["after"] | undefined {
  try {
    const [time, uid] = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as [string, string];
    const createdAt = new Date(time);
    return typeof uid === "string" && !Number.isNaN(createdAt.getTime()) ? { createdAt, uid } : undefined;
  } catch {
    return undefined;
  }
}
