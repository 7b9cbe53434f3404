import { Writable } from "node:stream";
import type { Meter } from "../../src/domain/ports.js";
import { createLogger } from "../../src/logging/logger.js";

/** A logger that writes nowhere. */
export const silentLogger = createLogger("silent", new Writable({ write: (_chunk, _encoding, done) => done() }));

/** A meter that counts nothing, for parts tested without the service's metrics. */
export const uncounted: Meter = {
  request: () => undefined,
  kubeCall: () => undefined,
  watchRestarted: () => undefined,
  signInFailed: () => undefined,
  uploaded: () => undefined,
};
