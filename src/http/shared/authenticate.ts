import type { IncomingMessage } from "node:http";
import { TASK_ACCOUNT_PREFIX, type Authenticator } from "../../domain/auth/authenticator.js";
import type { Credentials } from "../../domain/auth/credential-verifier.js";
import type { SessionService } from "../../domain/auth/session-service.js";
import type { ApiKeys } from "../../domain/auth/api-keys.js";
import { AuthenticationError, ForbiddenError, RateLimitedError } from "../../domain/errors.js";
import type { Logger, Meter } from "../../domain/ports.js";
import type { Principal } from "../../domain/principal.js";
import { cookieValue } from "./cookies.js";
import { requestIdOf } from "./request-context.js";

const BODY_KEY = "access_key";
const BODY_SECRET = "secret_key";

export interface SessionCookieSettings {
  /** The HttpOnly cookie that carries a browser session. */
  name: string;
  /** Origins besides the service's own whose pages may make cookie-authenticated calls (CORS_ORIGINS). */
  allowedOrigins: readonly string[];
  /** Whether X-Forwarded-Host names the host the browser saw (behind a trusted proxy). */
  trustProxy: boolean;
}

/**
 * Who is calling. Credentials in headers (X-Access-Key/X-Secret-Key, HTTP Basic, then the
 * session cookie) are checked before any of the body is read; the original's
 * `access_key`/`secret_key` body fields are checked once the parts before a file (or a small
 * JSON body) have been read. The dashboard's `Authorization: undefined` carries nothing and is
 * ignored.
 */
export class RequestAuthenticator {
  private readonly sessions: { service: Pick<SessionService, "resolve">; cookie: SessionCookieSettings } | undefined;
  private readonly apiKeys: Pick<ApiKeys, "verify"> | undefined;

  constructor(
    private readonly authenticator: Pick<Authenticator, "verify">,
    private readonly observe: { logger: Logger; meter: Meter },
    options: {
      sessions?: { service: Pick<SessionService, "resolve">; cookie: SessionCookieSettings };
      apiKeys?: Pick<ApiKeys, "verify">;
    } = {},
  ) {
    this.sessions = options.sessions;
    this.apiKeys = options.apiKeys;
  }

  /** The caller an API key stands for; a refusal is logged (the key's first characters only) and counted. */
  async withApiKey(key: string, request: IncomingMessage): Promise<Principal> {
    try {
      return await this.apiKeys!.verify(key);
    } catch (error) {
      if (error instanceof AuthenticationError) {
        this.observe.meter.signInFailed("invalid");
        this.observe.logger.warn(
          { apiKey: `${key.slice(0, 12)}...`, address: clientAddress(request), requestId: requestIdOf(request) },
          "action=api-key outcome=refused",
        );
      }
      throw error;
    }
  }

  /** Checks a credential; a refusal is logged (the access key and address, never the secret) and counted. */
  async verify(credentials: Credentials, request: IncomingMessage): Promise<Principal> {
    const address = clientAddress(request);
    try {
      return await this.authenticator.verify(credentials, address);
    } catch (error) {
      const reason = error instanceof RateLimitedError ? "throttled" : error instanceof AuthenticationError ? "invalid" : undefined;
      if (reason) {
        this.observe.meter.signInFailed(reason);
        this.observe.logger.warn(
          { accessKey: credentials.accessKey.slice(0, 128), address, reason, requestId: requestIdOf(request) },
          "action=sign-in outcome=refused",
        );
      }
      throw error;
    }
  }

  /** The caller named by the headers, or undefined when the headers carry no credential. */
  async fromHeaders(request: IncomingMessage): Promise<Principal | undefined> {
    const apiKey = request.headers["x-api-key"];
    if (apiKey !== undefined && this.apiKeys) return this.withApiKey(String(apiKey), request);
    const credentials = headerCredentials(request);
    if (credentials) return this.verify(credentials, request);
    const token = this.sessions && cookieValue(request.headers.cookie, this.sessions.cookie.name);
    if (!token || !this.sessions) return undefined;
    assertSameOriginOrAllowed(request, this.sessions.cookie);
    return this.sessions.service.resolve(token);
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
    return this.verify({ accessKey: accessKey as string, secretKey: secretKey as string }, request);
  }
}

/** Credential fields never travel further than authentication (nothing downstream may echo or log them). */
export function stripCredentialFields(body: Record<string, unknown>): void {
  delete body[BODY_KEY];
  delete body[BODY_SECRET];
}

export function credentialsRequired(): AuthenticationError {
  return new AuthenticationError("Authentication required: send access_key and secret_key, or sign in", {
    problems: [
      { field: BODY_KEY, message: "is required" },
      { field: BODY_SECRET, message: "is required" },
    ],
  });
}

/** Express sets `ip` from the socket, or from X-Forwarded-For when the proxy is trusted. */
export function clientAddress(request: IncomingMessage): string {
  return (request as IncomingMessage & { ip?: string }).ip ?? request.socket.remoteAddress ?? "unknown";
}

/**
 * A cookie travels with any request the browser makes to this host, including one another
 * site's page started. SameSite=Lax stops cross-site posts; this also stops sibling sites (same
 * site, other origin) unless they are allowed: a browser names the page's origin on every POST.
 */
function assertSameOriginOrAllowed(request: IncomingMessage, cookie: SessionCookieSettings): void {
  const origin = single(request.headers.origin);
  if (origin === undefined || cookie.allowedOrigins.includes(origin)) return;
  const forwarded = cookie.trustProxy ? single(request.headers["x-forwarded-host"])?.split(",")[0]?.trim() : undefined;
  const host = forwarded ?? single(request.headers.host);
  let originHost: string | undefined;
  try {
    originHost = new URL(origin).host;
  } catch {
    originHost = undefined;
  }
  if (!host || originHost !== host)
    throw new ForbiddenError(`a page of ${origin.slice(0, 100)} may not use this service's session; add it to CORS_ORIGINS`, {
      problems: [{ field: "Origin", message: "is neither this service's origin nor an allowed one" }],
    });
}

function headerCredentials(request: IncomingMessage): Credentials | undefined {
  const key = single(request.headers["x-access-key"]);
  const secret = single(request.headers["x-secret-key"]);
  if (key !== undefined || secret !== undefined) return complete(key, secret, "X-Access-Key", "X-Secret-Key");
  const authorization = request.headers.authorization ?? "";
  if (/^basic /i.test(authorization)) {
    const decoded = Buffer.from(authorization.slice(6).trim(), "base64").toString("utf8");
    // A task signs in as `task:<uid>`, whose own colon is not the separator (a .netrc login gives exactly this).
    const separator = decoded.startsWith(TASK_ACCOUNT_PREFIX) ? decoded.indexOf(":", TASK_ACCOUNT_PREFIX.length) : decoded.indexOf(":");
    if (separator < 0)
      throw new AuthenticationError("Malformed Basic authorization header", {
        problems: [{ field: "Authorization", message: "must be Basic base64(access_key:secret_key)" }],
      });
    return complete(decoded.slice(0, separator), decoded.slice(separator + 1), "Authorization", "Authorization");
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
