import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { runCli } from "../../src/cli.js";
import { API, startTestService, type TestService, type TestUser } from "../support/test-service.js";

const LIST_PROJECTS = "a75vPQAyPqVGFwiZ";

describe("Authentication on the entrypoint router", () => {
  let service: TestService;
  let user: TestUser;

  beforeAll(async () => {
    service = await startTestService({ AUTH_MAX_FAILURES_PER_KEY: "3" });
    user = await service.user();
  });
  afterAll(() => service.close());

  const list = () => service.http.post(`${API}/${LIST_PROJECTS}`);

  test("When credentials come in the body, headers or HTTP Basic, then each is accepted", async () => {
    const body = { f_organization_uid: user.organizationUid };
    const viaBody = await list().send({ ...body, access_key: user.accessKey, secret_key: user.secretKey });
    const viaHeaders = await list().set("X-Access-Key", user.accessKey).set("X-Secret-Key", user.secretKey).send(body);
    const viaBasic = await list().auth(user.accessKey, user.secretKey).send(body);
    for (const response of [viaBody, viaHeaders, viaBasic]) {
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ detail: "Metadatas retrieved successfully", data: [] });
    }
  });

  test("When no credentials are sent, then 401 names both missing fields", async () => {
    const response = await list().send({ f_organization_uid: user.organizationUid });
    expect(response.status).toBe(401);
    expect(response.body.errors).toEqual([
      { field: "access_key", message: "is required" },
      { field: "secret_key", message: "is required" },
    ]);
  });

  test("When the secret is wrong or the user unknown, then both get the same 401", async () => {
    const wrongSecret = await list().send({ access_key: user.accessKey, secret_key: "not-the-secret" });
    const unknownUser = await list().send({ access_key: "nobody-at-all", secret_key: "not-the-secret" });
    expect(wrongSecret.status).toBe(401);
    expect(unknownUser.status).toBe(401);
    // The same answer, but for the id of the request it answers.
    expect({ ...unknownUser.body, request_id: "" }).toEqual({ ...wrongSecret.body, request_id: "" });
  });

  test("When the secret is sent, then it never appears in a response or a log line", async () => {
    await list().send({ access_key: user.accessKey, secret_key: user.secretKey, f_organization_uid: user.organizationUid });
    await list().send({ access_key: user.accessKey, secret_key: user.secretKey, f_organization_uid: "not-a-uuid" });
    expect(service.logs.length).toBeGreaterThan(0);
    expect(service.logs.join("\n")).not.toContain(user.secretKey);
  });

  test("When one key fails repeatedly, then further attempts get 429 with Retry-After, and other users are unaffected", async () => {
    const victim = await service.user();
    const other = await service.user();
    for (let i = 0; i < 3; i += 1) {
      expect((await list().send({ access_key: victim.accessKey, secret_key: "wrong" })).status).toBe(401);
    }
    const blocked = await list().send({
      access_key: victim.accessKey,
      secret_key: victim.secretKey,
      f_organization_uid: victim.organizationUid,
    });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers["retry-after"])).toBeGreaterThan(0);
    expect(blocked.body.detail).toMatch(/Too many failed/);
    const unaffected = await list().send({
      access_key: other.accessKey,
      secret_key: other.secretKey,
      f_organization_uid: other.organizationUid,
    });
    expect(unaffected.status).toBe(200);
  });

  test("When an admin runs `user unlock` from another process, then the locked key signs in again at once", async () => {
    const locked = await service.user();
    const body = { access_key: locked.accessKey, secret_key: locked.secretKey, f_organization_uid: locked.organizationUid };
    for (let i = 0; i < 3; i += 1) await list().send({ ...body, secret_key: "wrong" });
    expect((await list().send(body)).status).toBe(429);
    const output: string[] = [];
    const code = await runCli(["user", "unlock", locked.accessKey], { DATABASE_URL: service.config.database.url }, (line) =>
      output.push(line),
    );
    expect(code).toBe(0);
    expect(JSON.parse(output.join("\n"))).toMatchObject({ access_key: locked.accessKey, unlocked_at: expect.any(String) });
    expect((await list().send(body)).status).toBe(200);
  });

  test("When a secret is rotated, then the old one stops working at once and the new one works", async () => {
    const rotating = await service.user();
    const body = { f_organization_uid: rotating.organizationUid };
    expect((await list().auth(rotating.accessKey, rotating.secretKey).send(body)).status).toBe(200); // now cached
    const { secretKey } = await service.container.accounts.rotateSecret(rotating.accessKey);
    expect((await list().auth(rotating.accessKey, rotating.secretKey).send(body)).status).toBe(401);
    expect((await list().auth(rotating.accessKey, secretKey).send(body)).status).toBe(200);
  });

  test("When a user is revoked, then its cached credentials stop working", async () => {
    const revoked = await service.user();
    const body = { f_organization_uid: revoked.organizationUid };
    expect((await list().auth(revoked.accessKey, revoked.secretKey).send(body)).status).toBe(200);
    await service.container.accounts.revoke(revoked.accessKey);
    expect((await list().auth(revoked.accessKey, revoked.secretKey).send(body)).status).toBe(401);
  });
});
