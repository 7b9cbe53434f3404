import { ConflictError, DomainError, NotFoundError, UpstreamError } from "../../domain/errors.js";
import type { Logger, Meter } from "../../domain/ports.js";

export interface RetrySettings {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Longest wait for one request before it counts as failed. */
  timeoutMs: number;
}

/** The HTTP status of a client-node ApiException (or of a Status body), if any. */
function statusOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === "number" ? code : undefined;
}

function retriable(error: unknown): boolean {
  const status = statusOf(error);
  if (status === undefined) return !(error instanceof DomainError); // network errors, timeouts
  return status === 429 || status >= 500;
}

/**
 * One Kubernetes call, as a careful operator would make it: bounded in time, retried with
 * exponential backoff and full jitter on 429, 5xx and network errors, and translated once into
 * the domain's errors (404 → NotFound, 409 → Conflict, 403 → a configuration problem).
 */
/** Where a Kubernetes call's failures are logged and its outcome counted. */
export interface KubeObservers {
  logger: Logger;
  meter: Meter;
}

export async function kubeCall<T>(what: string, call: () => Promise<T>, settings: RetrySettings, observe: KubeObservers): Promise<T> {
  const { logger, meter } = observe;
  const verb = what.split(" ")[0] ?? "call";
  let lastError: unknown;
  for (let attempt = 1; attempt <= settings.attempts; attempt += 1) {
    try {
      const result = await withTimeout(call(), settings.timeoutMs, what);
      meter.kubeCall(verb, "ok");
      return result;
    } catch (error) {
      lastError = error;
      if (!retriable(error) || attempt === settings.attempts) break;
      const delay = Math.random() * Math.min(settings.maxDelayMs, settings.baseDelayMs * 2 ** (attempt - 1));
      logger.warn({ what, attempt, status: statusOf(error) }, "action=kube-call outcome=retrying");
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
  meter.kubeCall(verb, "failed");
  throw translate(what, lastError, logger);
}

/** Messages are for users: what failed, never the client's raw text (that goes to the log with the cause). */
function translate(what: string, error: unknown, logger: Logger): unknown {
  if (error instanceof DomainError) return error;
  const status = statusOf(error);
  if (status !== 404 && status !== 409)
    logger.error(
      { err: error, what, status, body: String((error as { body?: unknown }).body ?? "").slice(0, 2000) },
      "action=kube-call outcome=failed",
    );
  switch (status) {
    case 404:
      return new NotFoundError(`${what}: not found`, { cause: error });
    case 409:
      return new ConflictError(`${what}: conflict`, { cause: error });
    case 400:
    case 422:
      return new UpstreamError(`${what}: Kubernetes refused the object as invalid (the service's log has the details)`, { cause: error });
    case 401:
    case 403:
      return new UpstreamError(
        `${what}: the service's Kubernetes identity is not allowed to do this; check its Role (see the Helm chart)`,
        { cause: error },
      );
    default:
      return new UpstreamError(`${what}: Kubernetes is unavailable`, { cause: error });
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
