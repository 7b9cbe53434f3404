/**
 * The original's calls outside the router: `AccountValidator/login|logout|signup|check_organization`
 * (POST) and `RoleMetadataWriter/list` (GET), under `/api/<version>/entrypoint/`. Sign-in opens a
 * browser session carried by an HttpOnly cookie (the dashboard overwrites any cookie its script
 * can read); a task credential signs in too, for the lab's SDK inside a step, without a session.
 */
import express, { type Request, type Response } from "express";
import type { AccountService } from "../../domain/auth/account-service.js";
import type { Authenticator } from "../../domain/auth/authenticator.js";
import type { FailureThrottle } from "../../domain/auth/failure-throttle.js";
import type { SessionService } from "../../domain/auth/session-service.js";
import { ForbiddenError, NotFoundError, UnsupportedMediaTypeError, ValidationError } from "../../domain/errors.js";
import type { Database } from "../../domain/ports.js";
import { ROLES, canAccess } from "../../domain/principal.js";
import { clientAddress, credentialsRequired, type RequestAuthenticator } from "../shared/authenticate.js";
import { cookieValue, expiredCookie, sessionCookie } from "../shared/cookies.js";
import { checkJsonValues, readJsonBody } from "../shared/json-body.js";
import { settleUnreadBody } from "../shared/unread-body.js";

export interface AccountRoutesOptions {
  apiVersions: string[];
  authenticator: Authenticator;
  requests: RequestAuthenticator;
  sessions: SessionService;
  accounts: AccountService;
  db: Database;
  cookieName: string;
  sessionMaxSeconds: number;
  signup: { enabled: boolean; joinOrganization?: string | undefined; throttle: FailureThrottle };
}

const SMALL_BODY = { maxBytes: 16 * 1024, maxDepth: 4 };

const ROLE_DESCRIPTIONS: Record<(typeof ROLES)[number], string> = {
  admin: "sees and changes every organization's objects",
  member: "sees and changes its own organization's objects",
};

export function accountRoutes(options: AccountRoutesOptions): express.Router {
  const versions = new Set(options.apiVersions);
  const router = express.Router();
  const base = "/api/:version/entrypoint";

  /** Unknown versions are 404 like the router's; a refused body is never left half-read. */
  const handler = (work: (request: Request, response: Response) => Promise<void>) => async (request: Request, response: Response) => {
    const version = String(request.params.version);
    if (!versions.has(version)) throw new NotFoundError(`Unknown API version ${version.slice(0, 40)}`);
    try {
      await work(request, response);
    } catch (error) {
      settleUnreadBody(request, response);
      throw error;
    }
  };

  router.post(
    `${base}/AccountValidator/login`,
    handler(async (request, response) => {
      const body = await smallJsonBody(request);
      // The lab's SDK 0.1.0 sent `account_password`; later clients send `password`.
      const accountName = stringField(body, "account_name");
      const password = stringField(body, "password", body.account_password === undefined ? undefined : "account_password");
      const principal = await options.requests.verify({ accessKey: accountName, secretKey: password }, request);
      if (principal.task) {
        response.json({
          detail: "Login successfully",
          organization_uid: principal.organizationUid,
          data: { account_name: principal.accessKey, organization_uid: principal.organizationUid, task_uid: principal.task.uid },
        });
        return;
      }
      const session = await options.sessions.open(principal);
      response.setHeader(
        "Set-Cookie",
        sessionCookie(options.cookieName, session.token, { maxAgeSeconds: options.sessionMaxSeconds, secure: request.secure }),
      );
      response.json({
        detail: "Login successfully",
        organization_uid: principal.organizationUid,
        data: {
          account_name: principal.accessKey,
          organization_uid: principal.organizationUid,
          role: principal.role,
          session_expires_at: session.expiresAt.toISOString(),
        },
      });
    }),
  );

  router.post(
    `${base}/AccountValidator/logout`,
    handler(async (request, response) => {
      const token = cookieValue(request.headers.cookie, options.cookieName);
      if (token) await options.sessions.close(token);
      response.setHeader("Set-Cookie", expiredCookie(options.cookieName, request.secure));
      response.json({ detail: "Logout successfully", data: {} });
    }),
  );

  router.post(
    `${base}/AccountValidator/signup`,
    handler(async (request, response) => {
      if (!options.signup.enabled) throw new ForbiddenError("sign-up is turned off on this service; ask an administrator for an account");
      const address = clientAddress(request);
      options.signup.throttle.assertAllowed(address);
      const body = await smallJsonBody(request);
      const accountName = stringField(body, "account_name");
      const password = stringField(body, "password");
      const organizationName = body.organization_name === undefined ? undefined : stringField(body, "organization_name");
      options.signup.throttle.reserve(address).failed(); // every sign-up counts against the address, successful or not
      const user = await options.accounts.signUp(
        { accessKey: accountName, secretKey: password, organizationName },
        { joinOrganization: options.signup.joinOrganization },
      );
      response.json({
        detail: "Account created successfully",
        organization_uid: user.organizationUid,
        data: { account_name: user.accessKey, organization_uid: user.organizationUid, role: user.role },
      });
    }),
  );

  router.post(
    `${base}/AccountValidator/check_organization`,
    handler(async (request, response) => {
      let principal = await options.requests.fromHeaders(request);
      const body = await smallJsonBody(request);
      principal ??= await options.requests.fromFields(body, request);
      const name = stringField(body, "organization_name");
      const [found] = await options.db.organizations.list({ name });
      response.json({
        detail: "Organization checked successfully",
        data: {
          organization_name: name,
          exists: Boolean(found),
          // Its uid only to those who may see it.
          ...(found && canAccess(principal, found.uid) ? { organization_uid: found.uid } : {}),
        },
      });
    }),
  );

  router.get(
    `${base}/RoleMetadataWriter/list`,
    handler(async (request, response) => {
      if (!(await options.requests.fromHeaders(request))) throw credentialsRequired();
      response.json({
        detail: "Metadatas retrieved successfully",
        data: ROLES.map((name) => ({ name, description: ROLE_DESCRIPTIONS[name] })),
      });
    }),
  );

  return router;
}

async function smallJsonBody(request: Request): Promise<Record<string, unknown>> {
  if (request.headers["content-type"] && !request.is(["application/json", "application/*+json"]))
    throw new UnsupportedMediaTypeError("Content-Type must be application/json", {
      problems: [{ field: "Content-Type", message: "must be application/json" }],
    });
  const parsed = await readJsonBody(request, SMALL_BODY);
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw ValidationError.field("body", "must be a JSON object");
  checkJsonValues(parsed);
  return parsed as Record<string, unknown>;
}

function stringField(body: Record<string, unknown>, field: string, sentAs: string = field): string {
  const value = body[sentAs];
  if (typeof value === "string" && value.length > 0 && value.length <= 1024) return value;
  throw ValidationError.field(sentAs, value === undefined ? "is required" : "must be a non-empty string of at most 1024 characters");
}
