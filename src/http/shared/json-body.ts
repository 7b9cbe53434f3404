/**
 * The JSON body reader of every route: bounded in size, UTF-8 only, no content encodings, and
 * strict about what it accepts, so a bad body is a clear 4xx naming its field and never reaches
 * a use case, a database or a recursive function.
 */
import type { IncomingMessage } from "node:http";
import { PayloadTooLargeError, UnsupportedMediaTypeError, ValidationError } from "../../domain/errors.js";

export interface JsonBodyLimits {
  /** Largest body in bytes. */
  maxBytes: number;
  /** Deepest nesting of objects and arrays. */
  maxDepth: number;
}

export const DEFAULT_JSON_LIMITS: JsonBodyLimits = { maxBytes: 1024 * 1024, maxDepth: 32 };

/** Refuses malformed UTF-8; each decode is whole, so one decoder serves every request. */
const UTF8 = new TextDecoder("utf-8", { fatal: true });

/** Reads and parses a JSON body (an empty body is `{}`); check its values with `checkJsonValues` once the caller is known. */
export async function readJsonBody(request: IncomingMessage, limits: JsonBodyLimits = DEFAULT_JSON_LIMITS): Promise<unknown> {
  assertIdentityEncoding(request);
  const charset = /charset\s*=\s*"?([^";\s]+)/i.exec(request.headers["content-type"] ?? "")?.[1]?.toLowerCase();
  if (charset && charset !== "utf-8" && charset !== "utf8") {
    throw new UnsupportedMediaTypeError(`JSON bodies must be UTF-8 (got charset ${charset.slice(0, 40)})`, {
      problems: [{ field: "Content-Type", message: "charset must be utf-8" }],
    });
  }
  const declared = Number(request.headers["content-length"] ?? 0);
  if (declared > limits.maxBytes) throw tooLarge(limits.maxBytes);
  const bytes = await readAll(request, limits.maxBytes);
  if (bytes.length === 0) return {};
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    throw ValidationError.field("body", "is not valid UTF-8");
  }
  return parseBoundedJson(text, limits.maxDepth);
}

/** Request bodies are taken as sent: compressed ones are refused rather than inflated without bound. */
export function assertIdentityEncoding(request: IncomingMessage): void {
  const encoding = (request.headers["content-encoding"] ?? "identity").trim().toLowerCase();
  if (encoding !== "identity") {
    throw new UnsupportedMediaTypeError(`Content-Encoding ${encoding.slice(0, 40)} is not accepted; send the body uncompressed`, {
      problems: [{ field: "Content-Encoding", message: "must be identity" }],
    });
  }
}

/** JSON.parse with nesting bounded before parsing, so no recursion over the value can overflow the stack. */
function parseBoundedJson(text: string, maxDepth: number): unknown {
  const deep = firstTooDeep(text, maxDepth);
  if (deep !== undefined) throw ValidationError.field(deep || "body", `nests deeper than ${maxDepth} levels`);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ValidationError(`Invalid request: body is not valid JSON (${(error as Error).message.slice(0, 120)})`, {
      problems: [{ field: "body", message: "is not valid JSON" }],
    });
  }
}

/** Every string and number of a parsed body: no lone surrogates, no U+0000, no number beyond a double (`1e999` parses as Infinity). */
export function checkJsonValues(value: unknown): void {
  const problem = firstUnsafeValue(value);
  if (problem) throw ValidationError.field(problem.field, problem.message);
}

/** The top-level field under which nesting first passes `maxDepth` ("" for the body itself), scanning the text once. */
function firstTooDeep(text: string, maxDepth: number): string | undefined {
  let depth = 0;
  let inString = false;
  let expectKey = false; // at depth 1 of an object, right after `{` or `,`: the next string is a key
  let keyStart = -1;
  let topLevelKey = "";
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i += 1; // a backslash escapes the next character
      else if (c === 0x22) {
        inString = false;
        if (keyStart >= 0) topLevelKey = text.slice(keyStart, i);
        keyStart = -1;
      }
      continue;
    }
    if (c === 0x22) {
      inString = true;
      if (expectKey) keyStart = i + 1;
      expectKey = false;
    } else if (c === 0x7b || c === 0x5b) {
      depth += 1;
      if (depth > maxDepth) return topLevelKey.slice(0, 64);
      expectKey = depth === 1 && c === 0x7b;
    } else if (c === 0x7d || c === 0x5d) depth -= 1;
    else if (c === 0x2c && depth === 1) expectKey = text.charCodeAt(0) !== 0x5b && text.trimStart().charCodeAt(0) === 0x7b;
  }
  return undefined;
}

/** An iterative walk (the depth is bounded, but no recursion is needed either). */
function firstUnsafeValue(root: unknown): { field: string; message: string } | undefined {
  const stack: Array<{ value: unknown; path: string }> = [{ value: root, path: "" }];
  while (stack.length) {
    const { value, path } = stack.pop()!;
    const field = path || "body";
    if (typeof value === "string") {
      const message = unsafeStringReason(value);
      if (message) return { field, message };
    } else if (typeof value === "number") {
      if (!Number.isFinite(value)) return { field, message: "is a number too large to represent" };
    } else if (Array.isArray(value)) {
      value.forEach((item, index) => stack.push({ value: item, path: `${path}${path ? "." : ""}${index}` }));
    } else if (value && typeof value === "object") {
      for (const [key, item] of Object.entries(value)) {
        const message = unsafeStringReason(key);
        if (message)
          return { field: `${path}${path ? "." : ""}${key.replace(/[\ud800-\udfff\0]/g, "?")}`, message: `is a key that ${message}` };
        stack.push({ value: item, path: `${path}${path ? "." : ""}${key}` });
      }
    }
  }
  return undefined;
}

/** Why a string cannot be stored as text (databases refuse or cut these), or undefined. */
export function unsafeStringReason(value: string): string | undefined {
  if (value.includes("\0")) return "contains the character U+0000";
  if (!value.isWellFormed()) return "contains an unpaired UTF-16 surrogate";
  return undefined;
}

/** The whole body; a rejection once it passes `maxBytes` (the request is then destroyed) or when the client goes away. */
function readAll(request: IncomingMessage, maxBytes: number): Promise<Buffer> {
  // Listeners rather than `for await`: an async iterator per request is a measurable share of a small read's CPU.
  return new Promise((resolve, reject) => {
    if (request.readableEnded) return resolve(Buffer.alloc(0));
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (error: Error | undefined) => {
      request.off("data", onData);
      request.off("end", onEnd);
      request.off("error", onError);
      request.off("close", onClose);
      if (error) reject(error);
      else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) return void chunks.push(chunk);
      settle(tooLarge(maxBytes));
      request.destroy();
    };
    const onEnd = () => settle(undefined);
    const onError = (error: Error) => settle(error);
    const onClose = () => settle(new Error("the client went away before the body ended"));
    request.on("data", onData);
    request.on("end", onEnd);
    request.on("error", onError);
    request.on("close", onClose);
  });
}

function tooLarge(maxBytes: number): PayloadTooLargeError {
  return new PayloadTooLargeError(`request body is larger than ${maxBytes} bytes`, {
    problems: [{ field: "body", message: `must be at most ${maxBytes} bytes` }],
  });
}
