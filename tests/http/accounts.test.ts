/**
 * Sign-in outside the router (AccountValidator, RoleMetadataWriter), browser sessions and CORS:
 * what the lab's dashboard and SDK need, and where each stops.
 */
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { randomIds } from "../../src/adapters/security/random-ids.js";
import { SessionService } from "../../src/domain/auth/session-service.js";
import { loadConfig } from "../../src/config/config.js";
import { API, startTestService, type TestService, type TestUser } from "../support/test-service.js";

const ENTRYPOINT = "/api/v1.1.8/entrypoint";
const COOKIE = "argo_entrypoint_session";

const sessionOf = (response: { headers: Record<string, unknown> }) =>
  ([] as string[])
    .concat((response.headers["set-cookie"] as string[] | undefined) ?? [])
    .find((c) => c.startsWith(`${COOKIE}=`))
    ?.split(";")[0];

describe("Accounts, sessions and CORS", () => {
  let service: TestService;
  let user: TestUser;

  beforeAll(async () => {
    service = await startTestService({ CORS_ORIGINS: "https://dashboard.lab.example", SIGNUP_ENABLED: "true" });
    user = await service.user({ organization: "accounts-lab" });
  });
  afterAll(() => service.close());

  const login = (body: Record<string, unknown>) => service.http.post(`${ENTRYPOINT}/AccountValidator/login`).send(body);

  describe("AccountValidator/login", () => {
    test("When a user signs in at the SDK's and the manual's versions, then 200, organization_uid at the top level and a session cookie", async () => {
      for (const version of ["v1.1.5", "v1.1.8", "v1.2.4"]) {
        const response = await service.http
          .post(`/api/${version}/entrypoint/AccountValidator/login`)
          .send({ account_name: user.accessKey, password: user.secretKey });
        expect(response.status).toBe(200);
        expect(response.body).toMatchObject({
          organization_uid: user.organizationUid,
          data: { account_name: user.accessKey, organization_uid: user.organizationUid, role: "member" },
        });
        expect(sessionOf(response)).toMatch(new RegExp(`^${COOKIE}=[0-9a-f]{64}$`));
      }
    });

    test("When the session cookie is sent with Authorization: undefined, then router calls are authenticated by it, at every version the lab used", async () => {
      const cookie = sessionOf(await login({ account_name: user.accessKey, password: user.secretKey }))!;
      for (const version of ["v0.1", "v1.1.5", "v1.1.6", "v1.1.7", "v1.1.8", "v1.2.4"]) {
        const response = await service.http
          .post(`/api/${version}/entrypoint/Router/parse/a75vPQAyPqVGFwiZ`)
          .set({ Cookie: `${cookie}; auth_token=undefined`, Authorization: "undefined" })
          .send({ f_organization_uid: user.organizationUid });
        expect({ version, status: response.status }).toEqual({ version, status: 200 });
      }
    });

    test("When the body lacks a field, names another type, or is not JSON, then a 4xx names the field and no session opens", async () => {
      const cases: Array<[unknown, number, string]> = [
        [{ account_name: user.accessKey }, 400, "password"],
        [{ password: "x" }, 400, "account_name"],
        [{ account_name: 7, password: "x" }, 400, "account_name"],
        [{ account_name: user.accessKey, password: "wrong-secret" }, 401, ""],
      ];
      for (const [body, status, field] of cases) {
        const response = await login(body as Record<string, unknown>);
        expect({ status: response.status, cookie: sessionOf(response) }).toEqual({ status, cookie: undefined });
        if (field) expect(response.body.errors.map((e: { field: string }) => e.field)).toContain(field);
      }
      const text = await service.http.post(`${ENTRYPOINT}/AccountValidator/login`).set("Content-Type", "text/plain").send("x");
      expect(text.status).toBe(415);
      const unknown = await service.http.post(`/api/v9.9/entrypoint/AccountValidator/login`).send({});
      expect(unknown.status).toBe(404);
    });

    test("When the SDK 0.1.0's account_password is sent, then it signs in too", async () => {
      const response = await login({ account_name: user.accessKey, account_password: user.secretKey });
      expect(response.status).toBe(200);
    });

    test("When sign-ins fail repeatedly, then the same throttle as keys answers 429", async () => {
      const victim = await service.user({ organization: "accounts-lab" });
      const statuses: number[] = [];
      for (let i = 0; i < 12; i += 1) statuses.push((await login({ account_name: victim.accessKey, password: `guess-${i}` })).status);
      expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
      expect(statuses.slice(10)).toEqual([429, 429]);
    });
  });

  describe("Sessions end", () => {
    test("When a session has been idle past its limit or lived past its absolute end, then it is refused and swept", async () => {
      const { db } = service.container;
      let now = Date.now();
      const clock = { now: () => new Date(now) };
      const sessions = new SessionService({ db, ids: randomIds, clock, settings: { idleSeconds: 600, maxSeconds: 3600 } });
      const principal = {
        userUid: user.userUid,
        accessKey: user.accessKey,
        organizationUid: user.organizationUid,
        role: "member" as const,
      };

      const idle = await sessions.open(principal);
      now += 9 * 60_000;
      await expect(sessions.resolve(idle.token)).resolves.toMatchObject({ userUid: user.userUid }); // activity renews the idle window
      now += 9 * 60_000;
      await expect(sessions.resolve(idle.token)).resolves.toMatchObject({ userUid: user.userUid });
      now += 11 * 60_000;
      await expect(sessions.resolve(idle.token)).rejects.toMatchObject({ kind: "unauthenticated" });

      const busy = await sessions.open(principal);
      for (let minutes = 0; minutes < 60; minutes += 5) {
        now += 5 * 60_000;
        if (minutes < 55) await expect(sessions.resolve(busy.token)).resolves.toBeDefined();
      }
      await expect(sessions.resolve(busy.token)).rejects.toMatchObject({ kind: "unauthenticated" });

      const forgotten = await sessions.open(principal);
      await expect(db.sessions.find(createHash("sha256").update(forgotten.token).digest("hex"))).resolves.not.toBeNull();
      now += 2 * 3600_000;
      expect(await sessions.sweep()).toBeGreaterThanOrEqual(1);
      const stored = createHash("sha256").update(forgotten.token).digest("hex");
      await expect(db.sessions.find(stored)).resolves.toBeNull();
    });

    test("When a cookie names no session, or a forged one, then 401", async () => {
      for (const value of ["0".repeat(64), "not-hex", ""]) {
        const response = await service.http
          .post(`${API}/a75vPQAyPqVGFwiZ`)
          .set("Cookie", `${COOKIE}=${value}`)
          .send({ f_organization_uid: user.organizationUid });
        expect(response.status).toBe(401);
      }
    });

    test("When the token is stored, then only its hash is: the database holds no cookie value", async () => {
      const cookie = sessionOf(await login({ account_name: user.accessKey, password: user.secretKey }))!;
      const token = cookie.split("=")[1]!;
      const rows = await service.container.db.sessions.list({ userUid: user.userUid });
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.some((row) => row.uid === token)).toBe(false);
    });
  });

  describe("Sign-up, organizations and roles", () => {
    test("When sign-up is enabled and someone signs up with a new organization, then it is a member there and can sign in", async () => {
      const response = await service.http
        .post(`${ENTRYPOINT}/AccountValidator/signup`)
        .send({ account_name: "newcomer", password: "long-enough-secret", organization_name: "newcomers" });
      expect(response.status).toBe(200);
      expect(response.body.data).toMatchObject({ account_name: "newcomer", role: "member" });
      expect((await login({ account_name: "newcomer", password: "long-enough-secret" })).status).toBe(200);
      const taken = await service.http
        .post(`${ENTRYPOINT}/AccountValidator/signup`)
        .send({ account_name: "newcomer2", password: "long-enough-secret", organization_name: "newcomers" });
      expect(taken.status).toBe(409);
      const short = await service.http
        .post(`${ENTRYPOINT}/AccountValidator/signup`)
        .send({ account_name: "newcomer3", password: "short", organization_name: "n3" });
      expect({ status: short.status, field: short.body.errors[0].field }).toEqual({ status: 400, field: "password" });
      expect(await service.container.db.organizations.count({ name: "n3" })).toBe(0);
    });

    test("When sign-up is off (the default), then 403", async () => {
      const closed = await startTestService();
      const response = await closed.http
        .post(`${ENTRYPOINT}/AccountValidator/signup`)
        .send({ account_name: "x-user", password: "long-enough-secret", organization_name: "x" });
      expect(response.status).toBe(403);
      await closed.close();
    });

    test("When an organization name is checked, then whether it exists, and its uid only to its members", async () => {
      const check = (name: string) =>
        service.http
          .post(`${ENTRYPOINT}/AccountValidator/check_organization`)
          .set({ "X-Access-Key": user.accessKey, "X-Secret-Key": user.secretKey })
          .send({ organization_name: name });
      expect((await check("accounts-lab")).body.data).toEqual({
        organization_name: "accounts-lab",
        exists: true,
        organization_uid: user.organizationUid,
      });
      expect((await check("newcomers")).body.data).toEqual({ organization_name: "newcomers", exists: true });
      expect((await check("nobody-here")).body.data).toEqual({ organization_name: "nobody-here", exists: false });
      expect((await service.http.post(`${ENTRYPOINT}/AccountValidator/check_organization`).send({ organization_name: "x" })).status).toBe(
        401,
      );
    });

    test("When the roles are listed with a session, then admin and member; without one, 401", async () => {
      const cookie = sessionOf(await login({ account_name: user.accessKey, password: user.secretKey }))!;
      const response = await service.http.get(`${ENTRYPOINT}/RoleMetadataWriter/list`).set("Cookie", cookie);
      expect(response.status).toBe(200);
      expect(response.body.data.map((r: { name: string }) => r.name)).toEqual(["admin", "member"]);
      expect((await service.http.get(`${ENTRYPOINT}/RoleMetadataWriter/list`)).status).toBe(401);
    });
  });

  describe("CORS", () => {
    const preflight = (origin: string) =>
      service.http
        .options(`${API}/a75vPQAyPqVGFwiZ`)
        .set({ Origin: origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type" });

    test("When a listed origin preflights, then it may send Authorization and Content-Type, with credentials", async () => {
      const response = await preflight("https://dashboard.lab.example");
      expect(response.status).toBe(204);
      expect(response.headers).toMatchObject({
        "access-control-allow-origin": "https://dashboard.lab.example",
        "access-control-allow-credentials": "true",
      });
      expect(response.headers["access-control-allow-headers"]).toMatch(/Authorization/);
      expect(response.headers["access-control-allow-headers"]).toMatch(/Content-Type/);
      const call = await service.http
        .post(`${API}/a75vPQAyPqVGFwiZ`)
        .set({ Origin: "https://dashboard.lab.example", "X-Access-Key": user.accessKey, "X-Secret-Key": user.secretKey })
        .send({ f_organization_uid: user.organizationUid });
      expect(call.headers["access-control-allow-origin"]).toBe("https://dashboard.lab.example");
    });

    test("When an unlisted origin preflights or calls, then no CORS header grants it anything", async () => {
      const response = await preflight("https://evil.example");
      expect(response.headers["access-control-allow-origin"]).toBeUndefined();
      expect(response.headers["access-control-allow-headers"]).toBeUndefined();
      const call = await service.http.post(`${API}/a75vPQAyPqVGFwiZ`).set("Origin", "https://evil.example").send({});
      expect(call.headers["access-control-allow-origin"]).toBeUndefined();
    });

    test("When CORS_ORIGINS is *, then any origin is allowed without credentials", async () => {
      const open = await startTestService({ CORS_ORIGINS: "*" });
      const response = await open.http
        .options(`${API}/a75vPQAyPqVGFwiZ`)
        .set({ Origin: "https://anywhere.example", "Access-Control-Request-Method": "POST" });
      expect(response.headers["access-control-allow-origin"]).toBe("*");
      expect(response.headers["access-control-allow-credentials"]).toBeUndefined();
      await open.close();
    });

    test("When CORS_ORIGINS or SESSION_COOKIE_NAME are malformed, then the configuration is refused naming them", () => {
      expect(() => loadConfig({ CORS_ORIGINS: "https://ok.example,https://bad.example/path" })).toThrow(/CORS_ORIGINS/);
      expect(() => loadConfig({ SESSION_COOKIE_NAME: "auth_token" })).toThrow(/SESSION_COOKIE_NAME/);
    });
  });
});
