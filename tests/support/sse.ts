import { expect } from "@jest/globals";
import { sseMessages } from "../../src/client/sse-reader.js";

export interface ReadEvent {
  event: string;
  data: any;
  id?: string;
}

/** POSTs a JSON body (or GETs, without one) and reads the Server-Sent Events answer until it ends, `until` says stop, or `signal` aborts. */
export async function readSse(
  url: string,
  body: Record<string, unknown> | null,
  options: { until?: (events: ReadEvent[]) => boolean; headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<ReadEvent[]> {
  const response = await fetch(url, {
    method: body ? "POST" : "GET",
    headers: { ...(body ? { "Content-Type": "application/json" } : {}), ...options.headers },
    ...(body ? { body: JSON.stringify(body) } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
  const events: ReadEvent[] = [];
  for await (const message of sseMessages(response.body as unknown as AsyncIterable<Uint8Array>)) {
    events.push(message as ReadEvent);
    if (options.until?.(events)) break; // leaving the loop cancels the body: the connection closes
  }
  return events;
}
