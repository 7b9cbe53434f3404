/**
 * The abuse suite: thousands of malformed and hostile requests over every route key and the
 * step API, as an attacker or a careless client would send them. Whatever comes in: no crash,
 * no 5xx, 401 before anything else when no credential is sent, the bad field named when one
 * field is bad, another organization's uids never reached, and nothing registered changed.
 */
import { createHash, randomUUID } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { registerAll, type Registered } from "../support/registry-fixture.js";
import { multipart } from "../support/raw-http.js";
import { API, startTestService, type TestService, type TestUser } from "../support/test-service.js";

type Schema = {
  anyOf?: Schema[];
  type?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  enum?: string[];
  pattern?: string;
  maxLength?: number;
  minLength?: number;
  minimum?: number;
  maximum?: number;
  maxItems?: number;
  not?: unknown;
};
/** A JSON value, or raw JSON text for what JSON.stringify cannot write (1e999, a lone surrogate). */
type Value = unknown;
interface Outcome {
  status: number;
  body: { errors?: Array<{ field: string }> };
  label: string;
}

const DEEP = `${"[".repeat(5000)}${"]".repeat(5000)}`;
const ANONYMOUS = 401;

describe("Abuse: malformed and hostile requests over every route key and the step API", () => {
  let service: TestService;
  let user: TestUser;
  let stranger: TestUser;
  let victim: TestUser;
  let mine: Registered;
  let theirs: Registered;
  const outcomes: Outcome[] = [];
  const basic = (u: TestUser) => `Basic ${Buffer.from(`${u.accessKey}:${u.secretKey}`).toString("base64")}`;

  /** Sends many requests, 16 at a time, recording each outcome. */
  async function send(requests: Array<{ label: string; go: () => PromiseLike<{ status: number; body: unknown }> }>): Promise<Outcome[]> {
    const results: Outcome[] = [];
    for (let i = 0; i < requests.length; i += 16) {
      results.push(
        ...(await Promise.all(
          requests.slice(i, i + 16).map(async ({ label, go }) => {
            const response = await go();
            return { status: response.status, body: (response.body ?? {}) as Outcome["body"], label };
          }),
        )),
      );
    }
    outcomes.push(...results);
    return results;
  }
  const postRaw = (key: string, contentType: string, body: string | Buffer, headers: Record<string, string> = {}) =>
    service.http
      .post(`${API}/${key}`)
      .set({ "Content-Type": contentType, ...headers })
      .send(body);

  /** Registry rows and stored files, to compare before and after. */
  async function snapshot(): Promise<string> {
    const db = service.container.db;
    const rows = await Promise.all(
      [db.projects, db.applications, db.pipelines, db.datasets, db.configs, db.images, db.models, db.files, db.users].map((store) =>
        store.list({}),
      ),
    );
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir)) {
        if (entry === ".staging" || entry === "work") continue;
        const full = path.join(dir, entry);
        if (statSync(full).isDirectory()) walk(full);
        else files.push(`${path.relative(service.filesDir, full)}:${createHash("sha256").update(readFileSync(full)).digest("hex")}`);
      }
    };
    walk(service.filesDir);
    return JSON.stringify({ rows: rows.map((list) => [...list].sort((a, b) => a.uid.localeCompare(b.uid))), files: files.sort() });
  }
  let before: string;

  beforeAll(async () => {
    service = await startTestService({ MAX_UPLOAD_BYTES: String(64 * 1024), AUTH_MAX_FAILURES_PER_ADDRESS: "100000" });
    user = await service.user({ organization: "lab" });
    stranger = await service.user({ organization: "elsewhere" });
    victim = await service.user({ organization: "lab" });
    mine = await registerAll(service, user);
    theirs = await registerAll(service, stranger);
    before = await snapshot();
  });
  afterAll(async () => {
    const counts: Record<number, number> = {};
    for (const outcome of outcomes) counts[outcome.status] = (counts[outcome.status] ?? 0) + 1;
    process.stdout.write(`abuse suite: ${outcomes.length} requests; by status ${JSON.stringify(counts)}\n`);
    await service.close();
  });

  /** Every operation the MITLab router serves, with its key. */
  const routes = () => service.container.operations.filter((op) => op.mitlabKey).map((op) => ({ key: op.mitlabKey!, schema: op.body, op }));

  test("When requests carry no credential at all, then every route answers 401 whatever the body", async () => {
    const form = multipart([
      ["name", "x"],
      ["file", Buffer.alloc(32 * 1024, 1), "f.zip"],
    ]);
    const variants: Array<[string, (key: string) => PromiseLike<{ status: number; body: unknown }>]> = [
      ["no body", (key) => service.http.post(`${API}/${key}`)],
      ["empty object", (key) => postRaw(key, "application/json", "{}")],
      ["fields without credentials", (key) => postRaw(key, "application/json", JSON.stringify({ uid: mine.project, name: "x" }))],
      ["malformed JSON", (key) => postRaw(key, "application/json", '{"uid":')],
      ["JSON array", (key) => postRaw(key, "application/json", "[1,2,3]")],
      ["deep JSON", (key) => postRaw(key, "application/json", DEEP)],
      ["huge JSON", (key) => postRaw(key, "application/json", `{"name":"${"x".repeat(1_100_000)}"}`)],
      ["text/plain", (key) => postRaw(key, "text/plain", "hello")],
      ["latin1 charset", (key) => postRaw(key, "application/json; charset=latin1", "{}")],
      ["gzip encoding", (key) => postRaw(key, "application/json", "{}", { "Content-Encoding": "gzip" })],
      ["multipart with a file", (key) => postRaw(key, form.contentType, form.body)],
      [
        "multipart cut inside the file",
        (key) =>
          postRaw(key, "multipart/form-data; boundary=B", '--B\r\nContent-Disposition: form-data; name="file"; filename="x"\r\n\r\nabc'),
      ],
      ["multipart without boundary", (key) => postRaw(key, "multipart/form-data", "junk")],
      [
        "credentials after the file",
        (key) =>
          postRaw(
            key,
            multipart([
              ["file", Buffer.from("x"), "f"],
              ["access_key", user.accessKey],
              ["secret_key", user.secretKey],
            ]).contentType,
            multipart([
              ["file", Buffer.from("x"), "f"],
              ["access_key", user.accessKey],
              ["secret_key", user.secretKey],
            ]).body,
          ),
      ],
      ["Authorization: undefined", (key) => postRaw(key, "application/json", "{}", { Authorization: "undefined" })],
      ["Bearer garbage", (key) => postRaw(key, "application/json", "{}", { Authorization: "Bearer abc" })],
    ];
    const results = await send(
      routes().flatMap((route) => variants.map(([name, go]) => ({ label: `${route.key} anonymous ${name}`, go: () => go(route.key) }))),
    );
    expect(results.filter((r) => r.status !== ANONYMOUS).map((r) => `${r.label}: ${r.status}`)).toEqual([]);
  });

  test("When credentials are wrong or malformed, then 401 or 429, never more", async () => {
    const variants: Array<[string, Record<string, string>]> = [
      ["unknown key", { "X-Access-Key": `nobody-${randomUUID()}`, "X-Secret-Key": "whatever-secret" }],
      ["wrong secret", { "X-Access-Key": victim.accessKey, "X-Secret-Key": "not-the-secret" }],
      ["key without secret", { "X-Access-Key": victim.accessKey }],
      ["huge key", { "X-Access-Key": "k".repeat(5000), "X-Secret-Key": "s" }],
      ["Basic without colon", { Authorization: `Basic ${Buffer.from("nocolon").toString("base64")}` }],
      ["Basic not base64", { Authorization: "Basic %%%%" }],
    ];
    const results = await send(
      routes().flatMap((route) =>
        variants.map(([name, headers]) => ({
          label: `${route.key} ${name}`,
          go: () => postRaw(route.key, "application/json", "{}", headers),
        })),
      ),
    );
    expect(results.filter((r) => r.status !== 401 && r.status !== 429).map((r) => `${r.label}: ${r.status}`)).toEqual([]);
  });

  test("When exactly one field of a body is bad, then the answer is a 4xx that names that field", async () => {
    const requests: Array<{ label: string; field: string; go: () => PromiseLike<{ status: number; body: unknown }> }> = [];
    for (const route of routes()) {
      const schema = route.schema as unknown as Schema;
      const base = sample(schema) as Record<string, unknown>;
      for (const [field, fieldSchema, required] of fieldsOf(schema)) {
        const mutations: Value[] = [...badValues(fieldSchema), ...(required ? [undefined] : [])];
        for (const value of mutations) {
          if (route.op.form?.file === "required") {
            if (field.includes(".") || (value !== undefined && typeof value !== "string")) continue;
            const fields = Object.entries({ ...base, [field]: value })
              .filter(([, v]) => v !== undefined)
              .map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)] as [string, string]);
            const form = multipart([...fields, ["file", Buffer.from("PK-abuse"), "a.zip"]]);
            requests.push({
              label: `${route.key} ${field}=${show(value)} (multipart)`,
              field,
              go: () => postRaw(route.key, form.contentType, form.body, { Authorization: basic(user) }),
            });
          } else {
            const body = withField(base, field, value);
            requests.push({
              label: `${route.key} ${field}=${show(value)}`,
              field,
              go: () => postRaw(route.key, "application/json", body, { Authorization: basic(user) }),
            });
          }
        }
      }
      if (route.op.paginated) {
        for (const [field, value] of [
          ["limit", 0],
          ["limit", 5000],
          ["limit", "many"],
          ["limit", -1],
          ["cursor", "garbage"],
          ["cursor", Buffer.from('["+275760-09-13T00:00:00.000Z","x"]').toString("base64url")],
        ] as Array<[string, unknown]>) {
          const body = JSON.stringify({ ...base, [field]: value });
          requests.push({
            label: `${route.key} ${field}=${show(value)}`,
            field,
            go: () => postRaw(route.key, "application/json", body, { Authorization: basic(user) }),
          });
        }
      }
    }
    const results = await send(requests);
    const wrong = results.filter((result, i) => {
      const field = requests[i]!.field;
      const named = (result.body.errors ?? []).some(
        (e) => e.field === field || field.startsWith(`${e.field}.`) || e.field.startsWith(`${field}.`),
      );
      return result.status < 400 || result.status >= 500 || !named;
    });
    expect(wrong.map((r) => `${r.label}: ${r.status} ${JSON.stringify(r.body.errors)}`)).toEqual([]);
    expect(results.length).toBeGreaterThan(1500);
  });

  test("When bodies are garbage of every shape, then 4xx, never 5xx", async () => {
    const bodies: Array<[string, string, string]> = [
      ["array", "application/json", "[]"],
      ["string", "application/json", '"x"'],
      ["number", "application/json", "7"],
      ["null", "application/json", "null"],
      ["deep object", "application/json", `${'{"a":'.repeat(3000)}1${"}".repeat(3000)}`],
      ["deep array", "application/json", DEEP],
      ["prototype pollution", "application/json", '{"__proto__":{"role":"admin"},"constructor":{"prototype":{"admin":true}},"uid":"x"}'],
      ["operator injection", "application/json", `{"uid":{"$ne":null},"f_project_uid":{"in":["a"]}}`],
      ["SQL in a uid", "application/json", `{"uid":"' OR 1=1 --","task_uid":"1; DROP TABLE \\"Task\\";"}`],
      ["NUL in a key", "application/json", '{"a\\u0000b":1}'],
      ["lone surrogate key", "application/json", '{"\\ud800":1}'],
      ["1e999", "application/json", '{"uid":1e999}'],
      ["trailing garbage", "application/json", "{}garbage"],
      ["BOM", "application/json", "\ufeff{}"],
      ["invalid UTF-8", "application/json", Buffer.from([0x7b, 0xc3, 0x28, 0x7d]).toString("latin1")],
      [
        "multipart two files",
        "multipart/form-data; boundary=Z",
        '--Z\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\n1\r\n--Z\r\nContent-Disposition: form-data; name="file"; filename="b"\r\n\r\n2\r\n--Z--\r\n',
      ],
      [
        "multipart other file part",
        "multipart/form-data; boundary=Z",
        '--Z\r\nContent-Disposition: form-data; name="evil"; filename="../../x"\r\n\r\n1\r\n--Z--\r\n',
      ],
      [
        "multipart long part name",
        "multipart/form-data; boundary=Z",
        `--Z\r\nContent-Disposition: form-data; name="${"n".repeat(400)}"\r\n\r\n1\r\n--Z--\r\n`,
      ],
      [
        "multipart long value",
        "multipart/form-data; boundary=Z",
        `--Z\r\nContent-Disposition: form-data; name="name"\r\n\r\n${"v".repeat(70_000)}\r\n--Z--\r\n`,
      ],
      [
        "multipart many parts",
        "multipart/form-data; boundary=Z",
        `${Array.from({ length: 80 }, (_, i) => `--Z\r\nContent-Disposition: form-data; name="f${i}"\r\n\r\n1\r\n`).join("")}--Z--\r\n`,
      ],
      [
        "multipart truncated",
        "multipart/form-data; boundary=Z",
        '--Z\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\n123',
      ],
      [
        "oversized file",
        "multipart/form-data; boundary=Z",
        `--Z\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\n${"x".repeat(70 * 1024)}\r\n--Z--\r\n`,
      ],
    ];
    const results = await send(
      routes().flatMap((route) =>
        bodies.map(([name, type, body]) => ({
          label: `${route.key} ${name}`,
          go: () =>
            postRaw(route.key, type, Buffer.from(body, name === "invalid UTF-8" ? "latin1" : "utf8"), { Authorization: basic(user) }),
        })),
      ),
    );
    expect(results.filter((r) => r.status < 400 || r.status >= 500).map((r) => `${r.label}: ${r.status}`)).toEqual([]);
  });

  test("When every uid field names another organization's objects, then nothing is reached: 404 (or another 4xx), never 2xx", async () => {
    const foreign = [
      theirs.project,
      theirs.application,
      theirs.pipeline,
      theirs.projectDataset,
      theirs.applicationDataset,
      theirs.config,
      theirs.model,
      ...Object.values(theirs.images),
      stranger.organizationUid,
    ];
    const requests = routes().flatMap((route) => {
      const schema = route.schema as unknown as Schema;
      const uidFields = fieldsOf(schema)
        .filter(([, s]) => s.pattern?.startsWith("^[0-9a-f]{8}"))
        .map(([field]) => field);
      if (uidFields.length === 0) return [];
      return foreign.map((uid) => {
        let body = sample(schema) as Record<string, unknown>;
        for (const field of uidFields) body = JSON.parse(withField(body, field, uid)) as Record<string, unknown>;
        if (route.op.form?.file === "required") {
          const form = multipart([
            ...(Object.entries(body).filter(([, v]) => typeof v === "string") as Array<[string, string]>),
            ["file", Buffer.from("PK"), "a.zip"],
          ]);
          return {
            label: `${route.key} with ${uid}`,
            go: () => postRaw(route.key, form.contentType, form.body, { Authorization: basic(user) }),
          };
        }
        return {
          label: `${route.key} with ${uid}`,
          go: () => postRaw(route.key, "application/json", JSON.stringify(body), { Authorization: basic(user) }),
        };
      });
    });
    const results = await send(requests);
    expect(results.filter((r) => r.status < 400 || r.status >= 500).map((r) => `${r.label}: ${r.status}`)).toEqual([]);
    expect(results.filter((r) => r.status === 404).length).toBeGreaterThan(results.length / 2);
  });

  test("When the step API gets bad credentials, task uids and bodies, then 4xx, never 5xx", async () => {
    const task = randomUUID();
    const requests = [
      ...["", "Bearer", "Bearer x", `Bearer ${"a".repeat(64)}`, "Basic abc", `Bearer ${"a".repeat(100_000)}`].flatMap((authorization) => [
        ...["dataset", "base_model", "config", "program", "..%2F..%2Fetc%2Fpasswd", "unknown"].map((input) => ({
          label: `GET input ${input} ${authorization.slice(0, 12)}`,
          go: () => service.http.get(`/api/steps/v1/tasks/${task}/inputs/${input}`).set("Authorization", authorization),
        })),
        {
          label: `PUT output ${authorization.slice(0, 12)}`,
          go: () =>
            service.http
              .put(`/api/steps/v1/tasks/${task}/output`)
              .set("Authorization", authorization)
              .send(Buffer.alloc(100 * 1024)),
        },
        {
          label: `POST metrics ${authorization.slice(0, 12)}`,
          go: () =>
            service.http
              .post(`/api/steps/v1/tasks/${task}/metrics`)
              .set({ Authorization: authorization, "Content-Type": "application/json" })
              .send(DEEP),
        },
      ]),
      ...["not-a-uid", "%00", "..", "%E0%A4%A", task.toUpperCase()].map((uid) => ({
        label: `task ${uid}`,
        go: () => service.http.get(`/api/steps/v1/tasks/${uid}/inputs/dataset`).set("Authorization", "Bearer x"),
      })),
    ];
    const results = await send(requests);
    expect(results.filter((r) => r.status < 400 || r.status >= 500).map((r) => `${r.label}: ${r.status}`)).toEqual([]);
  });

  test("At the end: more than 5,000 requests, none answered 5xx, the service still ready, and everything registered first unchanged", async () => {
    expect(outcomes.length).toBeGreaterThanOrEqual(5000);
    expect(outcomes.filter((o) => o.status >= 500).map((o) => `${o.label}: ${o.status}`)).toEqual([]);
    expect((await service.http.get("/readyz")).status).toBe(200);
    expect(await snapshot()).toBe(before);
    const wrongSecretsOfOthers = service.logs.filter((line) => line.includes(user.secretKey) || line.includes(stranger.secretKey));
    expect(wrongSecretsOfOthers).toEqual([]);
  });
});

/** Each field of an object schema, depth first, with its schema and whether it is required. */
function fieldsOf(schema: Schema, prefix = ""): Array<[string, Schema, boolean]> {
  return Object.entries(schema.properties ?? {}).flatMap(([name, child]) => {
    const field = `${prefix}${name}`;
    const required = (schema.required ?? []).includes(name);
    return [
      [field, child, required] as [string, Schema, boolean],
      ...(child.type === "object" && child.properties ? fieldsOf(child, `${field}.`) : []),
    ];
  });
}

/** A body that passes the schema: every required field with a plausible value (uids are random, so nothing exists). */
function sample(schema: Schema): unknown {
  if (schema.enum) return schema.enum[0];
  switch (schema.type) {
    case "string":
      return schema.pattern?.startsWith("^[0-9a-f]{8}") ? randomUUID() : "sample";
    case "number":
    case "integer":
      return schema.minimum ?? 1;
    case "object":
      return Object.fromEntries((schema.required ?? []).map((name) => [name, sample(schema.properties![name]!)]));
    case "array":
      return [];
    default:
      return "sample";
  }
}

/** Values the schema refuses. */
function badValues(schema: Schema): Value[] {
  if (schema.not) return ["anything"];
  if (schema.enum) return ["bogus", 1, null];
  switch (schema.type) {
    case "string": {
      const values: Value[] = [7, null, ["x"], {}, "a\u0000b", { raw: '"a\\ud800b"' }];
      if (schema.pattern) values.push("Not A Valid Value!", "../../etc/passwd");
      if (schema.pattern?.startsWith("^[0-9a-f]{8}")) values.push(`urn:uuid:${randomUUID()}`, randomUUID().toUpperCase());
      if (schema.maxLength !== undefined) values.push("x".repeat(schema.maxLength + 1));
      if (schema.minLength) values.push("");
      return values;
    }
    case "number":
    case "integer": {
      const values: Value[] = ["one", null, [], {}, { raw: "1e999" }];
      if (schema.type === "integer") values.push(1.5);
      if (schema.minimum !== undefined) values.push(schema.minimum - 1);
      if (schema.maximum !== undefined) values.push(schema.maximum + 1);
      return values;
    }
    case "object":
      return ["string", [], 1, { raw: DEEP }];
    case "array":
      return ["string", ...(schema.maxItems !== undefined ? [Array.from({ length: schema.maxItems + 1 }, () => randomUUID())] : [])];
    default:
      return [];
  }
}

/** The body as JSON text with `field` (dotted) set to `value` (removed when undefined). */
function withField(base: Record<string, unknown>, field: string, value: Value): string {
  const body = structuredClone(base);
  const parts = field.split(".");
  let target = body;
  for (const part of parts.slice(0, -1)) target = (target[part] ??= {}) as Record<string, unknown>;
  const last = parts.at(-1)!;
  if (value === undefined) {
    delete target[last];
    return JSON.stringify(body);
  }
  const raw = typeof value === "object" && value !== null && "raw" in value ? (value as { raw: string }).raw : undefined;
  target[last] = raw === undefined ? value : "__RAW__";
  const text = JSON.stringify(body);
  return raw === undefined ? text : text.replace('"__RAW__"', raw);
}

function show(value: Value): string {
  if (value === undefined) return "(missing)";
  const text = typeof value === "object" && value !== null && "raw" in value ? (value as { raw: string }).raw : JSON.stringify(value);
  return text.length > 30 ? `${text.slice(0, 27)}...` : text;
}
