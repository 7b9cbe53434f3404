import { Readable } from "node:stream";

/** One Server-Sent Event: its name, JSON data and, for resumable streams, its id (a client sends it back as Last-Event-ID). */
export interface SseEvent {
  event: string;
  data: unknown;
  id?: string;
}

/**
 * Frames events as Server-Sent Events, with a `: keep-alive` comment whenever none arrived for
 * `keepAliveMs` (so proxies keep an idle stream open). An error from the events is sent as an
 * `error` event, shaped by `describe` (the one error model), and ends the stream. Destroying the
 * result ends the events' generator, which releases what it held.
 */
export function sseStream(events: AsyncIterator<SseEvent>, keepAliveMs: number, describe: (error: unknown) => unknown): Readable {
  return Readable.from(frames(events, keepAliveMs, describe), { objectMode: false });
}

const TICK = Symbol("keep-alive");

async function* frames(
  events: AsyncIterator<SseEvent>,
  keepAliveMs: number,
  describe: (error: unknown) => unknown,
): AsyncGenerator<string> {
  yield ": following\n\n";
  let timer: NodeJS.Timeout | undefined;
  const tick = () => new Promise<typeof TICK>((resolve) => (timer = setTimeout(() => resolve(TICK), keepAliveMs)));
  // A pending `next()` may still settle after the stream ended: its rejection must never go unhandled.
  const nextEvent = () => {
    const promise = events.next();
    promise.catch(() => undefined);
    return promise;
  };
  let pending = nextEvent();
  try {
    for (;;) {
      const next = await Promise.race([pending, tick()]);
      clearTimeout(timer);
      if (next === TICK) {
        yield ": keep-alive\n\n";
        continue;
      }
      if (next.done) return;
      yield frame(next.value);
      pending = nextEvent();
    }
  } catch (error) {
    yield frame({ event: "error", data: describe(error) });
  } finally {
    clearTimeout(timer);
    events.return?.(undefined)?.catch(() => undefined);
  }
}

function frame({ event, data, id }: SseEvent): string {
  return `${id === undefined ? "" : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
