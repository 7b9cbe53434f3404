import { readdirSync, readlinkSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Express } from "express";
import { createHttpServer } from "../../src/http/server.js";

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: Record<string, any>;
}

/** The app listening on a loopback port, for tests that need real sockets (aborts, early answers). */
export async function listen(app: Express): Promise<{ port: number; close(): Promise<void> }> {
  const server = createHttpServer(app).listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * One request over a fresh socket. The body is written in full unless `abortAfter` bytes are
 * given, in which case the socket is destroyed after that many (a client going away).
 */
export function rawRequest(
  port: number,
  options: { method?: string; path: string; headers?: Record<string, string>; body?: Buffer | string; abortAfter?: number },
): Promise<RawResponse | "aborted"> {
  return new Promise((resolve, reject) => {
    const body = options.body === undefined ? Buffer.alloc(0) : Buffer.from(options.body);
    const request = http.request(
      { port, host: "127.0.0.1", method: options.method ?? "POST", path: options.path, headers: options.headers, agent: false },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (c: Buffer) => chunks.push(c));
        response.on("end", () => {
          const text = Buffer.concat(chunks).toString();
          let json: Record<string, any> = {};
          try {
            json = JSON.parse(text) as Record<string, any>;
          } catch {
            // not JSON (a download, an event stream)
          }
          resolve({ status: response.statusCode ?? 0, headers: response.headers, text, json });
        });
      },
    );
    request.on("error", (error: NodeJS.ErrnoException) => (options.abortAfter !== undefined ? resolve("aborted") : reject(error)));
    if (options.abortAfter !== undefined) {
      request.write(body.subarray(0, options.abortAfter), () =>
        setTimeout(() => {
          request.destroy();
          resolve("aborted");
        }, 20),
      );
      return;
    }
    // Large bodies go out in chunks, so an early answer can arrive while the client still sends.
    const chunk = 64 * 1024;
    let offset = 0;
    const pump = () => {
      while (offset < body.length) {
        const piece = body.subarray(offset, offset + chunk);
        offset += piece.length;
        if (!request.write(piece)) return void request.once("drain", pump);
      }
      request.end();
    };
    pump();
  });
}

/** This process's open file descriptors whose target contains `fragment` (Linux /proc). */
export function openDescriptors(fragment: string): string[] {
  const found: string[] = [];
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target.includes(fragment)) found.push(target);
    } catch {
      // closed while listing
    }
  }
  return found;
}

/** A multipart body with the given text parts (in order) and optionally a file part among them. */
export function multipart(
  parts: Array<[string, string] | ["file", Buffer, string]>,
  boundary = "----hardening-boundary",
): { body: Buffer; contentType: string } {
  const pieces: Buffer[] = [];
  for (const part of parts) {
    if (part.length === 3) {
      pieces.push(
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="${part[0]}"; filename="${part[2]}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
        ),
        part[1],
        Buffer.from("\r\n"),
      );
    } else pieces.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${part[0]}"\r\n\r\n${part[1]}\r\n`));
  }
  pieces.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(pieces), contentType: `multipart/form-data; boundary=${boundary}` };
}
