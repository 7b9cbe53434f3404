import type { ErrorRequestHandler, RequestHandler } from "express";
import { DomainError, NotFoundError, RateLimitedError, ValidationError, type ErrorKind } from "../../domain/errors.js";
import type { Logger } from "../../domain/ports.js";

const STATUS: Record<ErrorKind, number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  unsupported_media_type: 415,
  unprocessable: 422,
  rate_limited: 429,
  upstream: 503,
};

/** Client errors Express's router raises: a path segment that is not valid percent-encoding. */
function fromExpress(error: unknown): DomainError | undefined {
  if (error instanceof URIError && (error as URIError & { status?: unknown }).status === 400) return ValidationError.field("path", "is not valid percent-encoding");
  return undefined;
}

/** The one place errors become HTTP responses: `{"detail": ..., "errors": [{field, message}]}`. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, request, response, _next) => {
    if (response.headersSent) {
      // A stream failed after its headers went out: all we can do is cut the connection.
      logger.warn({ err: error, path: request.path }, "action=respond outcome=aborted-after-headers");
      response.destroy();
      return;
    }
    const known = error instanceof DomainError ? error : fromExpress(error);
    if (!known) {
      logger.error({ err: error, path: request.path }, "action=respond outcome=internal-error");
      response.status(500).json({ detail: "Internal server error", errors: [] });
      return;
    }
    const status = STATUS[known.kind];
    if (known instanceof RateLimitedError) response.setHeader("Retry-After", String(known.retryAfterSeconds));
    if (status >= 500) logger.error({ err: error, path: request.path }, "action=respond outcome=upstream-error");
    response.status(status).json({ detail: known.message, errors: known.problems });
  };
}

export const notFoundHandler: RequestHandler = (request, _response, next) => {
  next(new NotFoundError(`No route for ${request.method} ${request.path}`));
};

/** An error inside a stream whose headers went out (an SSE `error` event), as the same body an answer would carry. */
export function describeStreamError(error: unknown): { detail: string; errors: unknown[] } {
  if (error instanceof DomainError) return { detail: error.message, errors: error.problems };
  return { detail: "Internal server error", errors: [] };
}
