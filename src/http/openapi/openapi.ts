/**
 * The OpenAPI 3.1 document, generated from the route table: every operation under its original
 * route key (its original action as the summary) and under each REST alias, with its body schema
 * (the same TypeBox value that validates requests), the seed's example where the seed has one,
 * the error shape and the ways to authenticate. Nothing here is written per route.
 */
import type { TObject, TSchema } from "@sinclair/typebox";
import type { Operation, RestAlias } from "../operations/operation.js";
import type { Surface, SurfaceCaller, SurfaceRoute } from "./surface-routes.js";
import seedExamples from "./seed-examples.json" with { type: "json" };

const REST_PREFIX = "/api/v1";
const MITLAB_PATH = "/api/{version}/entrypoint/Router/parse";

export interface OpenApiSettings {
  version: string;
  apiVersions: string[];
  sessionCookie: string;
}

type Json = Record<string, unknown>;

export function openApiDocument(operations: Operation[], surfaces: Surface[], settings: OpenApiSettings): Json {
  const paths: Record<string, Record<string, Json>> = {};
  const add = (path: string, method: string, definition: Json) => ((paths[path] ??= {})[method] = definition);
  for (const operation of operations) {
    if (operation.mitlabKey) add(`${MITLAB_PATH}/${operation.mitlabKey}`, "post", mitlabOperation(operation, settings));
    for (const [index, alias] of (operation.rest ?? []).entries())
      if (!alias.query) add(`${REST_PREFIX}${alias.path}`, alias.method, restOperation(operation, alias, index));
  }
  // An alias told apart by its query joins the operation of its method and path (or stands alone).
  for (const operation of operations)
    for (const [index, alias] of (operation.rest ?? []).entries()) {
      if (!alias.query) continue;
      const path = `${REST_PREFIX}${alias.path}`;
      const existing = paths[path]?.[alias.method];
      if (existing) widen(existing, operation, alias);
      else add(path, alias.method, restOperation(operation, alias, index));
    }
  for (const surface of surfaces) for (const route of surface.routes) add(route.path, route.method, surfaceOperation(surface, route));
  return {
    openapi: "3.1.0",
    info: {
      title: "argo-entrypoint",
      version: settings.version,
      description:
        "Argo Workflows pipeline orchestrator with the MITLab AI/ML platform's API. Every operation answers at `POST /api/{version}/entrypoint/Router/parse/{route key}` with a JSON body, and many also at a readable REST alias under `/api/v1`.",
    },
    servers: [{ url: "/" }],
    security: [{ accessKey: [], secretKey: [] }, { basic: [] }, { session: [] }],
    tags: [
      { name: "original route keys" },
      { name: "REST aliases" },
      ...surfaces.map((surface) => ({ name: surface.name, description: surface.description })),
    ],
    paths,
    components: {
      securitySchemes: {
        accessKey: { type: "apiKey", in: "header", name: "X-Access-Key" },
        secretKey: { type: "apiKey", in: "header", name: "X-Secret-Key" },
        basic: { type: "http", scheme: "basic", description: "access key as the user name, secret key as the password" },
        session: { type: "apiKey", in: "cookie", name: settings.sessionCookie, description: "set by AccountValidator/login" },
        apiKey: { type: "apiKey", in: "header", name: "x-api-key", description: "a key a user minted, within its purpose" },
        taskToken: { type: "http", scheme: "bearer", description: "a running task's credential ($TASK_TOKEN)" },
      },
      schemas: {
        Error: {
          type: "object",
          required: ["detail", "errors", "code"],
          properties: {
            detail: { type: "string" },
            errors: {
              type: "array",
              items: {
                type: "object",
                properties: { field: { type: "string" }, message: { type: "string" } },
                required: ["field", "message"],
              },
            },
            code: { type: "string" },
            request_id: { type: "string" },
          },
        },
        Answer: {
          type: "object",
          required: ["detail"],
          properties: { detail: { type: "string" }, data: {}, next_cursor: { type: "string" } },
        },
      },
      responses: Object.fromEntries(
        Object.entries(ERRORS).map(([status, description]) => [
          `E${status}`,
          { description, content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } },
        ]),
      ),
    },
  };
}

const ERRORS: Record<string, string> = {
  "400": "the body or a field is invalid (each problem names its field)",
  "401": "no credential, or a wrong one",
  "403": "the caller may not do this",
  "404": "a named record does not exist or belongs to another organization",
  "409": "the record's state does not allow it",
  "413": "the body is too large",
  "429": "too many failed sign-ins; see Retry-After",
};

const SURFACE_SECURITY: Record<SurfaceCaller, Json[]> = {
  user: [{ accessKey: [], secretKey: [] }, { basic: [] }, { session: [] }, { apiKey: [] }],
  step: [{ taskToken: [] }],
  "api-key": [{ apiKey: [] }],
  "signed-url": [],
  anyone: [],
};

const ANSWER_TYPES = { text: "text/plain", json: "application/json", file: "application/octet-stream" } as const;

function surfaceOperation(surface: Surface, route: SurfaceRoute): Json {
  const parameters = [
    ...pathNames(route.path).map((name) => ({ name, in: "path", required: true, schema: { type: "string" } })),
    ...Object.entries(route.query ?? {}).map(([name, { required, description }]) => ({
      name,
      in: "query",
      required,
      description,
      schema: { type: "string" },
    })),
  ];
  const body =
    route.body === "binary"
      ? { "application/octet-stream": { schema: { type: "string", contentEncoding: "binary" } } }
      : route.body
        ? { "application/json": { schema: plain(route.body) } }
        : undefined;
  return {
    operationId: `${surface.name.toLowerCase().replace(/ /g, "-")}.${route.method}.${route.path.replace(/[{}]/g, "").replace(/\//g, ".").slice(1)}`,
    summary: route.summary,
    tags: [surface.name],
    security: SURFACE_SECURITY[route.caller],
    ...(parameters.length ? { parameters } : {}),
    ...(body ? { requestBody: { required: true, content: body } } : {}),
    responses: {
      "200": { description: route.answer.description, content: { [ANSWER_TYPES[route.answer.kind]]: { schema: { type: "string" } } } },
    },
  };
}

function mitlabOperation(operation: Operation, settings: OpenApiSettings): Json {
  const body = withSurfaceFields(operation);
  const example = (seedExamples as Record<string, unknown>)[operation.mitlabKey!];
  const content: Json = operation.form
    ? {
        "multipart/form-data": {
          schema: { ...body, properties: { ...(body.properties as Json), file: { type: "string", contentEncoding: "binary" } } },
        },
        ...(operation.form.file === "optional" ? { "application/json": { schema: body } } : {}),
      }
    : { "application/json": { schema: body, ...(example ? { example } : {}) } };
  return {
    operationId: operation.id,
    summary: operation.summary,
    tags: ["original route keys"],
    parameters: [{ name: "version", in: "path", required: true, schema: { type: "string", enum: settings.apiVersions } }],
    requestBody: { required: true, content },
    responses: responses(operation, operation.mitlabCreatedStatus ?? 200),
  };
}

function restOperation(operation: Operation, alias: RestAlias, index: number): Json {
  const body = operation.body as TObject;
  const fromPath = new Set(pathNames(alias.path).map((name) => alias.params?.[name] ?? name));
  const properties = Object.entries(body.properties).filter(([name]) => !fromPath.has(name));
  const required = new Set(body.required ?? []);
  const inQuery = alias.method === "get" || alias.method === "delete";
  const parameters = [
    ...pathNames(alias.path).map((name) => ({
      name,
      in: "path",
      required: true,
      schema: body.properties[alias.params?.[name] ?? name] ?? { type: "string" },
    })),
    ...(inQuery
      ? properties.map(([name, schema]) => ({
          name,
          in: "query",
          required: required.has(name),
          schema: plain(schema),
          ...arrayStyle(schema),
        }))
      : []),
    ...(operation.paginated ? PAGE_PARAMETERS : []),
  ];
  const remaining = { type: "object", properties: Object.fromEntries(properties), required: [...required].filter((n) => !fromPath.has(n)) };
  return {
    operationId: index === 0 ? `${operation.id}.rest` : `${operation.id}.rest${index + 1}`,
    summary: `${operation.summary} (REST alias${operation.mitlabKey ? ` of ${operation.mitlabKey}` : ""})`,
    tags: ["REST aliases"],
    parameters,
    ...(inQuery ? {} : { requestBody: { required: false, content: { "application/json": { schema: remaining } } } }),
    responses: {
      ...responses(operation, 201),
      "405": { description: "another method of this path", headers: { Allow: { schema: { type: "string" } } } },
    },
  };
}

/** A second operation on the same method and path, told apart by its query (`?follow=true`): its parameters and answer join the first's. */
function widen(existing: Json, operation: Operation, alias: RestAlias): void {
  const parameters = existing.parameters as Json[];
  const known = new Set(parameters.map((p) => p.name));
  for (const [name, value] of Object.entries(alias.query ?? {}))
    if (!known.has(name))
      parameters.push({ name, in: "query", required: false, schema: { type: "string", enum: [value] }, description: operation.summary });
  for (const [name, schema] of Object.entries((operation.body as TObject).properties))
    if (!known.has(name) && !(alias.params && Object.values(alias.params).includes(name)))
      parameters.push({
        name,
        in: "query",
        required: false,
        schema: plain(schema),
        description: `with ${Object.keys(alias.query ?? {}).join(", ")} only`,
      });
  const ok = (existing.responses as Record<string, Json>)["200"]!;
  ok.content = { ...(ok.content as Json), ...(responses(operation, 200)["200"]!.content as Json) };
}

function responses(operation: Operation, createdStatus: number): Record<string, Json> {
  const errors = Object.fromEntries(Object.keys(ERRORS).map((status) => [status, { $ref: `#/components/responses/E${status}` }]));
  const answer = { "application/json": { schema: { $ref: "#/components/schemas/Answer" } } };
  const ok: Json = {
    description: "the answer: `{detail, data}` (lists add `next_cursor`), a Server-Sent Events stream, or a file",
    content: {
      ...answer,
      ...(operation.id.includes("stream") || operation.id.endsWith("follow")
        ? { "text/event-stream": { schema: { type: "string" } } }
        : {}),
      ...(operation.id.includes("download") || operation.id === "tasks.logs-download"
        ? { "application/octet-stream": { schema: { type: "string", contentEncoding: "binary" } } }
        : {}),
    },
  };
  return {
    "200": ok,
    ...(createdStatus !== 200 ? { [String(createdStatus)]: { description: "created", content: answer } } : {}),
    ...errors,
  };
}

/** The body with what every surface adds: credentials (original keys) and paging. */
function withSurfaceFields(operation: Operation): Json {
  const body = operation.body as TObject;
  return {
    ...plain(body),
    properties: {
      ...(plain(body).properties as Json),
      access_key: { type: "string", description: "or X-Access-Key, HTTP Basic, or the session cookie" },
      secret_key: { type: "string", writeOnly: true },
      ...(operation.paginated ? { limit: { type: "integer", minimum: 1, maximum: 1000 }, cursor: { type: "string" } } : {}),
    },
  };
}

const PAGE_PARAMETERS = [
  { name: "limit", in: "query", required: false, schema: { type: "integer", minimum: 1, maximum: 1000 } },
  { name: "cursor", in: "query", required: false, schema: { type: "string" } },
];

const pathNames = (path: string) => [...path.matchAll(/\{([A-Za-z_]+)\}/g)].map((m) => m[1]!);

/** A list in a query string is the parameter repeated. */
const arrayStyle = (schema: TSchema) => ((schema as Json).type === "array" ? { style: "form", explode: true } : {});

/** The schema as plain JSON (TypeBox marks its values with symbols, which JSON drops anyway). */
function plain(schema: TSchema): Json {
  return JSON.parse(JSON.stringify(schema)) as Json;
}
