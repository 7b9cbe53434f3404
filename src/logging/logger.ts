import { AsyncLocalStorage } from "node:async_hooks";
import { pino } from "pino";
import type { Logger } from "../domain/ports.js";

/** Per-request fields (the request id) merged into every log line written while it runs. */
export const logContext = new AsyncLocalStorage<Record<string, unknown>>();

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: "argo-entrypoint" },
      mixin: () => logContext.getStore() ?? {},
      // Belt and braces: nothing should log these, but if a body ever slips in, they are cut.
      redact: { paths: ["secret_key", "*.secret_key", "secretKey", "*.secretKey", "authorization", "*.authorization"], censor: "[redacted]" },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination ?? process.stdout,
  );
}
