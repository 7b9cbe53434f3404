import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { registerAll, upload, type Registered } from "../support/registry-fixture.js";
import { API, startTestService, type TestService, type TestUser } from "../support/test-service.js";

/** Each route key with a valid body and the fields the original marks as required. */
const JSON_ROUTES: Array<[string, (r: Registered, orgUid: string) => Record<string, unknown>, string[]]> = [
  ["mGlkFLqgBQgNRvU3", (_r, org) => ({ uid: org }), ["uid"]],
  ["9Q1lCs56iud4oPcS", (_r, org) => ({ name: "p", f_organization_uid: org }), ["name"]],
  ["KIW6ZqwTMbMF4bWl", (r) => ({ uid: r.project, name: "p" }), ["uid"]],
  ["ThQHZcLlnq6GQ3zW", (r) => ({ uid: r.project }), ["uid"]],
  ["a75vPQAyPqVGFwiZ", (_r, org) => ({ f_organization_uid: org }), ["f_organization_uid"]],
  ["iGXyNAx4Kp3DrosK", (r) => ({ application_name: "a", f_project_uid: r.project }), ["application_name", "f_project_uid"]],
  ["OjlrjuAeA5HOkGqT", (r) => ({ application_uid: r.application }), ["application_uid"]],
  ["I5saSl6jjFMJJqKr", (r) => ({ uid: r.application }), ["uid"]],
  ["pWS6eH3ZKgYytsre", (r) => ({ application_uid: r.application }), ["application_uid"]],
  ["A19MSnNoF8p36XHn", (r) => ({ f_project_uid: r.project }), ["f_project_uid"]],
  ["6PiGXBbrIvQLqhrC", (r) => ({ uid: r.projectDataset }), ["uid"]],
  ["MyC2aIHtzkZJrEGi", (r) => ({ f_project_uid: r.project }), ["f_project_uid"]],
  ["9uKWKnG5ZTSew1HD", (r) => ({ uid: r.applicationDataset }), ["uid"]],
  ["1sphuopUuLnIqoPU", (r) => ({ f_application_uid: r.application }), ["f_application_uid"]],
  ["uqm5wN6pdrAWM89T", (r) => ({ uid: r.projectDataset }), ["uid"]],
  ["lXqKKZYiy6XKJaVg", (r) => ({ uid: r.applicationDataset }), ["uid"]],
  ["28a9H19Khaw4KIbV", (r) => ({ uid: r.pipeline }), ["uid"]],
  ["8PSWYHbJF2ZHuXVP", (r) => ({ uid: r.pipeline }), ["uid"]],
  ["owbCDAJ9rJW2AEO5", (r) => ({ uid: r.pipeline }), ["uid"]],
  ["VytZbpzyI9fFWkM6", (r) => ({ f_application_uid: r.application }), ["f_application_uid"]],
  ["42XzWaxjE6dKA9mZ", (r) => ({ name: "c", data: {}, f_pipeline_uid: r.pipeline }), ["name", "data", "f_pipeline_uid"]],
  ["IIfzauWfQZ3RsHUZ", (r) => ({ uid: r.config }), ["uid"]],
  ["DUj6JZvlwBE3WMbX", (r) => ({ uid: r.config }), ["uid"]],
  ["NVVJBLsdkIjTLB2P", (r) => ({ f_pipeline_uid: r.pipeline }), ["f_pipeline_uid"]],
  ["fQVBVFsISiNWCCzx", (r) => ({ uid: r.images.running }), ["uid"]],
  ["Ho7YDcRfgifigJvn", (r) => ({ uid: r.images.running }), ["uid"]],
  ["eu4oNOb8E0KVaOdo", (r) => ({ f_pipeline_uid: r.pipeline }), ["f_pipeline_uid"]],
  ["siJLKf5He1wksCH2", (r) => ({ model_uid: r.model }), ["model_uid"]],
  ["8qFsmTELrN0lag20", (r) => ({ uid: r.model }), ["uid"]],
  ["EU2X3oWVHQiEoYBi", (r) => ({ f_application_uid: r.application }), ["f_application_uid"]],
  ["mvtJY0gtyhHguWtL", (r) => ({ f_application_uid: r.application }), ["f_application_uid"]],
  ["ZEUjsfvXK9eNjom7", (r) => ({ source: r.model }), ["source"]],
  ["LKloOsyvHb0NCDPG", (r) => ({ uid: r.model }), ["uid"]],
  ["7uW8GfesIizOaShO", (r) => ({ uid: r.model }), ["uid"]],
  ["5aP8Kk9Okiv2WdsO", (r) => ({ model_uid: r.model, model_accuracy: 0.5 }), ["model_uid", "model_accuracy"]],
  ["4AJSfvc4mn8xzy2U", (r) => ({ uid: r.model, access_token: r.modelToken }), ["uid", "access_token"]],
  ["gTJsFsf5JIjeAmNb", (r) => ({ model_uid: r.model, model_access_token: r.modelToken }), ["model_uid", "model_access_token"]],
  ["oNjkVj60RqS8DQTX", (r) => ({ pipeline_uid: r.pipeline }), ["pipeline_uid"]],
  ["Q3aPI7vZrzp3d4SI", (r) => ({ pipeline_uid: r.pipeline }), ["pipeline_uid"]],
  ["ur2rcOusIa91PFX5", (r) => ({ pipeline_uid: r.pipeline }), ["pipeline_uid"]],
  ["8O1f02CSk0Su3czR", (r) => ({ pipeline_uid: r.pipeline }), ["pipeline_uid"]],
];

const UPLOAD_ROUTES: Array<[string, (r: Registered) => Record<string, string>, string[]]> = [
  ["OFbaCJE62lcPVbZj", (r) => ({ name: "d", type: "original", f_project_uid: r.project }), ["name", "type", "f_project_uid"]],
  ["5fk1gVLi8q0mcHf4", (r) => ({ name: "d", type: "original", f_application_uid: r.application }), ["name", "type", "f_application_uid"]],
  [
    "FgdSO4ryg2UA2APl",
    (r) => ({ name: "p", type: "training", f_application_uid: r.application, extension: "py" }),
    ["name", "type", "f_application_uid", "extension"],
  ],
  ["lwO7afcqdKtKEAhb", (r) => ({ name: "i", sequence: "running", f_pipeline_uid: r.pipeline }), ["name", "sequence", "f_pipeline_uid"]],
  [
    "OBF4f9guOmzitGvC",
    (r) => ({ name: "m", type: "default", model_input_format: "a", model_output_format: "b", f_application_uid: r.application }),
    ["name", "type", "model_input_format", "model_output_format", "f_application_uid"],
  ],
];

describe("Request validation on every route key", () => {
  let service: TestService;
  let user: TestUser;
  let r: Registered;

  beforeAll(async () => {
    service = await startTestService();
    user = await service.user();
    r = await registerAll(service, user);
  });
  afterAll(() => service.close());

  const cases = JSON_ROUTES.flatMap(([key, body, required]) => required.map((field) => [key, field, body] as const));

  test.each(cases)("When %s is sent without %s, then 400 names that field", async (key, field, body) => {
    const sent = body(r, user.organizationUid);
    delete sent[field];
    const response = await service.post(key, user, sent);
    expect(response.status).toBe(400);
    expect(response.body.errors).toContainEqual({ field, message: "is required" });
  });

  test.each(cases)("When %s is sent with a mistyped %s, then 400 names that field", async (key, field, body) => {
    const response = await service.post(key, user, { ...body(r, user.organizationUid), [field]: field === "data" ? [1] : true });
    expect(response.status).toBe(400);
    expect(response.body.errors.map((e: { field: string }) => e.field)).toContain(field);
  });

  const uploadCases = UPLOAD_ROUTES.flatMap(([key, fields, required]) => required.map((field) => [key, field, fields] as const));

  test.each(uploadCases)(
    "When upload %s is sent without %s, then 400 names that field and nothing is stored",
    async (key, field, fields) => {
      const sent = fields(r);
      delete sent[field];
      const files = await service.container.db.files.count({});
      const response = await upload(service, key, user, sent, { content: "x", name: "f" });
      expect(response.status).toBe(400);
      expect(response.body.errors).toContainEqual({ field, message: "is required" });
      expect(await service.container.db.files.count({})).toBe(files);
    },
  );

  test("When a uid is not a UUID, then the message says which field and why", async () => {
    const response = await service.post("owbCDAJ9rJW2AEO5", user, { uid: "../etc/passwd" });
    expect(response.status).toBe(400);
    expect(response.body).toEqual({
      detail: 'Invalid request: uid must match format "uuid"',
      errors: [{ field: "uid", message: 'must match format "uuid"' }],
      code: "invalid_request",
      request_id: expect.any(String),
    });
  });
});

describe("The entrypoint router", () => {
  let service: TestService;
  let user: TestUser;

  beforeAll(async () => {
    service = await startTestService();
    user = await service.user();
  });
  afterAll(() => service.close());

  test("When the route key is unknown, then 404 JSON says so", async () => {
    const response = await service.post("NoSuchRouteKey00", user, {});
    expect(response.status).toBe(404);
    expect(response.body).toEqual({
      detail: "Unknown route key NoSuchRouteKey00",
      errors: [],
      code: "not_found",
      request_id: response.headers["x-request-id"],
    });
  });

  test.each(["v1.1.1", "v1.1.5", "v1.2.4", "v0.1"])(
    "When the original clients' version %s is used, then the route answers",
    async (version) => {
      const response = await service.http
        .post(`/api/${version}/entrypoint/Router/parse/mGlkFLqgBQgNRvU3`)
        .auth(user.accessKey, user.secretKey)
        .send({ uid: user.organizationUid });
      expect(response.status).toBe(200);
    },
  );

  test("When the version is not one the service speaks, then 404 lists the supported ones", async () => {
    const response = await service.http
      .post("/api/v9/entrypoint/Router/parse/mGlkFLqgBQgNRvU3")
      .auth(user.accessKey, user.secretKey)
      .send({ uid: user.organizationUid });
    expect(response.status).toBe(404);
    expect(response.body.detail).toMatch(/supported: v0\.1, v1\.1\.1/);
  });

  test("When the body is not valid JSON, then 400 says so", async () => {
    const response = await service.http
      .post(`${API}/mGlkFLqgBQgNRvU3`)
      .auth(user.accessKey, user.secretKey)
      .set("Content-Type", "application/json")
      .send("{not json");
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([{ field: "body", message: "is not valid JSON" }]);
  });

  test("When a JSON route gets another content type, then 415", async () => {
    const response = await service.http
      .post(`${API}/mGlkFLqgBQgNRvU3`)
      .auth(user.accessKey, user.secretKey)
      .set("Content-Type", "text/plain")
      .send("uid=1");
    expect(response.status).toBe(415);
    expect(response.body.detail).toMatch(/application\/json/);
  });

  test("When an upload route gets JSON, then 415 says it takes multipart", async () => {
    const response = await service.post("OFbaCJE62lcPVbZj", user, { name: "x" });
    expect(response.status).toBe(415);
    expect(response.body.detail).toMatch(/multipart\/form-data/);
  });

  test("When a JSON route gets multipart, then 415", async () => {
    const response = await upload(service, "mGlkFLqgBQgNRvU3", user, { uid: user.organizationUid });
    expect(response.status).toBe(415);
  });

  test("When the body is a JSON array, then 400", async () => {
    const response = await service.http.post(`${API}/mGlkFLqgBQgNRvU3`).auth(user.accessKey, user.secretKey).send([1, 2]);
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([{ field: "body", message: "must be a JSON object" }]);
  });

  test("When another path is asked for, then 404 JSON and the request id is echoed", async () => {
    const response = await service.http.get("/nowhere").set("X-Request-Id", "trace-123");
    expect(response.status).toBe(404);
    expect(response.headers["x-request-id"]).toBe("trace-123");
    expect(response.body.detail).toBe("No route for GET /nowhere");
  });

  test("When health and readiness are probed, then both answer without credentials", async () => {
    expect((await service.http.get("/healthz")).body).toEqual({ status: "ok" });
    expect((await service.http.get("/readyz")).body).toEqual({ status: "ready" });
  });
});

describe("Pagination of lists", () => {
  let service: TestService;
  let user: TestUser;

  beforeAll(async () => {
    service = await startTestService();
    user = await service.user();
    for (let i = 0; i < 5; i += 1) await service.post("9Q1lCs56iud4oPcS", user, { name: `p${i}` });
  });
  afterAll(() => service.close());

  const list = (extra: Record<string, unknown> = {}) =>
    service.post("a75vPQAyPqVGFwiZ", user, { f_organization_uid: user.organizationUid, ...extra });

  test("When no limit is given, then the whole list comes back like the original", async () => {
    const response = await list();
    expect(response.body.data.map((p: { name: string }) => p.name)).toEqual(["p0", "p1", "p2", "p3", "p4"]);
    expect(response.body.next_cursor).toBeUndefined();
  });

  test("When a limit is given, then pages follow the cursor to the end without repeats or gaps", async () => {
    const names: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const response = await list({ limit: 2, ...(cursor ? { cursor } : {}) });
      expect(response.status).toBe(200);
      names.push(...response.body.data.map((p: { name: string }) => p.name));
      cursor = response.body.next_cursor;
      if (cursor) expect(response.headers["x-next-cursor"]).toBe(cursor);
      pages += 1;
    } while (cursor);
    expect(names).toEqual(["p0", "p1", "p2", "p3", "p4"]);
    expect(pages).toBe(3);
  });

  test("When the limit or cursor is malformed, then 400 names it", async () => {
    expect((await list({ limit: 0 })).body.errors).toEqual([{ field: "limit", message: "must be an integer from 1 to 1000" }]);
    expect((await list({ cursor: "garbage" })).body.errors).toEqual([{ field: "cursor", message: "is not a cursor this service issued" }]);
  });
});
