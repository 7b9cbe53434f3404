/**
 * The client side of the API for the CLI: JSON calls to route keys and Server-Sent Events
 * streams, with credentials in headers (never in argv or URLs), and failures as exit codes.
 */
import { sseMessages, type SseMessage } from "./sse-reader.js";

export const EXIT = { ok: 0, taskFailed: 1, usage: 2, auth: 3, notFound: 4, unavailable: 5 } as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

export interface Credentials {
  url: string;
  accessKey: string;
  secretKey: string;
}

const API_VERSION = "v1.2.4";

export class ApiClient {
  constructor(private readonly credentials: Credentials) {}

  private endpoint(key: string): string {
    return `${this.credentials.url.replace(/\/$/, "")}/api/${API_VERSION}/entrypoint/Router/parse/${key}`;
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return {
      "Content-Type": "application/json",
      "X-Access-Key": this.credentials.accessKey,
      "X-Secret-Key": this.credentials.secretKey,
      ...extra,
    };
  }

  /** One call; its `{detail, data}` answer, or a CliError with the exit code its status means. */
  async call<T = unknown>(
    key: string,
    body: Record<string, unknown>,
    headers: Record<string, string> = {},
  ): Promise<{ data: T; next_cursor?: string }> {
    const response = await this.send(key, body, headers);
    const text = await response.text();
    let parsed: { detail?: string; data?: T; next_cursor?: string } = {};
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      // a proxy's HTML page: reported by status below
    }
    if (!response.ok) throw failure(response.status, parsed.detail ?? text.slice(0, 200));
    return { data: parsed.data as T, ...(parsed.next_cursor ? { next_cursor: parsed.next_cursor } : {}) };
  }

  /** Opens a download: its file name (from Content-Disposition), size when known, and the body to stream. */
  async open(
    key: string,
    body: Record<string, unknown>,
  ): Promise<{ filename: string | undefined; size: number | undefined; body: ReadableStream }> {
    const response = await this.send(key, body, {});
    if (!response.ok || !response.body) throw failure(response.status, await detailOf(response));
    const disposition = response.headers.get("content-disposition") ?? "";
    const length = Number(response.headers.get("content-length"));
    return {
      filename: /filename="([^"]*)"/.exec(disposition)?.[1],
      size: Number.isFinite(length) && length > 0 ? length : undefined,
      body: response.body,
    };
  }

  /** Opens an event stream and yields its events until it ends or `signal` aborts. */
  async *stream(
    key: string,
    body: Record<string, unknown>,
    headers: Record<string, string>,
    signal: AbortSignal,
  ): AsyncGenerator<SseMessage> {
    const response = await this.send(key, body, headers, signal);
    if (!response.ok) throw failure(response.status, await detailOf(response));
    yield* sseMessages(response.body as unknown as AsyncIterable<Uint8Array>);
  }

  private async send(key: string, body: Record<string, unknown>, headers: Record<string, string>, signal?: AbortSignal): Promise<Response> {
    try {
      return await fetch(this.endpoint(key), {
        method: "POST",
        headers: this.headers(headers),
        body: JSON.stringify(body),
        ...(signal ? { signal } : {}),
      });
    } catch (error) {
      if ((error as Error).name === "AbortError") throw error;
      throw new CliError(`cannot reach ${this.credentials.url}: ${(error as Error).message}`, EXIT.unavailable);
    }
  }
}

/** The `detail` of an error answer, or the start of whatever else came (a proxy's page). */
async function detailOf(response: Response): Promise<string> {
  const text = await response.text();
  try {
    return (JSON.parse(text) as { detail?: string }).detail ?? text.slice(0, 200);
  } catch {
    return text.slice(0, 200);
  }
}

function failure(status: number, detail: string): CliError {
  const code =
    status === 401 || status === 403
      ? EXIT.auth
      : status === 404
        ? EXIT.notFound
        : status === 429 || status >= 500
          ? EXIT.unavailable
          : EXIT.usage;
  return new CliError(`${status}: ${detail}`, code);
}
