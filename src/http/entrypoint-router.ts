import type { IncomingMessage } from "node:http";
import { pipeline } from "node:stream/promises";
import express, { type Request, type Response } from "express";
import { AuthenticationError, NotFoundError, RateLimitedError, UnsupportedMediaTypeError, ValidationError } from "../domain/errors.js";
import type { Logger, ObjectStore, PageRequest, StagedObject } from "../domain/ports.js";
import type { Principal } from "../domain/principal.js";
import { BodyValidator } from "./body-validator.js";
import { credentialsRequired, stripCredentialFields, type RequestAuthenticator } from "./shared/authenticate.js";
import { DEFAULT_JSON_LIMITS, checkJsonValues, readJsonBody } from "./shared/json-body.js";
import { AUTHENTICATED_FIELDS_BYTES, DEFAULT_FIELD_LIMITS, UNAUTHENTICATED_FIELDS_BYTES, checkFormValues, readMultipart } from "./shared/multipart-body.js";
import { decodeCursor, encodeCursor } from "./shared/cursor.js";
import { settleUnreadBody } from "./shared/unread-body.js";
import type { RouteContext, RouteDefinition, RouteResult } from "./route-definition.js";

export interface EntrypointRouterOptions {
  routes: RouteDefinition[];
  authenticator: RequestAuthenticator;
  objects: ObjectStore;
  apiVersions: string[];
  maxUploadBytes: number;
  logger: Logger;
}

type BodyKind = "json" | "multipart" | "empty" | "other";

/**
 * `POST /api/<version>/entrypoint/Router/parse/<routeKey>`: looks the key up in the route
 * table, authenticates (before reading any body the headers already identify), reads and
 * validates the body, and runs the route's handler. Every answer is the original's envelope
 * `{"detail": ..., "data": ...}` or a file download. Until the caller is authenticated, any
 * failure is answered 401: an anonymous client learns nothing about a body it cannot send.
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
  const { authenticator } = options;

  const router = express.Router();
  router.post("/api/:version/entrypoint/Router/parse/:routeKey", async (request: Request, response: Response) => {
    const { version, routeKey } = request.params as { version: string; routeKey: string };
    if (!versions.has(version)) throw new NotFoundError(`Unknown API version ${version.slice(0, 40)}; supported: ${[...versions].join(", ")}`);
    const route = table.get(routeKey);
    if (!route) throw new NotFoundError(`Unknown route key ${routeKey.slice(0, 40)}`);

    let principal: Principal | undefined;
    let file: StagedObject | undefined;
    try {
      principal = await authenticator.fromHeaders(request);
      const kind = kindOf(request);
      let body: Record<string, unknown>;
      if (kind === "multipart") {
        const wrongType = new UnsupportedMediaTypeError(`route ${route.key} takes application/json`, contentTypeProblem("application/json"));
        const maxFieldsTotalBytes = principal ? AUTHENTICATED_FIELDS_BYTES : UNAUTHENTICATED_FIELDS_BYTES;
        const read = await readMultipart(request, { maxFileBytes: options.maxUploadBytes, maxFieldsTotalBytes, ...DEFAULT_FIELD_LIMITS }, {
          beforeFile: async (fields) => void (principal ??= await authenticator.fromFields(fields, request)),
          // A JSON route reads a form's text parts only to learn who is calling, then refuses the form.
          stage: (stream) => (route.body === "multipart" ? options.objects.stage(stream) : Promise.reject(wrongType)),
        });
        if (route.body !== "multipart") throw wrongType;
        file = read.file;
        body = read.fields;
        stripCredentialFields(body);
        checkFormValues(read.fields);
      } else if (kind === "json" || kind === "empty") {
        const parsed = kind === "json" ? await readJsonBody(request, DEFAULT_JSON_LIMITS) : {};
        body = isObject(parsed) ? parsed : {};
        principal ??= await authenticator.fromFields(body, request);
        if (!isObject(parsed)) throw ValidationError.field("body", "must be a JSON object");
        checkJsonValues(body);
        if (route.file === "required") throw new UnsupportedMediaTypeError(`route ${route.key} takes multipart/form-data with a file part`, contentTypeProblem("multipart/form-data"));
      } else {
        if (!principal) throw credentialsRequired();
        throw new UnsupportedMediaTypeError(`Content-Type must be ${route.body === "multipart" ? "multipart/form-data" : "application/json"}`, contentTypeProblem(route.body === "multipart" ? "multipart/form-data" : "application/json"));
      }
      stripCredentialFields(body);
      if (!principal) throw credentialsRequired();

      const page = route.paginated ? takePage(body) : undefined;
      validator.validate(route.key, kind === "multipart" ? "multipart" : "json", body);
      if (route.file === "required" && !file) throw ValidationError.field("file", "is required");

      const aborted = new AbortController();
      response.on("close", () => aborted.abort());
      const context: RouteContext = { principal, body, headers: request.headers, signal: aborted.signal };
      if (file) context.file = file;
      if (page) context.page = page;
      options.logger.info({ route: route.key, action: route.action, user: principal.userUid }, "action=route");
      await send(response, await route.handle(context), options.logger);
    } catch (error) {
      settleUnreadBody(request, response);
      if (!principal && !(error instanceof AuthenticationError) && !(error instanceof RateLimitedError)) throw credentialsRequired();
      throw error;
    } finally {
      await file?.discard(); // a no-op once the handler committed it
    }
  });
  return router;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function contentTypeProblem(expected: string) {
  return { problems: [{ field: "Content-Type", message: `must be ${expected}` }] };
}

function kindOf(request: IncomingMessage & { is(types: string | string[]): string | false | null }): BodyKind {
  if (!request.headers["content-type"]) return Number(request.headers["content-length"] ?? 0) > 0 || request.headers["transfer-encoding"] ? "other" : "empty";
  if (request.is("multipart/form-data")) return "multipart";
  if (request.is(["application/json", "application/*+json"])) return "json";
  return "other";
}

async function send(response: Response, result: RouteResult, logger: Logger): Promise<void> {
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
  response.on("close", () => result.stream.destroy()); // a client that leaves early releases the file at once
  await pipeline(result.stream, response).catch((error: unknown) => {
    // A client that went away mid-download is not a server error; a source that failed is.
    if (response.destroyed && !response.writableFinished && (error as { code?: string }).code === "ERR_STREAM_PREMATURE_CLOSE") {
      logger.debug({ filename: result.filename }, "action=download outcome=client-left");
      return;
    }
    throw error;
  });
}

function takePage(body: Record<string, unknown>): PageRequest | undefined {
  const { limit, cursor } = body;
  delete body.limit;
  delete body.cursor;
  if (limit === undefined && cursor === undefined) return undefined;
  const problems = [];
  const size = typeof limit === "string" && /^\d{1,4}$/.test(limit) ? Number(limit) : limit;
  if (size !== undefined && (!Number.isInteger(size) || (size as number) < 1 || (size as number) > 1000)) problems.push({ field: "limit", message: "must be an integer from 1 to 1000" });
  let after: PageRequest["after"];
  if (cursor !== undefined) {
    after = typeof cursor === "string" ? decodeCursor(cursor) : undefined;
    if (!after) problems.push({ field: "cursor", message: "is not a cursor this service issued" });
  }
  if (problems.length) throw new ValidationError(`Invalid pagination: ${problems.map((p) => `${p.field} ${p.message}`).join("; ")}`, { problems });
  return after ? { limit: (size as number | undefined) ?? 100, after } : { limit: (size as number | undefined) ?? 100 };
}
