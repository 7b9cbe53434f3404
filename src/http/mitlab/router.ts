/**
 * The MITLab surface: `POST /api/<version>/entrypoint/Router/parse/<routeKey>`. It looks the key
 * up among the operations, authenticates (before reading any body the headers already
 * identify), reads and validates the body, and runs the operation. Until the caller is
 * authenticated, any failure is answered 401: an anonymous client learns nothing about a body.
 */
import type { IncomingMessage } from "node:http";
import type { Request, Response } from "express";
import {
  AuthenticationError,
  ForbiddenError,
  NotFoundError,
  RateLimitedError,
  UnsupportedMediaTypeError,
  ValidationError,
} from "../../domain/errors.js";
import type { Logger, Meter, ObjectStore, StagedObject } from "../../domain/ports.js";
import type { Principal } from "../../domain/principal.js";
import { BodyValidator } from "../operations/body-validator.js";
import { checkReach, type Operation } from "../operations/operation.js";
import { credentialsRequired, stripCredentialFields, type RequestAuthenticator } from "../shared/authenticate.js";
import { describeCaller, describeRoute } from "../shared/access-log.js";
import { takePage } from "../shared/page.js";
import { useFieldNames } from "../shared/errors.js";
import { DEFAULT_JSON_LIMITS, checkJsonValues, readJsonBody } from "../shared/json-body.js";
import {
  AUTHENTICATED_FIELDS_BYTES,
  DEFAULT_FIELD_LIMITS,
  UNAUTHENTICATED_FIELDS_BYTES,
  checkFormValues,
  readMultipart,
} from "../shared/multipart-body.js";
import { respond } from "../shared/respond.js";
import { settleUnreadBody } from "../shared/unread-body.js";
import { operationRequest } from "../shared/client-gone.js";

export interface MitlabRouterOptions {
  operations: Operation[];
  authenticator: RequestAuthenticator;
  objects: ObjectStore;
  apiVersions: string[];
  maxUploadBytes: number;
  keepAliveMs: number;
  /** Aborted when the service shuts down: long-lived answers (event streams) end so their clients reconnect. */
  shutdown: AbortSignal;
  meter: Meter;
  logger: Logger;
}

type BodyKind = "json" | "multipart" | "empty" | "other";

/** The surface's one route, mounted on the application itself: a nested Router's layer cost ~6% of a bare request. */
export interface MitlabRoute {
  path: string;
  handler: (request: Request, response: Response) => Promise<void>;
}

export function mitlabRoute(options: MitlabRouterOptions): MitlabRoute {
  const table = new Map<string, Operation>();
  const validator = new BodyValidator();
  for (const operation of options.operations) {
    if (!operation.mitlabKey) continue;
    if (table.has(operation.mitlabKey)) throw new Error(`route key ${operation.mitlabKey} is bound twice`);
    table.set(operation.mitlabKey, operation);
    validator.compile(operation.mitlabKey, operation.body, "json");
    if (operation.form) validator.compile(operation.mitlabKey, operation.body, "multipart");
  }
  const versions = new Set(options.apiVersions);
  const taskRoutes = options.operations.filter((o) => o.acceptsTaskCredential && o.mitlabKey).map((o) => o.mitlabKey!);
  const { authenticator } = options;
  // The original answered 200 to everything but its SDK upload, and its dashboard takes any other 2xx as a failure.
  const respondOptions = { keepAliveMs: options.keepAliveMs, logger: options.logger };

  const handler = async (request: Request, response: Response): Promise<void> => {
    const { version, routeKey } = request.params as { version: string; routeKey: string };
    if (!versions.has(version))
      throw new NotFoundError(`Unknown API version ${version.slice(0, 40)}; supported: ${[...versions].join(", ")}`);
    const operation = table.get(routeKey);
    if (!operation) throw new NotFoundError(`Unknown route key ${routeKey.slice(0, 40)}`);
    describeRoute(response, routeKey);

    let principal: Principal | undefined;
    let file: StagedObject | undefined;
    try {
      principal = await authenticator.fromHeaders(request);
      const kind = kindOf(request);
      let body: Record<string, unknown>;
      if (kind === "multipart") {
        const wrongType = new UnsupportedMediaTypeError(`route ${routeKey} takes application/json`, contentTypeProblem("application/json"));
        const maxFieldsTotalBytes = principal ? AUTHENTICATED_FIELDS_BYTES : UNAUTHENTICATED_FIELDS_BYTES;
        const read = await readMultipart(
          request,
          { maxFileBytes: options.maxUploadBytes, maxFieldsTotalBytes, ...DEFAULT_FIELD_LIMITS },
          {
            beforeFile: async (fields) => void (principal ??= await authenticator.fromFields(fields, request)),
            // A JSON route reads a form's text parts only to learn who is calling, then refuses the form.
            stage: (stream) => (operation.form ? options.objects.stage(stream) : Promise.reject(wrongType)),
          },
        );
        if (!operation.form) throw wrongType;
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
        if (operation.form?.file === "required")
          throw new UnsupportedMediaTypeError(
            `route ${routeKey} takes multipart/form-data with a file part`,
            contentTypeProblem("multipart/form-data"),
          );
      } else {
        if (!principal) throw credentialsRequired();
        const expected = operation.form ? "multipart/form-data" : "application/json";
        throw new UnsupportedMediaTypeError(`Content-Type must be ${expected}`, contentTypeProblem(expected));
      }
      stripCredentialFields(body);
      if (!principal) throw credentialsRequired();
      describeCaller(response, principal.userUid);
      checkReach(principal, operation, taskRoutes.join(", "));

      const page = operation.paginated ? takePage(body) : undefined;
      validator.validate(routeKey, kind === "multipart" ? "multipart" : "json", body);
      if (operation.form?.file === "required" && !file) throw ValidationError.field("file", "is required");

      useFieldNames(response, operation.fields);
      if (file) options.meter.uploaded(file.size);
      const result = await operation.handle(
        operationRequest({ principal, body, headers: request.headers, file, page }, response, options.shutdown),
      );
      await respond(response, result, { ...respondOptions, createdStatus: operation.mitlabCreatedStatus ?? 200 });
    } catch (error) {
      settleUnreadBody(request, response);
      // Refusals of the credential itself (wrong, throttled, a session used from a foreign page) are said as they are.
      const aboutCredentials = error instanceof AuthenticationError || error instanceof RateLimitedError || error instanceof ForbiddenError;
      if (!principal && !aboutCredentials) throw credentialsRequired();
      throw error;
    } finally {
      await file?.discard(); // a no-op once the operation committed it
    }
  };
  return { path: "/api/:version/entrypoint/Router/parse/:routeKey", handler };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function contentTypeProblem(expected: string) {
  return { problems: [{ field: "Content-Type", message: `must be ${expected}` }] };
}

/** What the SDK and the dashboard send, recognised without parsing the header (a measurable share of a small read). */
const PLAIN_JSON_TYPES = new Set(["application/json", "application/json; charset=utf-8", "application/json;charset=utf-8"]);

function kindOf(request: IncomingMessage & { is(types: string | string[]): string | false | null }): BodyKind {
  const type = request.headers["content-type"];
  if (!type) return Number(request.headers["content-length"] ?? 0) > 0 || request.headers["transfer-encoding"] ? "other" : "empty";
  if (PLAIN_JSON_TYPES.has(type)) return "json";
  if (request.is("multipart/form-data")) return "multipart";
  if (request.is(["application/json", "application/*+json"])) return "json";
  return "other";
}
