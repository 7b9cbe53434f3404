import type { Readable } from "node:stream";
import type { PageRequest, StagedObject } from "../domain/ports.js";
import type { Principal } from "../domain/principal.js";

export interface RouteContext {
  principal: Principal;
  /** The body, validated against the route's schema; credentials already removed. */
  body: Record<string, unknown>;
  /** The multipart file part, received whole and staged; the use case commits it under its key. */
  file?: StagedObject;
  /** Set when the client asked for a page (`limit`, `cursor`). */
  page?: PageRequest;
  headers: Record<string, string | string[] | undefined>;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
}

export type RouteResult =
  | { kind: "json"; status?: number; detail: string; data: unknown; next?: { createdAt: Date; uid: string }; extra?: Record<string, unknown> }
  | { kind: "download"; filename: string; size?: number; contentType?: string; stream: Readable }
  /** A long-lived stream (Server-Sent Events), flushed as it is written. */
  | { kind: "events"; stream: Readable };

export interface RouteDefinition {
  key: string;
  /** The original's Service/action, for the route listing and logs. */
  action: string;
  /** multipart routes also take JSON when their file is optional. */
  body: "json" | "multipart";
  file?: "required" | "optional";
  /** JSON Schema of the body (credentials excluded). */
  schema: Record<string, unknown>;
  paginated?: boolean;
  handle(context: RouteContext): Promise<RouteResult>;
}

// ---- small schema builders, so each route's fields read like the original's field table ----

/** A uid as this service issues them: lowercase hex in 8-4-4-4-12 groups (no `urn:uuid:` or braces). */
export const UUID = { type: "string", pattern: "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$" } as const;
export const TEXT = { type: "string", maxLength: 10_000 } as const;
/** A field the original accepted and this service refuses on purpose (e.g. raw storage paths). */
export const RETIRED = { not: {} } as const;
export const NAME = { type: "string", minLength: 1, maxLength: 255 } as const;

/** An object schema: `required` fields first, then optional ones. Unknown fields are allowed, as the original's clients send extras. */
export function fields(required: Record<string, unknown>, optional: Record<string, unknown> = {}): Record<string, unknown> {
  return { type: "object", required: Object.keys(required), properties: { ...required, ...optional } };
}

export function enumOf(values: readonly string[]): Record<string, unknown> {
  return { type: "string", enum: [...values] };
}

export function json(detail: string, data: unknown, status = 200): RouteResult {
  return { kind: "json", status, detail, data };
}
