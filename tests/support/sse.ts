import { expect } from "@jest/globals";

export interface ReadEvent {
  event: string;
  data: any;
  id?: string;
}

/** POSTs a JSON body and reads the Server-Sent Events answer until it ends, `until` says stop, or `signal` aborts. */
export async function readSse(
  url: string,
  body: Record<string, unknown>,
  options: { until?: (events: ReadEvent[]) => boolean; headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<ReadEvent[]> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...options.headers },
    body: JSON.stringify(body),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
  const events: ReadEvent[] = [];
  let buffer = "";
  const decoder = new TextDecoder();
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const name = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      const id = /^id: (.*)$/m.exec(block)?.[1];
      if (name && data) events.push({ event: name, data: JSON.parse(data), ...(id ? { id } : {}) });
    }
    if (options.until?.(events)) break; // leaving the loop cancels the body: the connection closes
  }
  return events;
}
