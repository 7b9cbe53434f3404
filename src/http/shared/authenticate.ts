import type { IncomingMessage } from "node:http";
import type { Credentials, CredentialVerifier } from "../../domain/auth/credential-verifier.js";
import { AuthenticationError } from "../../domain/errors.js";
import type { Principal } from "../../domain/principal.js";

const BODY_KEY = "access_key";
const BODY_SECRET = "secret_key";

/**
 * Who is calling. Credentials in headers (X-Access-Key/X-Secret-Key, then HTTP Basic) are
 * checked before any of the body is read; the original's `access_key`/`secret_key` body fields
 * are checked once the parts before a file (or a small JSON body) have been read.
 */
export class RequestAuthenticator {
  constructor(private readonly verifier: CredentialVerifier) {}

  /** The caller named by the headers, or undefined when the headers carry no credential. */
  async fromHeaders(request: IncomingMessage): Promise<Principal | undefined> {
    const credentials = headerCredentials(request);
    return credentials ? this.verifier.verify(credentials, clientAddress(request)) : undefined;
  }

  /** The caller named by the body's credential fields, which are removed from `body`. */
  async fromFields(body: Record<string, unknown>, request: IncomingMessage): Promise<Principal> {
    const accessKey = body[BODY_KEY];
    const secretKey = body[BODY_SECRET];
    stripCredentialFields(body);
    if (accessKey === undefined && secretKey === undefined) throw credentialsRequired();
    const problems = [
      ...(typeof accessKey === "string" && accessKey
        ? []
        : [{ field: BODY_KEY, message: accessKey === undefined ? "is required" : "must be a non-empty string" }]),
      ...(typeof secretKey === "string" && secretKey
        ? []
        : [{ field: BODY_SECRET, message: secretKey === undefined ? "is required" : "must be a non-empty string" }]),
    ];
    if (problems.length)
      throw new AuthenticationError("Authentication required: both access_key and secret_key must be sent", { problems });
    return this.verifier.verify({ accessKey: accessKey as string, secretKey: secretKey as string }, clientAddress(request));
  }
}

/** Credential fields never travel further than authentication (nothing downstream may echo or log them). */
export function stripCredentialFields(body: Record<string, unknown>): void {
  delete body[BODY_KEY];
  delete body[BODY_SECRET];
}

export function credentialsRequired(): AuthenticationError {
  return new AuthenticationError("Authentication required: send access_key and secret_key", {
    problems: [
      { field: BODY_KEY, message: "is required" },
      { field: BODY_SECRET, message: "is required" },
    ],
  });
}

/** Express sets `ip` from the socket, or from X-Forwarded-For when the proxy is trusted. */
function clientAddress(request: IncomingMessage): string {
  return (request as IncomingMessage & { ip?: string }).ip ?? request.socket.remoteAddress ?? "unknown";
}

function headerCredentials(request: IncomingMessage): Credentials | undefined {
  const key = single(request.headers["x-access-key"]);
  const secret = single(request.headers["x-secret-key"]);
  if (key !== undefined || secret !== undefined) return complete(key, secret, "X-Access-Key", "X-Secret-Key");
  const authorization = request.headers.authorization ?? "";
  if (/^basic /i.test(authorization)) {
    const decoded = Buffer.from(authorization.slice(6).trim(), "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0)
      throw new AuthenticationError("Malformed Basic authorization header", {
        problems: [{ field: "Authorization", message: "must be Basic base64(access_key:secret_key)" }],
      });
    return complete(decoded.slice(0, colon), decoded.slice(colon + 1), "Authorization", "Authorization");
  }
  return undefined;
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
