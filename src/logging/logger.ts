import { pino } from "pino";
import type { Logger } from "../domain/ports.js";

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: "argo-entrypoint" },
      // Belt and braces: nothing should log these, but if a body ever slips in, they are cut.
      redact: {
        paths: ["secret_key", "*.secret_key", "secretKey", "*.secretKey", "authorization", "*.authorization"],
        censor: "[redacted]",
      },
      timestamp: pino.stdTimeFunctions.isoTime,
      serializers: { err: boundedError },
    },
    destination ?? process.stdout,
  );
}

const MAX_MESSAGE = 2_000;
const MAX_STACK = 4_000;

/** Errors as log fields, cut to a sane size: a driver's message can carry a whole query and its values. */
function boundedError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { message: String(error).slice(0, MAX_MESSAGE) };
  const cause = error.cause instanceof Error ? { type: error.cause.name, message: error.cause.message.slice(0, MAX_MESSAGE) } : undefined;
  return {
    type: error.name,
    message: error.message.slice(0, MAX_MESSAGE),
    ...((error as { code?: unknown }).code === undefined ? {} : { code: (error as { code?: unknown }).code }),
    ...(error.stack ? { stack: error.stack.slice(0, MAX_STACK) } : {}),
    ...(cause ? { cause } : {}),
  };
}
