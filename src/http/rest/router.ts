/**
 * The REST surface: readable aliases of the operations that declare one (`/api/v1/tasks/{uid}`
 * beside `.../Router/parse/KlnZtRyqy3rPAZWL`), with the same use cases, checks and answers.
 * Credentials come in headers only (X-Access-Key/X-Secret-Key, Basic, or the session cookie);
 * creates answer 201; a known path asked with another method answers 405 with `Allow`; GET
 * answers carry an ETag (a repeat with If-None-Match gets 304).
 */
import express, { type Request, type Response } from "express";
import { DomainError, ForbiddenError, ValidationError } from "../../domain/errors.js";
import type { Logger } from "../../domain/ports.js";
import { BodyValidator } from "../operations/body-validator.js";
import { checkReach, type Operation, type RestAlias } from "../operations/operation.js";
import { describeCaller, describeRoute } from "../shared/access-log.js";
import { credentialsRequired, type RequestAuthenticator } from "../shared/authenticate.js";
import { useFieldNames } from "../shared/errors.js";
import { DEFAULT_JSON_LIMITS, checkJsonValues, readJsonBody } from "../shared/json-body.js";
import { takePage } from "../shared/page.js";
import { respond } from "../shared/respond.js";
import { settleUnreadBody } from "../shared/unread-body.js";
import { operationRequest } from "../shared/client-gone.js";

const REST_PREFIX = "/api/v1";

export interface RestRouterOptions {
  operations: Operation[];
  authenticator: RequestAuthenticator;
  keepAliveMs: number;
  shutdown: AbortSignal;
  logger: Logger;
}

/** 405: the path exists, the method does not. */
class MethodNotAllowedError extends DomainError {
  readonly kind = "method_not_allowed";
}

/** Express's `:name` form of an alias path. */
const expressPath = (path: string) => path.replace(/\{([a-z_]+)\}/g, ":$1");

export function restRouter(options: RestRouterOptions): express.Router {
  const validator = new BodyValidator();
  const byPath = new Map<string, Array<{ alias: RestAlias; operation: Operation }>>();
  for (const operation of options.operations)
    for (const alias of operation.rest ?? []) {
      validator.compile(operation.id, operation.body, alias.method === "get" || alias.method === "delete" ? "query" : "json");
      byPath.set(alias.path, [...(byPath.get(alias.path) ?? []), { alias, operation }]);
    }

  const router = express.Router();
  for (const [path, routes] of byPath) {
    const methods = [...new Set(routes.map((r) => r.alias.method))];
    for (const method of methods) {
      // Most specific first: a route that needs `?follow=true` before the one that does not.
      const candidates = routes.filter((r) => r.alias.method === method).sort((a, b) => size(b.alias.query) - size(a.alias.query));
      router[method](`${REST_PREFIX}${expressPath(path)}`, async (request: Request, response: Response) => {
        const query = request.query as Record<string, unknown>;
        const chosen = candidates.find(({ alias }) => Object.entries(alias.query ?? {}).every(([key, value]) => query[key] === value))!;
        await serve(chosen.alias, chosen.operation, request, response, validator, options);
      });
    }
    const allow = methods.map((m) => m.toUpperCase()).join(", ");
    router.all(`${REST_PREFIX}${expressPath(path)}`, (_request, response) => {
      response.setHeader("Allow", allow);
      throw new MethodNotAllowedError(`this path answers ${allow}`);
    });
  }
  return router;
}

async function serve(
  alias: RestAlias,
  operation: Operation,
  request: Request,
  response: Response,
  validator: BodyValidator,
  options: RestRouterOptions,
): Promise<void> {
  describeRoute(response, `${REST_PREFIX}${alias.path}`);
  try {
    const principal = await options.authenticator.fromHeaders(request);
    if (!principal) throw credentialsRequired();
    if (principal.task) throw new ForbiddenError("a task credential reaches only the original's routes");
    checkReach(principal, operation, "");
    describeCaller(response, principal.userUid);
    const fromQuery = alias.method === "get" || alias.method === "delete";
    let body: Record<string, unknown>;
    if (fromQuery) {
      body = { ...(request.query as Record<string, unknown>) };
      for (const key of Object.keys(alias.query ?? {})) delete body[key];
    } else {
      const parsed = request.headers["content-type"] ? await readJsonBody(request, DEFAULT_JSON_LIMITS) : {};
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
        throw ValidationError.field("body", "must be a JSON object");
      body = parsed as Record<string, unknown>;
      checkJsonValues(body);
    }
    for (const [segment, value] of Object.entries(request.params)) body[alias.params?.[segment] ?? segment] = value;
    const page = operation.paginated ? takePage(body) : undefined;
    validator.validate(operation.id, fromQuery ? "query" : "json", body);
    useFieldNames(response, operation.fields);
    const result = await operation.handle(
      operationRequest({ principal, body, headers: request.headers, page }, response, options.shutdown),
    );
    await respond(response, result, {
      createdStatus: 201,
      keepAliveMs: options.keepAliveMs,
      logger: options.logger,
      conditional: request.method === "GET" || request.method === "HEAD",
    });
  } catch (error) {
    settleUnreadBody(request, response);
    throw error;
  }
}

const size = (record: Record<string, string> | undefined) => Object.keys(record ?? {}).length;
