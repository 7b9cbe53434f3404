/** Operators' view: Prometheus metrics and one access line per request, through the real HTTP stack. */
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { registerPipeline, registerProject, registerTrainingDataset, trainingBody } from "../support/task-fixture.js";
import { API, startTestService, type TestService, type TestUser } from "../support/test-service.js";

const TOKEN = "metrics-token-for-tests-0123456789";

/** Prometheus' text format, line by line: a sample is `name{label="value",...} number`. */
function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("# HELP ") || line.startsWith("# TYPE ")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.e+-]+|nan|[+-]inf)$/i.exec(
      line,
    );
    if (!match) throw new Error(`not Prometheus text: ${line}`);
    samples.set(`${match[1]}${match[2] ?? ""}`, Number(match[3]));
  }
  return samples;
}

describe("Operability", () => {
  let service: TestService;
  let user: TestUser;
  const scrape = async () => {
    const response = await service.http.get("/metrics").set("Authorization", `Bearer ${TOKEN}`);
    expect(response.status).toBe(200);
    expect(response.headers["content-type"]).toMatch(/^text\/plain; version=0\.0\.4/);
    return parsePrometheus(response.text);
  };
  const accessLines = () =>
    service.logs.map((line) => JSON.parse(line) as Record<string, unknown>).filter((entry) => entry.msg === "access");

  beforeAll(async () => {
    service = await startTestService({ METRICS_TOKEN: TOKEN });
    user = await service.user();
  });
  afterAll(() => service.close());

  test("When /metrics is asked without the token or with another, then it is refused", async () => {
    expect((await service.http.get("/metrics")).status).toBe(401);
    expect((await service.http.get("/metrics").set("Authorization", "Bearer not-the-token-at-all")).status).toBe(401);
  });

  test("When requests, refusals, uploads and tasks happen, then the counters move and the text parses", async () => {
    const before = await scrape();
    const list = `http_requests_total{route="a75vPQAyPqVGFwiZ",method="POST",status="200"}`;
    await service.post("a75vPQAyPqVGFwiZ", user, { f_organization_uid: user.organizationUid });
    await service.post("a75vPQAyPqVGFwiZ", { ...user, secretKey: "wrong-secret" }, {});
    const project = await service.post("9Q1lCs56iud4oPcS", user, { name: "p", description: "" });
    await service.http
      .post(`${API}/OFbaCJE62lcPVbZj`)
      .field("access_key", user.accessKey)
      .field("secret_key", user.secretKey)
      .field("name", "d")
      .field("type", "original")
      .field("f_project_uid", project.body.data.uid)
      .field("extension", "zip")
      .attach("file", Buffer.alloc(12_345, 1), "d.zip");
    const after = await scrape();
    const delta = (name: string) => (after.get(`argo_entrypoint_${name}`) ?? 0) - (before.get(`argo_entrypoint_${name}`) ?? 0);
    expect(delta(list)).toBe(1);
    expect(delta(`sign_in_failures_total{reason="invalid"}`)).toBe(1);
    expect(delta("upload_bytes_total")).toBe(12_345);
    expect(after.get(`argo_entrypoint_http_request_duration_seconds_count{route="a75vPQAyPqVGFwiZ",method="POST"}`)).toBeGreaterThan(0);
    expect(after.has("argo_entrypoint_process_resident_memory_bytes")).toBe(true);
    expect(after.get("argo_entrypoint_dispatch_queue_depth")).toBe(0);
    expect(after.get("argo_entrypoint_log_followers")).toBe(0);
    expect(after.get("argo_entrypoint_webhook_deliveries_pending")).toBe(0);
  });

  test("When a task is submitted, then it is counted by its status and kind", async () => {
    const countOf = (metrics: Map<string, number>) =>
      [...metrics.entries()]
        .filter(([key]) => /^argo_entrypoint_tasks\{status="[a-z ]+",kind="training"\}$/.test(key))
        .reduce((n, [, v]) => n + v, 0);
    const before = countOf(await scrape());
    const project = await registerProject(service, user);
    const dataset = await registerTrainingDataset(service, user, project.project);
    const pipeline = await registerPipeline(service, user, project.application, {
      type: "training",
      program: "true\n",
      extension: "sh",
      config: {},
    });
    expect((await service.post("q8uzMBcM5YJH6dPf", user, trainingBody(user, pipeline, dataset))).status).toBe(200);
    expect(countOf(await scrape())).toBe(before + 1);
  });

  test("When requests of every kind come, then each leaves exactly one access line with its fields and no secret", async () => {
    const start = accessLines().length;
    const sent = [
      () => service.post("a75vPQAyPqVGFwiZ", user, { f_organization_uid: user.organizationUid }), // 200
      () => service.post("a75vPQAyPqVGFwiZ", user, { f_organization_uid: "not-a-uid" }), // 400
      () => service.post("a75vPQAyPqVGFwiZ", { ...user, secretKey: "another-wrong-secret" }, {}), // 401
      () => service.post("NoSuchRouteKey00", user, {}), // 404, unknown key
      () => service.http.get("/no/such/path/7f3a"), // 404, unmatched
      () => service.http.get("/healthz"), // 200
    ];
    const statuses = [];
    for (const request of sent) statuses.push((await request()).status);
    expect(statuses).toEqual([200, 400, 401, 404, 404, 200]);
    await new Promise((resolve) => setImmediate(resolve));
    const lines = accessLines().slice(start);
    expect(lines).toHaveLength(sent.length);
    expect(lines.map((l) => [l.method, l.route, l.status])).toEqual([
      ["POST", "a75vPQAyPqVGFwiZ", 200],
      ["POST", "a75vPQAyPqVGFwiZ", 400],
      ["POST", "a75vPQAyPqVGFwiZ", 401],
      ["POST", "/api/:version/entrypoint/Router/parse/:routeKey", 404],
      ["GET", "unmatched", 404],
      ["GET", "/healthz", 200],
    ]);
    for (const line of lines) {
      expect(line).toMatchObject({ level: 30, requestId: expect.any(String), durationMs: expect.any(Number), bytes: expect.any(Number) });
      expect(line.bytes as number).toBeGreaterThan(0);
    }
    expect(lines[0]!.userUid).toBe(user.userUid);
    expect(lines[2]!.userUid).toBeNull();
    const everything = service.logs.join("\n");
    expect(everything).not.toContain(user.secretKey);
    expect(everything).not.toContain("another-wrong-secret");
    const refused = service.logs.map((l) => JSON.parse(l)).filter((l) => l.msg === "action=sign-in outcome=refused");
    expect(refused.at(-1)).toMatchObject({ accessKey: user.accessKey, address: expect.any(String), reason: "invalid" });
  });
});
