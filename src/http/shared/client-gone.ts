import type { Response } from "express";

/**
 * The signal an operation's `signal` is: aborted when the client goes away or the service shuts
 * down. Made on first read: most operations never read it, and making one (a controller, a
 * listener, `AbortSignal.any`) costed every request.
 */
export function lazyClientSignal(response: Response, shutdown: AbortSignal): () => AbortSignal {
  let signal: AbortSignal | undefined;
  return () => {
    if (signal) return signal;
    const gone = new AbortController();
    if (response.destroyed || response.writableFinished) gone.abort();
    else response.once("close", () => gone.abort());
    signal = AbortSignal.any([gone.signal, shutdown]);
    return signal;
  };
}
