/**
 * Multipart bodies: text parts in any order around one file part. The caller is authenticated
 * when the file part starts (with the headers, or the credential parts sent before it) and only
 * then is the file read: it is staged as it arrives, never held in memory, while the text parts
 * after it are still collected. Nothing is kept when the body is refused, malformed or aborted.
 */
import type { IncomingMessage } from "node:http";
import { Transform, type Readable } from "node:stream";
import busboy from "busboy";
import { PayloadTooLargeError, ValidationError } from "../../domain/errors.js";
import type { StagedObject } from "../../domain/ports.js";
import { assertIdentityEncoding, unsafeStringReason } from "./json-body.js";

const FILE_FIELD = "file";

export interface MultipartLimits {
  maxFileBytes: number;
  /** Largest text part, in bytes. */
  maxFieldBytes: number;
  maxFields: number;
  /** All text parts together; kept small until the caller is known, since they are held in memory. */
  maxFieldsTotalBytes: number;
}

export const DEFAULT_FIELD_LIMITS = { maxFieldBytes: 64 * 1024, maxFields: 64 };
/** Text parts held for a caller not yet authenticated (credential parts come first, and are short). */
export const UNAUTHENTICATED_FIELDS_BYTES = 16 * 1024;
export const AUTHENTICATED_FIELDS_BYTES = 1024 * 1024;

export interface MultipartBody {
  fields: Record<string, string>;
  file?: StagedObject;
}

export interface MultipartHooks {
  /** Runs once, before any file byte is read: with the text parts so far. Throwing refuses the body. */
  beforeFile(fieldsSoFar: Record<string, string>): Promise<void>;
  /** Stages the file part's bytes. */
  stage(file: Readable): Promise<StagedObject>;
}

export function readMultipart(request: IncomingMessage, limits: MultipartLimits, hooks: MultipartHooks): Promise<MultipartBody> {
  assertIdentityEncoding(request);
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: request.headers,
      limits: {
        fileSize: limits.maxFileBytes + 1,
        files: 1,
        fields: limits.maxFields,
        parts: limits.maxFields + 1,
        fieldSize: limits.maxFieldBytes,
        fieldNameSize: 200,
      },
    });
  } catch (error) {
    return Promise.reject(malformed(error));
  }

  return new Promise<MultipartBody>((resolve, reject) => {
    const fields: Record<string, string> = {};
    let fieldBytes = 0;
    let failure: unknown;
    let staging: Promise<StagedObject> | undefined;
    let fileStream: Readable | undefined;
    let parsed = false;

    const fail = (error: unknown) => {
      if (failure !== undefined) return;
      failure = error;
      request.unpipe(parser);
      fileStream?.destroy(error as Error); // stops the staging, which then removes what it wrote
      // Answer only once nothing staged is left.
      const cleaned = staging
        ? staging.then(
            (staged) => staged.discard(),
            () => undefined,
          )
        : Promise.resolve();
      void cleaned.finally(() => reject(error));
    };
    const finish = () => {
      if (failure !== undefined || !parsed) return;
      if (!staging) {
        // No file part: the caller still has to be who it says before anything else is looked at.
        hooks.beforeFile({ ...fields }).then(() => resolve({ fields }), fail);
        return;
      }
      staging.then((file) => (failure === undefined ? resolve({ fields, file }) : void file.discard()), fail);
    };

    parser.on("field", (name, value, info) => {
      if (info.nameTruncated) return fail(ValidationError.field(name.slice(0, 64), "has a part name longer than 200 bytes"));
      if (info.valueTruncated) return fail(ValidationError.field(name, `is longer than ${limits.maxFieldBytes} bytes`));
      fieldBytes += name.length + value.length;
      if (fieldBytes > limits.maxFieldsTotalBytes) {
        return fail(
          new PayloadTooLargeError(`the text parts total more than ${limits.maxFieldsTotalBytes} bytes`, {
            problems: [{ field: name, message: "is past the size limit of the form's text parts" }],
          }),
        );
      }
      fields[name] = value;
    });
    parser.on("file", (name, stream, info) => {
      stream.on("error", () => undefined); // errors reach us through the staging pipeline; never unhandled
      if (failure !== undefined) return void stream.resume();
      if (name !== FILE_FIELD) {
        stream.resume();
        return fail(ValidationError.field(name, `is a file part; the only file part is "${FILE_FIELD}"`));
      }
      // A browser form with no file chosen sends an empty, unnamed file part: that is no file.
      if (info.filename === "" || info.filename === undefined) return void stream.resume();
      if (staging) return fail(ValidationError.field(FILE_FIELD, "may be sent once"));
      fileStream = stream;
      const limited = stream.pipe(byteLimit(limits.maxFileBytes));
      limited.on("error", () => undefined); // seen by the staging pipeline, or by nobody when the caller was refused
      stream.on("error", (error) => limited.destroy(error));
      staging = hooks.beforeFile({ ...fields }).then(() => {
        if (failure !== undefined) throw failure;
        return hooks.stage(limited);
      });
      staging.catch(fail);
    });
    parser.on("partsLimit", () =>
      fail(
        new PayloadTooLargeError(`a form may have at most ${limits.maxFields} parts`, {
          problems: [{ field: "body", message: "has too many parts" }],
        }),
      ),
    );
    parser.on("fieldsLimit", () =>
      fail(
        new PayloadTooLargeError(`a form may have at most ${limits.maxFields} text parts`, {
          problems: [{ field: "body", message: "has too many text parts" }],
        }),
      ),
    );
    parser.on("filesLimit", () => fail(ValidationError.field(FILE_FIELD, "may be sent once")));
    parser.on("error", (error: unknown) => fail(malformed(error)));
    parser.on("close", () => {
      parsed = true;
      finish();
    });
    // A client that goes away mid-body: stop everything and remove what was staged.
    request.on("close", () => {
      if (!request.complete) fail(new ValidationError("the request body was not received whole"));
    });
    request.on("error", (error) => fail(malformed(error)));
    request.pipe(parser);
  });
}

/**
 * A raw request body as a stream bounded to `maxBytes` (413 past it, or at once when the
 * declared length is larger), which fails, rather than hangs, when the client goes away.
 */
export function boundedBody(request: IncomingMessage, maxBytes: number, field: string): Readable {
  if (Number(request.headers["content-length"] ?? 0) > maxBytes) throw tooLarge(field, maxBytes);
  const limiter = byteLimit(maxBytes, field);
  limiter.on("error", () => undefined); // its consumer's pipeline reports it; until that is attached, nobody may crash on it
  request.on("error", (error) => limiter.destroy(error));
  request.on("close", () => {
    if (!request.complete) limiter.destroy(new ValidationError("the request body was not received whole"));
  });
  return request.pipe(limiter);
}

/** Text parts that cannot be stored as text (checked once the caller is known). */
export function checkFormValues(fields: Record<string, string>): void {
  for (const [name, value] of Object.entries(fields)) {
    const unsafe = unsafeStringReason(value) ?? unsafeStringReason(name);
    if (unsafe) throw ValidationError.field(name.replace(/[\ud800-\udfff\0]/g, "?"), unsafe);
  }
}

/** Passes bytes through until more than `maxBytes` arrive, then fails with 413. */
function byteLimit(maxBytes: number, field = FILE_FIELD): Transform {
  let received = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      received += chunk.length;
      if (received > maxBytes) done(tooLarge(field, maxBytes));
      else done(null, chunk);
    },
  });
}

function tooLarge(field: string, maxBytes: number): PayloadTooLargeError {
  return new PayloadTooLargeError(`${field} is larger than the limit of ${maxBytes} bytes`, {
    problems: [{ field, message: "is too large" }],
  });
}

function malformed(error: unknown): ValidationError {
  return new ValidationError(`Malformed multipart body: ${(error as Error).message}`, {
    problems: [{ field: "body", message: "is not a well-formed multipart body" }],
    cause: error,
  });
}
