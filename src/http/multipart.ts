import type { IncomingMessage } from "node:http";
import { PassThrough, type Readable } from "node:stream";
import busboy from "busboy";
import { PayloadTooLargeError, ValidationError } from "../domain/errors.js";

export interface MultipartStart {
  /** The fields sent before the file part (or all fields when there is no file). */
  fields: Record<string, string>;
  file?: { stream: Readable; filename: string };
}

const FILE_FIELD = "file";

/**
 * Reads a multipart body up to the start of its file part and hands the file over as a stream:
 * the file is never buffered. Fields must come before the file (as browsers, curl -F and the
 * original's clients send them); fields after it are ignored. Past `maxFileBytes` the file
 * stream fails with PayloadTooLargeError.
 */
export function readMultipart(request: IncomingMessage, limits: { maxFileBytes: number }): Promise<MultipartStart> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: request.headers, limits: { fileSize: limits.maxFileBytes, files: 1, fields: 100, fieldSize: 1024 * 1024 } });
    } catch (error) {
      reject(new ValidationError(`Malformed multipart body: ${(error as Error).message}`, { cause: error }));
      return;
    }
    const fields: Record<string, string> = {};
    let settled = false;
    const settle = (result: MultipartStart) => {
      settled = true;
      resolve(result);
    };

    parser.on("field", (name, value) => {
      if (!settled) fields[name] = value;
    });
    parser.on("file", (name, stream, info) => {
      if (settled || name !== FILE_FIELD) {
        stream.resume();
        return;
      }
      // A PassThrough lets us fail the consumer's stream with our own error at the limit.
      const out = new PassThrough();
      stream.on("limit", () => {
        out.destroy(new PayloadTooLargeError(`file is larger than the limit of ${limits.maxFileBytes} bytes`, { problems: [{ field: FILE_FIELD, message: "is too large" }] }));
        stream.resume();
      });
      stream.on("error", (error) => out.destroy(error));
      stream.pipe(out);
      settle({ fields, file: { stream: out, filename: info.filename ?? "" } });
    });
    parser.on("error", (error: Error) => {
      if (!settled) reject(new ValidationError(`Malformed multipart body: ${error.message}`, { cause: error }));
    });
    parser.on("close", () => {
      if (!settled) settle({ fields });
    });
    request.pipe(parser);
  });
}
