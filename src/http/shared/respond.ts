/** How an operation's result goes out over HTTP: the original's envelope, a download, or an event stream. */
import { pipeline } from "node:stream/promises";
import type { Response } from "express";
import type { Logger } from "../../domain/ports.js";
import type { OperationResult } from "../operations/operation.js";
import { encodeCursor } from "./cursor.js";
import { describeError } from "./errors.js";
import { sseStream } from "./sse.js";

export interface RespondOptions {
  /** The status of a created record (the original answered 201 for some). */
  createdStatus: number;
  keepAliveMs: number;
  logger: Logger;
  /** Answers carry an ETag and honour If-None-Match (REST reads); others are written as they are. */
  conditional?: boolean;
}

export async function respond(response: Response, result: OperationResult, options: RespondOptions): Promise<void> {
  switch (result.kind) {
    case "record": {
      // Extra envelope fields (e.g. a log's truncation) sit beside `data`, which keeps the original's shape.
      sendJson(
        response,
        result.created ? options.createdStatus : 200,
        { detail: result.detail, data: result.data, ...result.extra },
        options,
      );
      return;
    }
    case "list": {
      const envelope: Record<string, unknown> = { detail: result.detail, data: result.items };
      if (result.next) {
        const cursor = encodeCursor(result.next);
        envelope.next_cursor = cursor;
        response.setHeader("X-Next-Cursor", cursor);
      }
      sendJson(response, 200, envelope, options);
      return;
    }
    case "events": {
      response.status(200);
      response.setHeader("Content-Type", "text/event-stream; charset=utf-8");
      response.setHeader("Cache-Control", "no-cache, no-transform");
      response.setHeader("X-Accel-Buffering", "no"); // nginx-style proxies: do not buffer the stream
      response.flushHeaders();
      const stream = sseStream(result.events[Symbol.asyncIterator](), options.keepAliveMs, (error) => describeError(error, response).body);
      response.on("close", () => stream.destroy());
      await pipeline(stream, response).catch(() => undefined); // the client leaving ends it
      return;
    }
    case "download": {
      response.status(200);
      response.setHeader("Content-Type", result.contentType ?? "application/octet-stream");
      response.setHeader("Content-Disposition", `attachment; filename="${result.filename.replace(/["\\\r\n]/g, "_")}"`);
      if (result.size !== undefined) response.setHeader("Content-Length", String(result.size));
      response.on("close", () => result.stream.destroy()); // a client that leaves early releases the file at once
      await pipeline(result.stream, response).catch((error: unknown) => {
        // A client that went away mid-download is not a server error; a source that failed is.
        if (response.destroyed && !response.writableFinished && (error as { code?: string }).code === "ERR_STREAM_PREMATURE_CLOSE") {
          options.logger.debug({ filename: result.filename }, "action=download outcome=client-left");
          return;
        }
        throw error;
      });
    }
  }
}

/**
 * A JSON answer. Express's `json` hashes every body for an ETag; only conditional reads use it,
 * the rest (every route key's answer is a POST's) are written directly.
 */
function sendJson(response: Response, status: number, body: unknown, options: RespondOptions): void {
  if (options.conditional) {
    response.status(status).json(body);
    return;
  }
  const text = JSON.stringify(body);
  response.statusCode = status;
  response.setHeader("Content-Type", "application/json; charset=utf-8");
  response.setHeader("Content-Length", Buffer.byteLength(text));
  response.end(text);
}
