/**
 * The route model. An operation is data: the surfaces that expose it (today the MITLab router's
 * key), one body schema (TypeBox: the same value validates requests and types the handler's
 * body), the use case it calls, and how its answer is presented. Surfaces (`src/http/mitlab`,
 * later REST aliases and other APIs) are adapters over the same operations.
 */
import type { IncomingHttpHeaders } from "node:http";
import type { Readable } from "node:stream";
import type { Static, TObject } from "@sinclair/typebox";
import { permits } from "../../domain/auth/api-keys.js";
import { ForbiddenError } from "../../domain/errors.js";
import type { PageRequest, StagedObject } from "../../domain/ports.js";
import type { Principal } from "../../domain/principal.js";
import type { ApiKeyPurpose } from "../../domain/records.js";
import type { SseEvent } from "../shared/sse.js";

export interface OperationRequest<Body> {
  principal: Principal;
  /** The body, validated against the operation's schema; credentials already removed. */
  body: Body;
  /** A form's file part, received whole and staged; the use case commits it under its key. */
  file?: StagedObject;
  /** Set when the client asked for a page (`limit`, `cursor`). */
  page?: PageRequest;
  headers: IncomingHttpHeaders;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
}

export type OperationResult =
  /** One record (or an empty object after a delete); `created` lets a surface answer 201. */
  | { kind: "record"; detail: string; data: unknown; created?: boolean; extra?: Record<string, unknown> }
  | { kind: "list"; detail: string; items: unknown[]; next?: { createdAt: Date; uid: string } }
  | { kind: "download"; filename: string; size?: number; contentType?: string; stream: Readable }
  /** A long-lived stream of events, framed by the surface (Server-Sent Events). */
  | { kind: "events"; events: AsyncIterable<SseEvent> };

/**
 * A readable REST alias of an operation (added beside the original's keys): `/api/v1` + `path`,
 * whose `{name}` segments fill the body field `params[name]` (or `name`). GET and DELETE take the
 * rest of the body from the query string, other methods from a JSON body. `query` tells apart
 * two operations on one method and path (e.g. `?follow=true`).
 */
export interface RestAlias {
  method: "get" | "post" | "patch" | "delete";
  path: string;
  params?: Record<string, string>;
  query?: Record<string, string>;
}

export interface Operation<Body extends TObject = TObject> {
  /** Stable name (logs, metrics, documentation). */
  id: string;
  /** The original platform's action, `Service/action`. */
  summary: string;
  /** The MITLab router key this operation answers to. */
  mitlabKey?: string;
  /** Its REST aliases, if any. */
  rest?: RestAlias[];
  body: Body;
  /** A form with a file part (multipart); such routes also take JSON when the file is optional. */
  form?: { file: "required" | "optional" };
  /** The MITLab status of a created record when the original's was not 200 (its SDK upload answered 201). */
  mitlabCreatedStatus?: 201;
  /**
   * Also answers a running task's credential (the lab's SDK inside a step); the use case then
   * confines it to that task's inputs and output. Every other operation refuses it.
   */
  acceptsTaskCredential?: true;
  /** The purpose an API key (`x-api-key`) needs to call it; absent: API keys are refused. */
  apiKey?: ApiKeyPurpose;
  /** Accepts `limit` and `cursor`. */
  paginated?: boolean;
  /** The body field each domain subject came from, so errors name what the caller sent (identity when absent). */
  fields?: Record<string, string>;
  handle(request: OperationRequest<Static<Body>>): Promise<OperationResult>;
}

/** Declares an operation, inferring its body type from its schema. */
export function operation<Body extends TObject>(definition: Operation<Body>): Operation<Body> {
  return definition;
}

export function record(detail: string, data: unknown, options: { created?: boolean } = {}): OperationResult {
  return { kind: "record", detail, data, ...options };
}

export function listed<T>(
  detail: string,
  page: { items: T[]; next?: { createdAt: Date; uid: string } },
  present: (item: T) => unknown,
): OperationResult {
  return { kind: "list", detail, items: page.items.map(present), ...(page.next ? { next: page.next } : {}) };
}

/** A task credential reaches only the SDK's routes; an API key only the routes its purpose allows (a model's key none of ours). */
export function checkReach(principal: Principal, operation: Operation, taskRoutes: string): void {
  if (principal.task && !operation.acceptsTaskCredential)
    throw new ForbiddenError(`a task credential reaches only the routes a step's SDK uses (${taskRoutes})`);
  const key = principal.apiKey;
  if (key && (key.modelUid !== null || !operation.apiKey || !permits(key.purpose, operation.apiKey)))
    throw new ForbiddenError(
      key.modelUid !== null
        ? "a model's API key reaches only that model's Prediction One routes"
        : `an API key for ${key.purpose} cannot call ${operation.id}${operation.apiKey ? ` (it needs ${operation.apiKey})` : ""}`,
    );
}
