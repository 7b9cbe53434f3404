/**
 * How every MRMS endpoint answers (its value as plain text, or "error" with the status and detail
 * of the service's one error model) and who may call it: a user (credential headers, session or
 * an API key within its purpose) or a running step (its task credential).
 */
import type { TSchema } from "@sinclair/typebox";
import type { Request, Response } from "express";
import { permits } from "../../domain/auth/api-keys.js";
import { ForbiddenError, ValidationError } from "../../domain/errors.js";
import type { Principal } from "../../domain/principal.js";
import type { ApiKeyPurpose, TaskRecord } from "../../domain/records.js";
import type { StepAccess } from "../../domain/tasks/step-access.js";
import { BodyValidator } from "../operations/body-validator.js";
import { describeCaller, describeRoute } from "../shared/access-log.js";
import { credentialsRequired, type RequestAuthenticator } from "../shared/authenticate.js";
import { describeError } from "../shared/errors.js";
import { readJsonBody } from "../shared/json-body.js";

const BODY_LIMITS = { maxBytes: 256 * 1024, maxDepth: 6 };

type Body = Record<string, unknown>;
type Handler = (request: Request, response: Response) => Promise<void>;

export interface MrmsCallers {
  /** A user's call; an API key must allow `purpose`. `body` is read (and checked against `schema`) only for a POST. */
  asUser(
    route: string,
    purpose: ApiKeyPurpose,
    answer: (principal: Principal, request: Request, body: Body, response: Response) => Promise<unknown>,
    schema?: TSchema,
  ): Handler;
  /** A running step's call: its task credential, for the learning history the body names (`hist_no` or `learn_hist_no`). */
  asStep(route: string, answer: (task: TaskRecord, body: Body) => Promise<void>, schema?: TSchema): Handler;
}

export function mrmsCallers(deps: { requests: RequestAuthenticator; steps: StepAccess }): MrmsCallers {
  const validator = new BodyValidator();
  const readBody = async (request: Request, route: string, schema: TSchema | undefined): Promise<Body> => {
    const body = (await readJsonBody(request, BODY_LIMITS)) as unknown;
    if (!body || typeof body !== "object" || Array.isArray(body)) throw ValidationError.field("body", "must be a JSON object");
    if (schema) validator.validate(route, "json", body as Body);
    return body as Body;
  };
  const compile = (route: string, schema: TSchema | undefined) => schema && validator.compile(route, schema, "json");

  return {
    asUser(route, purpose, answer, schema) {
      compile(route, schema);
      return (request, response) =>
        plain(route, response, async () => {
          const principal = await deps.requests.fromHeaders(request);
          if (!principal) throw credentialsRequired();
          describeCaller(response, principal.userUid);
          if (principal.task) throw new ForbiddenError("a task credential reaches MRMS only through the step updates");
          const key = principal.apiKey;
          if (key && (key.modelUid !== null || !permits(key.purpose, purpose)))
            throw new ForbiddenError(
              `an API key for ${key.purpose}${key.modelUid ? " of one model" : ""} cannot call ${route} (it needs ${purpose})`,
            );
          const body = request.method === "POST" ? await readBody(request, route, schema) : {};
          return answer(principal, request, body, response);
        });
    },
    asStep(route, answer, schema) {
      compile(route, schema);
      return (request, response) =>
        plain(route, response, async () => {
          const token = /^bearer (.+)$/i.exec(request.headers.authorization ?? "")?.[1];
          if (!token) throw credentialsRequired();
          const body = await readBody(request, route, schema);
          const histNo = text(body.hist_no ?? body.learn_hist_no, "hist_no");
          await answer(await deps.steps.authorize(histNo, token.trim()), body);
          return "1";
        });
    },
  };
}

/** Runs a handler and answers as MRMS did: its value as text, or "error". */
async function plain(route: string, response: Response, run: () => Promise<unknown>): Promise<void> {
  describeRoute(response, route);
  try {
    const value = await run();
    if (value !== undefined) response.type("text/plain").send(String(value));
  } catch (error) {
    const { status, body } = describeError(error, response);
    response.status(status).setHeader("X-Error-Detail", encodeURIComponent(body.detail)).type("text/plain").send("error");
  }
}

export function text(value: unknown, field: string): string {
  if (typeof value !== "string" || value === "") throw ValidationError.field(field, "is required");
  return value;
}

export function parseJson(value: string, field: string): unknown {
  try {
    return JSON.parse(value) as unknown;
  } catch {
    throw ValidationError.field(field, "must be a JSON object in a string");
  }
}

export function number(value: unknown, field: string): number {
  const parsed = typeof value === "string" ? Number(value) : value;
  if (typeof parsed !== "number" || !Number.isFinite(parsed)) throw ValidationError.field(field, "must be a number");
  return parsed;
}

export function compact(date: Date): string {
  return date.toISOString().replace(/[-:T]/g, "").slice(0, 14);
}

/** A YYYYmmddHHMMSS time (read as UTC). */
export function parseCompact(value: string, field: string): Date {
  const match = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(value);
  const date = match ? new Date(`${match[1]}-${match[2]}-${match[3]}T${match[4]}:${match[5]}:${match[6]}Z`) : undefined;
  if (!date || Number.isNaN(date.getTime()) || compact(date) !== value) throw ValidationError.field(field, "must be a time YYYYmmddHHMMSS");
  return date;
}
