/** The one place errors become HTTP answers: `{"detail", "errors": [{field, message}], "code", "request_id"}`. */
import type { ErrorRequestHandler, RequestHandler, Response } from "express";
import { DomainError, NotFoundError, RateLimitedError, ValidationError, type ErrorKind, type FieldProblem } from "../../domain/errors.js";
import type { Logger } from "../../domain/ports.js";
import { requestIdOf } from "./request-context.js";

const STATUS: Record<ErrorKind, number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  unsupported_media_type: 415,
  unprocessable: 422,
  method_not_allowed: 405,
  rate_limited: 429,
  upstream: 503,
  internal: 500,
};

/** Stable, machine-readable codes (clients branch on these, never on the text of `detail`). */
const CODE: Record<ErrorKind, string> = {
  invalid: "invalid_request",
  unauthenticated: "unauthenticated",
  forbidden: "forbidden",
  not_found: "not_found",
  conflict: "conflict",
  too_large: "payload_too_large",
  unsupported_media_type: "unsupported_media_type",
  unprocessable: "unprocessable",
  method_not_allowed: "method_not_allowed",
  rate_limited: "rate_limited",
  upstream: "unavailable",
  internal: "internal_error",
};

export interface ErrorBody {
  detail: string;
  errors: FieldProblem[];
  code: string;
  request_id: string | undefined;
}

/**
 * An error as the status and body of `response`. Its operation's field map (set once the body
 * was valid) renames domain subjects to the fields the caller sent; anything that is not a
 * domain error is an internal error, whose details stay in the log.
 */
export function describeError(error: unknown, response: Response): { status: number; body: ErrorBody; retryAfterSeconds?: number } {
  const fields = (response.locals.fields as Record<string, string> | undefined) ?? {};
  const known = error instanceof DomainError ? error : fromExpress(error);
  const requestId = requestIdOf(response.req);
  if (!known || known.kind === "internal") {
    return { status: 500, body: { detail: "Internal server error", errors: [], code: CODE.internal, request_id: requestId } };
  }
  const problems = known.problems.map((problem) => ({ field: wireField(problem.field, fields), message: problem.message }));
  const detail = known.describedByProblems
    ? `Invalid request: ${problems.map((p) => `${p.field} ${p.message}`).join("; ")}`
    : known.message;
  return {
    status: STATUS[known.kind],
    body: { detail, errors: problems, code: CODE[known.kind], request_id: requestId },
    ...(known instanceof RateLimitedError ? { retryAfterSeconds: known.retryAfterSeconds } : {}),
  };
}

/** The field a subject came from: mapped whole, or by its first segment (`agentUids.1` -> `f_agent_uid.1`). */
function wireField(subject: string, fields: Record<string, string>): string {
  const whole = fields[subject];
  if (whole) return whole;
  const dot = subject.indexOf(".");
  const head = dot > 0 ? fields[subject.slice(0, dot)] : undefined;
  return head ? `${head}${subject.slice(dot)}` : subject;
}

/** Client errors Express's router raises: a path segment that is not valid percent-encoding. */
function fromExpress(error: unknown): DomainError | undefined {
  if (error instanceof URIError && (error as URIError & { status?: unknown }).status === 400)
    return ValidationError.field("path", "is not valid percent-encoding");
  return undefined;
}

/** The field map of the operation a response belongs to, set by a surface once the body is valid. */
export function useFieldNames(response: Response, fields: Record<string, string> | undefined): void {
  if (fields) response.locals.fields = fields;
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, request, response, _next) => {
    if (response.headersSent) {
      // A stream failed after its headers went out: all we can do is cut the connection.
      logger.warn({ err: error, path: request.path, requestId: requestIdOf(request) }, "action=respond outcome=aborted-after-headers");
      response.destroy();
      return;
    }
    const { status, body, retryAfterSeconds } = describeError(error, response);
    if (status >= 500)
      logger.error({ err: error, path: request.path, status, requestId: body.request_id }, "action=respond outcome=server-error");
    if (retryAfterSeconds !== undefined) response.setHeader("Retry-After", String(retryAfterSeconds));
    response.status(status).json(body);
  };
}

export const notFoundHandler: RequestHandler = (request, _response, next) => {
  next(new NotFoundError(`No route for ${request.method} ${request.path.slice(0, 200)}`));
};
