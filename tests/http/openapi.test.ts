/** The OpenAPI document and the docs page: generated from the route table, valid, complete, served without a CDN. */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { Validator } from "@seriousme/openapi-schema-validator";
import { startTestService, type TestService } from "../support/test-service.js";

describe("The OpenAPI document and /docs", () => {
  let service: TestService;
  let document: { info: { version: string }; paths: Record<string, Record<string, Record<string, any>>>; components: any };

  beforeAll(async () => {
    service = await startTestService();
    const response = await service.http.get("/openapi.json");
    expect(response.status).toBe(200);
    document = response.body;
  });
  afterAll(() => service.close());

  test("When the document is checked by an OpenAPI 3.1 validator, then it is valid and says the package's version", async () => {
    const result = await new Validator().validate(structuredClone(document));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(document.info.version).toBe(JSON.parse(readFileSync("package.json", "utf8")).version);
  });

  test("When every operation of the route table is looked up, then it is there under its key (with its original action) and each REST alias", () => {
    const operationIds = new Set<string>();
    for (const operation of service.container.operations) {
      const byKey = document.paths[`/api/{version}/entrypoint/Router/parse/${operation.mitlabKey}`]?.post;
      expect({ key: operation.mitlabKey, operationId: byKey?.operationId, summary: byKey?.summary }).toEqual({
        key: operation.mitlabKey,
        operationId: operation.id,
        summary: operation.summary,
      });
      expect(byKey!.requestBody.content).toBeDefined();
      for (const alias of operation.rest ?? []) {
        const rest = document.paths[`/api/v1${alias.path}`]?.[alias.method];
        expect({ alias: `${alias.method} ${alias.path}`, present: rest !== undefined }).toEqual({
          alias: `${alias.method} ${alias.path}`,
          present: true,
        });
      }
      operationIds.add(operation.id);
    }
    expect(operationIds.size).toBe(service.container.operations.length);
    const followed = document.paths["/api/v1/tasks/{uid}/logs"]!.get!;
    expect(followed.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(["uid", "follow", "step"]));
    expect(Object.keys(followed.responses["200"].content)).toEqual(["application/json", "text/event-stream"]);
  });

  test("When a task route is read, then it has the seed's body as its example, the error shape and the security schemes", () => {
    const training = document.paths["/api/{version}/entrypoint/Router/parse/q8uzMBcM5YJH6dPf"]!.post!;
    expect(training.requestBody.content["application/json"].example).toMatchObject({
      task_name: "test_training_task",
      model_type: "default",
    });
    expect(training.requestBody.content["application/json"].example.secret_key).toBeUndefined();
    expect(training.responses["400"]).toEqual({ $ref: "#/components/responses/E400" });
    expect(Object.keys(document.components.securitySchemes)).toEqual(["accessKey", "secretKey", "basic", "session", "apiKey", "taskToken"]);
    expect(document.components.schemas.Error.required).toEqual(["detail", "errors", "code"]);
  });

  test("When the MRMS and Prediction One routes are listed, then each mounted route is documented with its caller and body, and nothing else is", () => {
    const mounted = mountedRoutes(service.container.app).filter((r) => /^\/(mrms|v1\/external)\//.test(r.path));
    const documented = Object.entries(document.paths)
      .filter(([path]) => /^\/(mrms|v1\/external)\//.test(path))
      .flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method} ${path}`));
    expect(documented.sort()).toEqual(mounted.map((r) => `${r.method} ${r.path}`).sort());
    expect(mounted.length).toBeGreaterThan(20);
    const create = document.paths["/mrms/project_create"]!.post!;
    expect(create.tags).toEqual(["MRMS"]);
    expect(create.requestBody.content["application/json"].schema.required).toEqual(["project_id", "project_purpose_cd", "status"]);
    expect(document.paths["/mrms/eps_update"]!.post!.security).toEqual([{ taskToken: [] }]);
    expect(document.paths["/v1/external/retrain_jobs/{retrain_job_id}"]!.get!.security).toEqual([{ apiKey: [] }]);
    expect(document.paths["/v1/external/retrain_uploads/{token}"]!.put!.security).toEqual([]);
  });

  test("When /docs is opened, then its page and assets come from this service, and / leads there", async () => {
    const page = await service.http.get("/docs");
    expect(page.status).toBe(200);
    expect(page.text).not.toMatch(/https?:\/\//);
    for (const asset of [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!)) {
      const response = await service.http.get(asset);
      expect({ asset, status: response.status }).toEqual({ asset, status: 200 });
    }
    expect((await service.http.get("/docs/init.js")).text).toContain('url: "/openapi.json"');
    expect((await service.http.get("/docs/assets/package.json")).status).toBe(404);
    const root = await service.http.get("/");
    expect({ status: root.status, location: root.headers.location }).toEqual({ status: 302, location: "/docs" });
    expect((await service.http.get("/api")).body).toEqual({
      openapi: "/openapi.json",
      docs: "/docs",
      rest: "/api/v1",
      entrypoint: `/api/${service.config.api.versions[0]}/entrypoint`,
      ui: "/ui/",
    });
  });
});

/** Every route an Express app mounts (nested routers included), with `:name` parameters as `{name}` in their documented order. */
function mountedRoutes(app: unknown): Array<{ method: string; path: string }> {
  type Layer = { route?: { path: string; methods: Record<string, boolean> }; handle?: { stack?: Layer[] } };
  const walk = (stack: Layer[]): Array<{ method: string; path: string }> =>
    stack.flatMap((layer) =>
      layer.route
        ? Object.keys(layer.route.methods).map((method) => ({
            method,
            path: layer.route!.path.replace(/:([A-Za-z]+)/g, (_, name: string) => `{${snake(name)}}`),
          }))
        : layer.handle?.stack
          ? walk(layer.handle.stack)
          : [],
    );
  return walk((app as { router: { stack: Layer[] } }).router.stack);
}

const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
