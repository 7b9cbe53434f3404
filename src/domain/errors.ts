/** The one error model: use cases throw these; src/http/middleware/error-handler.ts maps them to HTTP once. */
export interface FieldProblem {
  field: string;
  message: string;
}

export abstract class DomainError extends Error {
  abstract readonly kind: ErrorKind;
  readonly problems: FieldProblem[];
  /** The message is nothing but its problems ("Invalid request: <field> <message>"), so it is rewritten when fields are renamed. */
  readonly describedByProblems: boolean;
  constructor(message: string, options: { problems?: FieldProblem[]; cause?: unknown; describedByProblems?: boolean } = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.problems = options.problems ?? [];
    this.describedByProblems = options.describedByProblems ?? false;
  }
}

export type ErrorKind =
  | "invalid"
  | "unauthenticated"
  | "forbidden"
  | "not_found"
  | "conflict"
  | "too_large"
  | "unsupported_media_type"
  | "unprocessable"
  | "method_not_allowed"
  | "rate_limited"
  | "upstream"
  | "internal";

/** 400: the request is malformed; every problem names its field. */
export class ValidationError extends DomainError {
  readonly kind = "invalid";
  static field(field: string, message: string): ValidationError {
    return new ValidationError(`Invalid request: ${field} ${message}`, { problems: [{ field, message }], describedByProblems: true });
  }
}
export class AuthenticationError extends DomainError {
  readonly kind = "unauthenticated";
}
export class ForbiddenError extends DomainError {
  readonly kind = "forbidden";
}
export class NotFoundError extends DomainError {
  readonly kind = "not_found";
  /** A uid the caller may not see is reported exactly like one that does not exist. */
  static entity(entity: string, field: string, uid: string): NotFoundError {
    return new NotFoundError(`${entity} ${uid} not found`, { problems: [{ field, message: `no ${entity} with this uid` }] });
  }
}
export class ConflictError extends DomainError {
  readonly kind = "conflict";
}
export class PayloadTooLargeError extends DomainError {
  readonly kind = "too_large";
}
export class UnsupportedMediaTypeError extends DomainError {
  readonly kind = "unsupported_media_type";
}
/** 422: well-formed, but inconsistent with the stored state (wrong pipeline type, image sequence, ...). */
export class UnprocessableError extends DomainError {
  readonly kind = "unprocessable";
}
export class RateLimitedError extends DomainError {
  readonly kind = "rate_limited";
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}
/** A dependency (database, object store, Kubernetes) failed; the message is safe to show. */
export class UpstreamError extends DomainError {
  readonly kind = "upstream";
}

/** Something this service guarantees did not hold (a bug, not a bad request): 500, and logged. */
export class InvariantError extends DomainError {
  readonly kind = "internal";
}
