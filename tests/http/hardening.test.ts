import { existsSync, readdirSync } from "node:fs";
import { createConnection } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { Housekeeping } from "../../src/domain/housekeeping.js";
import { SessionService } from "../../src/domain/auth/session-service.js";
import { randomIds } from "../../src/adapters/security/random-ids.js";
import { registerAll, upload, type Registered } from "../support/registry-fixture.js";
import { listen, multipart, openDescriptors, rawRequest, type RawResponse } from "../support/raw-http.js";
import { API, startTestService, type TestService, type TestUser } from "../support/test-service.js";

const MAX_UPLOAD = 256 * 1024;
const DATASET_CREATE = "OFbaCJE62lcPVbZj";

describe("Hardening: hostile and careless requests", () => {
  let service: TestService;
  let user: TestUser;
  let r: Registered;
  let server: { port: number; close(): Promise<void> };
  const basic = () => ({ Authorization: `Basic ${Buffer.from(`${user.accessKey}:${user.secretKey}`).toString("base64")}` });
  const staged = () => (existsSync(path.join(service.filesDir, ".staging")) ? readdirSync(path.join(service.filesDir, ".staging")) : []);
  const raw = async (options: Parameters<typeof rawRequest>[1]) => (await rawRequest(server.port, options)) as RawResponse;

  beforeAll(async () => {
    service = await startTestService({ MAX_UPLOAD_BYTES: String(MAX_UPLOAD), AUTH_MAX_FAILURES_PER_KEY: "10" });
    user = await service.user();
    r = await registerAll(service, user);
    server = await listen(service.container.app);
  });
  afterAll(async () => {
    await server.close();
    await service.close();
  });

  describe("multipart bodies", () => {
    const crash = '--B\r\nContent-Disposition: form-data; name="file"; filename="x"\r\n\r\nabc';

    test("When an anonymous multipart body ends inside its file part (69 bytes), then 401 and the service keeps serving", async () => {
      for (let i = 0; i < 20; i += 1) {
        const response = await raw({
          path: `${API}/${DATASET_CREATE}`,
          headers: { "Content-Type": "multipart/form-data; boundary=B" },
          body: crash,
        });
        expect(response.status).toBe(401);
      }
      expect((await service.http.get("/healthz")).status).toBe(200);
    });

    test("When an authenticated multipart body ends inside its file part, then 400 says it is malformed and nothing is staged", async () => {
      const response = await raw({
        path: `${API}/${DATASET_CREATE}`,
        headers: { "Content-Type": "multipart/form-data; boundary=B", ...basic() },
        body: crash,
      });
      expect(response.status).toBe(400);
      expect(response.json.errors).toEqual([{ field: "body", message: "is not a well-formed multipart body" }]);
      expect(staged()).toEqual([]);
    });

    test("When an anonymous client sends a large upload, then 401 comes back and not one byte is staged", async () => {
      const form = multipart([
        ["name", "x"],
        ["type", "original"],
        ["f_project_uid", r.project],
        ["file", Buffer.alloc(200 * 1024, 7), "big.zip"],
      ]);
      const response = await raw({ path: `${API}/${DATASET_CREATE}`, headers: { "Content-Type": form.contentType }, body: form.body });
      expect(response.status).toBe(401);
      expect(staged()).toEqual([]);
    });

    test("When text parts come after the file, then they are read and the credential parts before the file authenticate", async () => {
      const form = multipart([
        ["access_key", user.accessKey],
        ["secret_key", user.secretKey],
        ["name", "late"],
        ["file", Buffer.from("PK"), "a.zip"],
        ["type", "original"],
        ["f_project_uid", r.project],
        ["extension", "zip"],
      ]);
      const response = await raw({ path: `${API}/${DATASET_CREATE}`, headers: { "Content-Type": form.contentType }, body: form.body });
      expect(response.status).toBe(200);
      expect(response.json.data).toMatchObject({ name: "late", type: "original", f_project_uid: r.project });
    });

    test("When credential parts come only after the file, then 401: the file is never read for an unknown caller", async () => {
      const form = multipart([
        ["name", "x"],
        ["file", Buffer.from("PK"), "a.zip"],
        ["access_key", user.accessKey],
        ["secret_key", user.secretKey],
      ]);
      const response = await raw({ path: `${API}/${DATASET_CREATE}`, headers: { "Content-Type": form.contentType }, body: form.body });
      expect(response.status).toBe(401);
      expect(staged()).toEqual([]);
    });

    test("When a file is exactly MAX_UPLOAD_BYTES, then it is stored; one byte more is 413 naming the file", async () => {
      const exact = await upload(
        service,
        DATASET_CREATE,
        user,
        { name: "exact", type: "original", f_project_uid: r.project, extension: "zip" },
        { content: Buffer.alloc(MAX_UPLOAD, 1), name: "e.zip" },
      );
      expect(exact.status).toBe(200);
      expect(exact.body.data.f_file_uid.size).toBe(MAX_UPLOAD);
      const over = await upload(
        service,
        DATASET_CREATE,
        user,
        { name: "over", type: "original", f_project_uid: r.project, extension: "zip" },
        { content: Buffer.alloc(MAX_UPLOAD + 1, 1), name: "o.zip" },
      );
      expect(over.status).toBe(413);
      expect(over.body.errors).toEqual([{ field: "file", message: "is too large" }]);
      expect(staged()).toEqual([]);
    });

    test("When a text part holds U+0000, then 400 names it and nothing is stored", async () => {
      const response = await upload(
        service,
        DATASET_CREATE,
        user,
        { name: "nul\u0000name", type: "original", f_project_uid: r.project },
        { content: "x", name: "a.zip" },
      );
      expect(response.status).toBe(400);
      expect(response.body.errors).toEqual([{ field: "name", message: "contains the character U+0000" }]);
    });

    test("When 200 clients send uploads that are refused early, then every one of them gets its answer", async () => {
      const form = multipart([
        ["name", "x"],
        ["file", Buffer.alloc(1024 * 1024, 3), "a.zip"],
      ]);
      const headers = { "Content-Type": form.contentType, "X-Access-Key": "nobody-here", "X-Secret-Key": "wrong-secret" };
      const responses = await Promise.all(
        Array.from({ length: 200 }, () => rawRequest(server.port, { path: `${API}/${DATASET_CREATE}`, headers, body: form.body })),
      );
      expect(responses.filter((response) => response === "aborted")).toEqual([]);
      expect(new Set(responses.map((response) => (response as RawResponse).status))).toEqual(
        new Set([401, 429].filter((status) => responses.some((x) => (x as RawResponse).status === status))),
      );
      expect(responses.every((response) => [401, 429].includes((response as RawResponse).status))).toBe(true);
    });
  });

  describe("JSON bodies", () => {
    const json = (body: string, headers: Record<string, string> = {}) =>
      raw({ path: `${API}/42XzWaxjE6dKA9mZ`, headers: { "Content-Type": "application/json", ...basic(), ...headers }, body });

    test("When a JSON body declares another charset, then 415 names Content-Type", async () => {
      const response = await json("{}", { "Content-Type": "application/json; charset=latin1" });
      expect(response.status).toBe(415);
      expect(response.json.errors).toEqual([{ field: "Content-Type", message: "charset must be utf-8" }]);
    });

    test.each(["gzip", "deflate", "br", "compress"])(
      "When the body is sent with Content-Encoding %s, then 415 names Content-Encoding",
      async (encoding) => {
        const response = await json("{}", { "Content-Encoding": encoding });
        expect(response.status).toBe(415);
        expect(response.json.errors).toEqual([{ field: "Content-Encoding", message: "must be identity" }]);
      },
    );

    test("When the body is not valid UTF-8, then 400 says so", async () => {
      const response = await raw({
        path: `${API}/42XzWaxjE6dKA9mZ`,
        headers: { "Content-Type": "application/json", ...basic() },
        body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]),
      });
      expect(response.status).toBe(400);
      expect(response.json.errors).toEqual([{ field: "body", message: "is not valid UTF-8" }]);
    });

    test("When a client goes away halfway through a JSON body, then nothing is created and the next request is answered", async () => {
      const configs = () => service.container.db.configs.count({ pipelineUid: r.pipeline });
      const before = await configs();
      const body = JSON.stringify({ name: "half-sent", data: { lr: 0.1 }, f_pipeline_uid: r.pipeline });
      const socket = createConnection(server.port, "127.0.0.1");
      await new Promise((resolve) => socket.once("connect", resolve));
      socket.write(
        `POST ${API}/42XzWaxjE6dKA9mZ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
          `Authorization: ${basic().Authorization}\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 20)}`,
      );
      await new Promise((resolve) => setTimeout(resolve, 50));
      socket.destroy();
      await new Promise((resolve) => setTimeout(resolve, 50));
      const whole = await json(body);
      expect(whole.status).toBe(200);
      expect(await configs()).toBe(before + 1);
    });

    test("When a string holds a lone surrogate, then 400 names the field (not 503)", async () => {
      const response = await json(`{"name":"a\\ud800b","data":{},"f_pipeline_uid":"${r.pipeline}"}`);
      expect(response.status).toBe(400);
      expect(response.json.errors).toEqual([{ field: "name", message: "contains an unpaired UTF-16 surrogate" }]);
    });

    test("When a number is beyond a double (1e999), then 400 names the field", async () => {
      const response = await service.http
        .post(`${API}/5aP8Kk9Okiv2WdsO`)
        .set("Content-Type", "application/json")
        .send(`{"access_key":"${user.accessKey}","secret_key":"${user.secretKey}","model_uid":"${r.model}","model_accuracy":1e999}`);
      expect(response.status).toBe(400);
      expect(response.body.errors).toEqual([{ field: "model_accuracy", message: "is a number too large to represent" }]);
    });

    test("When config data nests 10,000 levels deep, then 400 names the field, also with an Idempotency-Key on a run", async () => {
      const deep = `${"[".repeat(10_000)}${"]".repeat(10_000)}`;
      const config = await json(`{"name":"deep","data":{"x":${deep}},"f_pipeline_uid":"${r.pipeline}"}`);
      expect(config.status).toBe(400);
      expect(config.json.errors).toEqual([{ field: "data", message: "nests deeper than 32 levels" }]);
      const run = await raw({
        path: `${API}/q8uzMBcM5YJH6dPf`,
        headers: { "Content-Type": "application/json", "Idempotency-Key": "deep-1", ...basic() },
        body: `{"task_name":${deep}}`,
      });
      expect(run.status).toBe(400);
      expect(run.json.errors).toEqual([{ field: "task_name", message: "nests deeper than 32 levels" }]);
    });

    test("When an Idempotency-Key is empty-looking, over 255 characters or not printable ASCII, then 400 names it before anything is written", async () => {
      const someTask = "5b0f7c1e-2d4a-4f3b-9c8d-1e2f3a4b5c6d";
      for (const key of ["k".repeat(8_000), "key\twith-tab", " "]) {
        const resubmit = await service.http
          .post(`${API}/Ms2kVf9LcX4nTj7e`)
          .set("Idempotency-Key", key)
          .send({ access_key: user.accessKey, secret_key: user.secretKey, uid: someTask });
        expect({ key: key.slice(0, 20), status: resubmit.status, errors: resubmit.body.errors }).toEqual({
          key: key.slice(0, 20),
          status: 400,
          errors: [{ field: "Idempotency-Key", message: "must be 1 to 255 printable ASCII characters" }],
        });
      }
      const run = await service.http
        .post(`${API}/q8uzMBcM5YJH6dPf`)
        .set("Idempotency-Key", "k".repeat(8_000))
        .send({
          access_key: user.accessKey,
          secret_key: user.secretKey,
          task_name: "t",
          task_description: "",
          pipeline_uid: r.pipeline,
          dataset_uid: someTask,
          type: "project",
          config_uid: someTask,
          image_uid: { download_uid: someTask, running_uid: someTask, upload_uid: someTask },
          model_name: "m",
          model_description: "",
          model_type: "default",
          model_input_format: "float32",
          model_output_format: "float32",
          model_file_extension: "zip",
        });
      expect(run.status).toBe(400);
      expect(run.body.errors).toEqual([{ field: "Idempotency-Key", message: "must be 1 to 255 printable ASCII characters" }]);
    });

    test("When a uid is given as urn:uuid, then 400: uids are plain", async () => {
      const response = await service.post("owbCDAJ9rJW2AEO5", user, { uid: `urn:uuid:${r.pipeline}` });
      expect(response.status).toBe(400);
      expect(response.body.errors).toEqual([{ field: "uid", message: 'must match format "uuid"' }]);
    });

    test("When a cursor names the year 275760, then 400 names the cursor (not 503)", async () => {
      const cursor = Buffer.from(JSON.stringify(["+275760-09-13T00:00:00.000Z", r.pipeline])).toString("base64url");
      const response = await service.post("VytZbpzyI9fFWkM6", user, { f_application_uid: r.application, limit: 1, cursor });
      expect(response.status).toBe(400);
      expect(response.body.errors).toEqual([{ field: "cursor", message: "is not a cursor this service issued" }]);
    });

    test("When a request without credentials has the wrong Content-Type, then 401 comes before 415", async () => {
      const response = await raw({ path: `${API}/${DATASET_CREATE}`, headers: { "Content-Type": "text/plain" }, body: "hello" });
      expect(response.status).toBe(401);
    });

    test("When an anonymous JSON body is malformed, then 401: nothing about a body is reported to an unknown caller", async () => {
      const response = await raw({ path: `${API}/42XzWaxjE6dKA9mZ`, headers: { "Content-Type": "application/json" }, body: "{not json" });
      expect(response.status).toBe(401);
    });
  });

  describe("errors name the field the caller sent", () => {
    test("When f_organization_uid does not exist, then 404 names f_organization_uid", async () => {
      const response = await service.post("9Q1lCs56iud4oPcS", user, {
        name: "p",
        f_organization_uid: "00000000-0000-4000-8000-000000000000",
      });
      expect(response.status).toBe(404);
      expect(response.body.errors[0].field).toBe("f_organization_uid");
    });

    test("When application_uid does not exist, then 404 names application_uid", async () => {
      const response = await service.post("OjlrjuAeA5HOkGqT", user, {
        application_uid: "00000000-0000-4000-8000-000000000000",
        application_name: "x",
      });
      expect(response.status).toBe(404);
      expect(response.body.errors[0].field).toBe("application_uid");
    });
  });

  describe("sign-in throttling", () => {
    test("When 101 different guesses for one key arrive at once with the right one last, then all are refused and at most 10 were checked", async () => {
      const victim = await service.user();
      const attempt = (secret: string) =>
        raw({
          path: `${API}/mGlkFLqgBQgNRvU3`,
          headers: { "Content-Type": "application/json", "X-Access-Key": victim.accessKey, "X-Secret-Key": secret },
          body: JSON.stringify({ uid: victim.organizationUid }),
        });
      const responses = await Promise.all([
        ...Array.from({ length: 100 }, (_, i) => attempt(`wrong-${i}-secret`)),
        attempt(victim.secretKey),
      ]);
      const statuses = responses.map((response) => response.status);
      expect(statuses.filter((status) => status === 200)).toEqual([]);
      expect(statuses.filter((status) => status === 401).length).toBeLessThanOrEqual(10);
      expect(statuses.filter((status) => status === 429).length).toBeGreaterThanOrEqual(91);
      expect(statuses.at(-1)).toBe(429);
      expect(responses.at(-1)!.headers["retry-after"]).toMatch(/^\d+$/);
    });
  });

  describe("resources", () => {
    test("When many transactions run, then SQLite keeps its one connection (no descriptor per transaction)", async () => {
      if (!service.config.database.url.startsWith("file:")) return expect(service.config.database.url).toMatch(/^postgres/);
      const dbFile = service.config.database.url.slice("file:".length);
      const before = openDescriptors(dbFile).length;
      for (let i = 0; i < 30; i += 1) {
        const created = await upload(
          service,
          DATASET_CREATE,
          user,
          { name: `t${i}`, type: "original", f_project_uid: r.project },
          { content: "PK", name: "a.zip" },
        );
        expect(created.status).toBe(200); // each one commits an interactive transaction
      }
      expect(openDescriptors(dbFile).length).toBe(before);
    });

    test("When 30 uploads are abandoned midway, then no staged file or descriptor remains", async () => {
      const form = multipart([
        ["name", "x"],
        ["type", "original"],
        ["f_project_uid", r.project],
        ["file", Buffer.alloc(128 * 1024, 5), "a.zip"],
      ]);
      const headers = { "Content-Type": form.contentType, ...basic() };
      const results = await Promise.all(
        Array.from({ length: 30 }, () =>
          rawRequest(server.port, { path: `${API}/${DATASET_CREATE}`, headers, body: form.body, abortAfter: 64 * 1024 }),
        ),
      );
      expect(results.every((result) => result === "aborted")).toBe(true);
      await waitFor(() => staged().length === 0 && openDescriptors(path.join(service.filesDir, ".staging")).length === 0);
    });

    test("When Idempotency-Key records are older than their TTL, then the sweep removes them and keeps the fresh ones", async () => {
      const db = service.container.db;
      await db.idempotency.create({ userUid: user.userUid, key: "old", requestHash: "h", taskUid: "t" });
      const sweeper = (hoursLater: number) => {
        const clock = { now: () => new Date(Date.now() + hoursLater * 3600_000) };
        return new Housekeeping({
          db,
          sessions: new SessionService({ db, ids: randomIds, clock, settings: { idleSeconds: 3600, maxSeconds: 86_400 } }),
          logger: service.container.logger,
          clock,
          settings: { idempotencyTtlSeconds: service.config.tasks.idempotencyTtlSeconds, intervalSeconds: 3600 },
        });
      };
      await expect(sweeper(0).sweep()).resolves.toMatchObject({ idempotencyRecords: 0 });
      await expect(db.idempotency.find(user.userUid, "old")).resolves.not.toBeNull();
      await expect(sweeper(25).sweep()).resolves.toMatchObject({ idempotencyRecords: 1 });
      await expect(db.idempotency.find(user.userUid, "old")).resolves.toBeNull();
    });
  });
});

async function waitFor(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
