import type { IncomingHttpHeaders } from "node:http";
import type { Credentials } from "../domain/auth/credential-verifier.js";
import { AuthenticationError, ValidationError } from "../domain/errors.js";

/**
 * Finds the caller's access/secret key, in order: X-Access-Key/X-Secret-Key headers, HTTP
 * Basic, then the original's `access_key`/`secret_key` body fields (removed from the body so
 * nothing downstream can echo or log them).
 */
export function takeCredentials(headers: IncomingHttpHeaders, body: Record<string, unknown>): Credentials {
  const fromBody = { accessKey: body.access_key, secretKey: body.secret_key };
  delete body.access_key;
  delete body.secret_key;

  const headerKey = single(headers["x-access-key"]);
  const headerSecret = single(headers["x-secret-key"]);
  if (headerKey !== undefined || headerSecret !== undefined) return complete(headerKey, headerSecret, "X-Access-Key", "X-Secret-Key");

  const authorization = headers.authorization;
  if (authorization?.startsWith("Basic ")) {
    const decoded = Buffer.from(authorization.slice(6), "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0) throw new AuthenticationError("Malformed Basic authorization header");
    return complete(decoded.slice(0, colon), decoded.slice(colon + 1), "authorization", "authorization");
  }

  if (fromBody.accessKey !== undefined || fromBody.secretKey !== undefined) {
    if (fromBody.accessKey !== undefined && typeof fromBody.accessKey !== "string") throw ValidationError.field("access_key", "must be a string");
    if (fromBody.secretKey !== undefined && typeof fromBody.secretKey !== "string") throw ValidationError.field("secret_key", "must be a string");
    return complete(fromBody.accessKey as string | undefined, fromBody.secretKey as string | undefined, "access_key", "secret_key");
  }
  throw new AuthenticationError("Authentication required: send access_key and secret_key", {
    problems: [{ field: "access_key", message: "is required" }, { field: "secret_key", message: "is required" }],
  });
}

function complete(accessKey: string | undefined, secretKey: string | undefined, keyField: string, secretField: string): Credentials {
  const problems = [
    ...(accessKey ? [] : [{ field: keyField, message: "is required" }]),
    ...(secretKey ? [] : [{ field: secretField, message: "is required" }]),
  ];
  if (problems.length) throw new AuthenticationError("Authentication required: both access key and secret key must be sent", { problems });
  return { accessKey: accessKey!, secretKey: secretKey! };
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
