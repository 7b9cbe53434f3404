import type { IncomingMessage, ServerResponse } from "node:http";

export interface DrainLimits {
  maxBytes: number;
  maxMs: number;
}

/** How much of a refused body is read and dropped so its client sees the answer. */
const DEFAULT_DRAIN: DrainLimits = { maxBytes: 8 * 1024 * 1024, maxMs: 10_000 };

/**
 * A request answered before its body was read whole (refused credentials, a 413): the client is
 * usually still sending, and closing the socket under it loses the answer (EPIPE). So the rest
 * is read and dropped, never stored, up to a bound in bytes and time; past it the connection is
 * closed once the answer has gone out.
 */
export function settleUnreadBody(request: IncomingMessage, response: ServerResponse, limits: DrainLimits = DEFAULT_DRAIN): void {
  if (request.complete || request.destroyed) return;
  request.unpipe();
  let dropped = 0;
  const close = () => {
    clearTimeout(timer);
    if (response.writableFinished) request.socket?.destroy();
    else {
      if (!response.headersSent) response.setHeader("Connection", "close");
      response.once("finish", () => request.socket?.destroy());
    }
  };
  const timer = setTimeout(close, limits.maxMs);
  timer.unref();
  request.on("data", (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > limits.maxBytes) {
      request.pause();
      close();
    }
  });
  request.once("end", () => clearTimeout(timer));
  request.once("close", () => clearTimeout(timer));
  request.resume();
}
