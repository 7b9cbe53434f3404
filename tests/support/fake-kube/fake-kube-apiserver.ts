/**
 * A loopback fake of the Kubernetes API server, to the checklist of argo.md §15, driven by the
 * real @kubernetes/client-node: namespaced objects with resourceVersion, uid, generation and
 * generateName; optimistic concurrency (409 on a stale PUT); JSON merge patch; label and
 * `metadata.name` field selectors; watches resumed from a resourceVersion (410 when too old);
 * pod logs with container/follow/tailLines/timestamps; bearer-token auth; a request log and
 * fault injection. It is as strict as a real server: Workflows and WorkflowTemplates are pruned,
 * defaulted and validated against the openAPIV3Schema of Argo's full CRDs (422 with the API
 * server's wording), and built-in types are decoded as Kubernetes does (a Lease's MicroTimes must
 * carry exactly six fractional digits).
 */
import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { admit, crdSchema } from "./crd-admission.js";

export type KubeObject = {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name?: string;
    generateName?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    creationTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [k: string]: unknown;
  };
  [field: string]: unknown;
};

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  resource: string;
  watch: boolean;
}

interface WatchEvent {
  rv: number;
  type: "ADDED" | "MODIFIED" | "DELETED";
  resource: string;
  object: KubeObject;
}

interface Route {
  group: string;
  resource: string;
  namespace: string;
  name?: string;
  subresource?: string;
}

const KINDS: Record<string, { kind: string; apiVersion: string }> = {
  workflows: { kind: "Workflow", apiVersion: "argoproj.io/v1alpha1" },
  workflowtemplates: { kind: "WorkflowTemplate", apiVersion: "argoproj.io/v1alpha1" },
  secrets: { kind: "Secret", apiVersion: "v1" },
  configmaps: { kind: "ConfigMap", apiVersion: "v1" },
  pods: { kind: "Pod", apiVersion: "v1" },
  leases: { kind: "Lease", apiVersion: "coordination.k8s.io/v1" },
};

const EVENT_HISTORY = 2000;

export class FakeKubeApiServer extends EventEmitter {
  readonly token = `token-${randomUUID()}`;
  readonly requests: RecordedRequest[] = [];
  private readonly objects = new Map<string, KubeObject>();
  private readonly events: WatchEvent[] = [];
  private readonly watchers = new Set<{ resource: string; namespace: string; selector: (o: KubeObject) => boolean; res: ServerResponse }>();
  private readonly logs = new Map<string, { text: string; ended: boolean; emitter: EventEmitter }>();
  private lastLogNanos = 0n;
  private readonly faults: Array<{ status: number; remaining: number; match: (r: RecordedRequest) => boolean }> = [];
  private readonly holds: Array<{
    match: (r: RecordedRequest) => boolean;
    arrived: () => void;
    released: Promise<void>;
    answerLate: boolean;
  }> = [];
  private resourceVersion = 1000;
  private server = http.createServer((req, res) => void this.handle(req, res));
  url = "";

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.dropWatches();
    for (const log of this.logs.values()) log.emitter.emit("end");
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  /** A kubeconfig file for this server (token user, no TLS material: see style.md §4). */
  writeKubeconfig(): string {
    const file = path.join(os.tmpdir(), `fake-kubeconfig-${randomUUID()}.yaml`);
    writeFileSync(
      file,
      [
        "apiVersion: v1",
        "kind: Config",
        "current-context: fake",
        "clusters:",
        "- name: fake",
        "  cluster:",
        `    server: ${this.url}`,
        "    insecure-skip-tls-verify: true",
        "users:",
        "- name: fake",
        "  user:",
        `    token: ${this.token}`,
        "contexts:",
        "- name: fake",
        "  context: {cluster: fake, user: fake, namespace: argo}",
        "",
      ].join("\n"),
    );
    return file;
  }

  // ---- test controls ----

  /** The next `count` requests matching `match` answer `status` (500, 429, ...). */
  failNext(count: number, status: number, match: (r: RecordedRequest) => boolean = () => true): void {
    this.faults.push({ status, remaining: count, match });
  }

  /**
   * Holds the next request matching `match` until `release()` (a slow server); `reached` resolves
   * when it arrives. With `answerLate` the request takes effect at once and only its answer is
   * held (a slow network back): `reached` then resolves once it has taken effect.
   */
  holdNext(match: (r: RecordedRequest) => boolean, options: { answerLate?: boolean } = {}): { reached: Promise<void>; release(): void } {
    let arrived!: () => void;
    let release!: () => void;
    const reached = new Promise<void>((resolve) => (arrived = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    this.holds.push({ match, arrived, released, answerLate: options.answerLate ?? false });
    return { reached, release };
  }

  /** Ends every open watch stream, as a server restart or a proxy timeout would. */
  dropWatches(): void {
    for (const watcher of this.watchers) watcher.res.end();
    this.watchers.clear();
  }

  /** Forgets watch history, so resuming from an older resourceVersion gets 410 Gone. */
  compactHistory(): void {
    this.events.length = 0;
  }

  count(filter: Partial<RecordedRequest> & { method?: string }): number {
    return this.requests.filter((r) => Object.entries(filter).every(([k, v]) => (r as unknown as Record<string, unknown>)[k] === v)).length;
  }

  // ---- store, also used directly by the fake controller ----

  get(resource: string, namespace: string, name: string): KubeObject | undefined {
    const object = this.objects.get(key(resource, namespace, name));
    return object && structuredClone(object);
  }

  list(resource: string, namespace: string, selector: (o: KubeObject) => boolean = () => true): KubeObject[] {
    return [...this.objects.entries()]
      .filter(([k]) => k.startsWith(`${resource}/${namespace}/`))
      .map(([, o]) => structuredClone(o))
      .filter(selector);
  }

  create(resource: string, namespace: string, body: KubeObject): KubeObject {
    const object = admitted(resource, body);
    const meta = object.metadata;
    if (!meta.name && meta.generateName) meta.name = `${meta.generateName}${randomSuffix()}`;
    if (!meta.name) throw new StatusError(422, "Invalid", "metadata.name or generateName is required");
    if (this.objects.has(key(resource, namespace, meta.name)))
      throw new StatusError(409, "AlreadyExists", `${resource} "${meta.name}" already exists`);
    Object.assign(object, { ...KINDS[resource], ...object });
    meta.namespace = namespace;
    meta.uid = randomUUID();
    meta.creationTimestamp = new Date().toISOString();
    meta.generation = 1;
    if (resource === "secrets" && object.stringData) {
      object.data = Object.fromEntries(
        Object.entries(object.stringData as Record<string, string>).map(([k, v]) => [k, Buffer.from(v).toString("base64")]),
      );
      delete object.stringData;
    }
    if (resource === "pods") this.logs.delete(`${namespace}/${meta.name}`); // a new pod starts a new log
    this.write(resource, namespace, object, "ADDED");
    return structuredClone(object);
  }

  /** A PUT: refused with 409 when `resourceVersion` is stale. */
  replace(resource: string, namespace: string, name: string, body: KubeObject): KubeObject {
    const current = this.objects.get(key(resource, namespace, name));
    if (!current) throw new StatusError(404, "NotFound", `${resource} "${name}" not found`);
    if (body.metadata.resourceVersion && body.metadata.resourceVersion !== current.metadata.resourceVersion) {
      throw new StatusError(
        409,
        "Conflict",
        `Operation cannot be fulfilled on ${resource} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      );
    }
    const object = admitted(resource, body, name);
    object.metadata = {
      ...object.metadata,
      uid: current.metadata.uid,
      creationTimestamp: current.metadata.creationTimestamp,
      namespace,
      name,
    };
    if (resource === "secrets" && object.stringData) {
      object.data = Object.fromEntries(
        Object.entries(object.stringData as Record<string, string>).map(([k, v]) => [k, Buffer.from(v).toString("base64")]),
      );
      delete object.stringData;
    }
    // No status subresource on Argo's CRDs: any change but metadata bumps the generation.
    const { metadata: _a, ...restNew } = object;
    const { metadata: _b, ...restOld } = current;
    object.metadata.generation = (current.metadata.generation ?? 1) + (JSON.stringify(restNew) === JSON.stringify(restOld) ? 0 : 1);
    this.write(resource, namespace, object, "MODIFIED");
    return structuredClone(object);
  }

  mergePatch(resource: string, namespace: string, name: string, patch: unknown): KubeObject {
    const current = this.objects.get(key(resource, namespace, name));
    if (!current) throw new StatusError(404, "NotFound", `${resource} "${name}" not found`);
    const merged = mergePatch(structuredClone(current), patch) as KubeObject;
    merged.metadata.resourceVersion = current.metadata.resourceVersion;
    return this.replace(resource, namespace, name, merged);
  }

  delete(resource: string, namespace: string, name: string): KubeObject {
    const k = key(resource, namespace, name);
    const current = this.objects.get(k);
    if (!current) throw new StatusError(404, "NotFound", `${resource} "${name}" not found`);
    this.objects.delete(k);
    this.resourceVersion += 1;
    current.metadata.resourceVersion = String(this.resourceVersion);
    this.record({ rv: this.resourceVersion, type: "DELETED", resource, object: current });
    // Owner references: deleting an owner deletes what it owns (the garbage collector's job).
    for (const [otherKey, other] of [...this.objects.entries()]) {
      const owners = (other.metadata.ownerReferences as Array<{ uid: string }> | undefined) ?? [];
      if (owners.some((o) => o.uid === current.metadata.uid)) {
        const [r, ns, n] = otherKey.split("/");
        this.delete(r!, ns!, n!);
      }
    }
    if (resource === "pods") this.endLog(namespace, name);
    return current;
  }

  appendLog(namespace: string, pod: string, line: string): void {
    const log = this.logOf(namespace, pod);
    log.text += `${this.kubeletTimestamp()} ${line}\n`;
    log.emitter.emit("data");
  }

  /**
   * When a line was written, as the kubelet gives it with `timestamps=true`: Go's RFC3339Nano
   * (nanoseconds, trailing zeros trimmed). Strictly increasing, as a container runtime's are.
   */
  private kubeletTimestamp(): string {
    const now = BigInt(Date.now()) * 1_000_000n;
    this.lastLogNanos = now > this.lastLogNanos ? now : this.lastLogNanos + 1n;
    const seconds = Number(this.lastLogNanos / 1_000_000_000n);
    const fraction = String(this.lastLogNanos % 1_000_000_000n)
      .padStart(9, "0")
      .replace(/0+$/, "");
    return `${new Date(seconds * 1000).toISOString().slice(0, 19)}${fraction ? `.${fraction}` : ""}Z`;
  }

  /** The pod's container restarted: its log streams end and a fresh log starts. */
  restartContainer(namespace: string, pod: string): void {
    this.endLog(namespace, pod);
    this.logs.delete(`${namespace}/${pod}`);
  }

  /** A pod's log text (what the kubelet would have), for the fake controller's archiving. */
  logText(namespace: string, pod: string): string {
    return (this.logs.get(`${namespace}/${pod}`)?.text ?? "").replace(/^\S+ /gm, "");
  }

  endLog(namespace: string, pod: string): void {
    const log = this.logs.get(`${namespace}/${pod}`);
    if (!log) return;
    log.ended = true;
    log.emitter.emit("end");
  }

  private logOf(namespace: string, pod: string) {
    const k = `${namespace}/${pod}`;
    let log = this.logs.get(k);
    if (!log) {
      log = { text: "", ended: false, emitter: new EventEmitter() };
      log.emitter.setMaxListeners(0);
      this.logs.set(k, log);
    }
    return log;
  }

  private write(resource: string, namespace: string, object: KubeObject, type: "ADDED" | "MODIFIED"): void {
    this.resourceVersion += 1;
    object.metadata.resourceVersion = String(this.resourceVersion);
    this.objects.set(key(resource, namespace, object.metadata.name!), object);
    this.record({ rv: this.resourceVersion, type, resource, object: structuredClone(object) });
  }

  private record(event: WatchEvent): void {
    this.events.push(event);
    if (this.events.length > EVENT_HISTORY) this.events.shift();
    for (const watcher of this.watchers) {
      if (watcher.resource === event.resource && event.object.metadata.namespace === watcher.namespace && watcher.selector(event.object)) {
        watcher.res.write(`${JSON.stringify({ type: event.type, object: event.object })}\n`);
      }
    }
    this.emit("change", event);
  }

  // ---- HTTP ----

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://fake");
    const query = Object.fromEntries(url.searchParams);
    const route = parseRoute(url.pathname);
    const recorded: RecordedRequest = {
      method: req.method ?? "GET",
      path: url.pathname,
      query,
      resource: route ? `${route.resource}${route.subresource ? `/${route.subresource}` : ""}` : url.pathname,
      watch: query.watch === "true" || query.watch === "1",
    };
    this.requests.push(recorded);
    try {
      if (req.headers.authorization !== `Bearer ${this.token}`) throw new StatusError(401, "Unauthorized", "Unauthorized");
      const fault = this.faults.find((f) => f.remaining > 0 && f.match(recorded));
      if (fault) {
        fault.remaining -= 1;
        throw new StatusError(fault.status, fault.status === 429 ? "TooManyRequests" : "InternalError", `injected ${fault.status}`);
      }
      const hold = this.holds.findIndex((h) => h.match(recorded));
      if (hold >= 0) {
        const [{ arrived, released, answerLate }] = this.holds.splice(hold, 1) as [(typeof this.holds)[number]];
        if (answerLate) {
          const end = res.end.bind(res) as (...args: unknown[]) => void;
          (res as { end: (...args: unknown[]) => void }).end = (...args: unknown[]) => {
            arrived();
            void released.then(() => end(...args));
          };
        } else {
          arrived();
          await released;
        }
      }
      if (!route || !KINDS[route.resource])
        throw new StatusError(404, "NotFound", `the server could not find the requested resource ${url.pathname}`);
      const body = ["POST", "PUT", "PATCH"].includes(recorded.method) ? await readJson(req) : undefined;
      await this.serve(route, recorded, query, body, req, res);
    } catch (error) {
      const status = error instanceof StatusError ? error : new StatusError(500, "InternalError", (error as Error).message);
      if (res.headersSent) {
        res.end();
        return;
      }
      res.writeHead(status.code, { "Content-Type": "application/json" });
      res.end(
        JSON.stringify({
          kind: "Status",
          apiVersion: "v1",
          status: "Failure",
          message: status.message,
          reason: status.reason,
          code: status.code,
        }),
      );
    }
  }

  private async serve(
    route: Route,
    request: RecordedRequest,
    query: Record<string, string>,
    body: KubeObject | undefined,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    const { resource, namespace, name } = route;
    const json = (status: number, payload: unknown) => {
      res.writeHead(status, { "Content-Type": "application/json" });
      res.end(JSON.stringify(payload));
    };
    if (route.subresource === "log") return this.serveLog(namespace, name!, query, req, res);
    switch (request.method) {
      case "GET": {
        if (name) {
          const object = this.get(resource, namespace, name);
          if (!object) throw new StatusError(404, "NotFound", `${resource} "${name}" not found`);
          return json(200, object);
        }
        const selector = selectorOf(query.labelSelector, query.fieldSelector);
        if (request.watch) return this.serveWatch(resource, namespace, selector, query.resourceVersion, req, res);
        return json(200, {
          apiVersion: "v1",
          kind: "List",
          metadata: { resourceVersion: String(this.resourceVersion) },
          items: this.list(resource, namespace, selector),
        });
      }
      case "POST":
        return json(201, this.create(resource, namespace, body!));
      case "PUT":
        return json(200, this.replace(resource, namespace, name!, body!));
      case "PATCH":
        if (!String(req.headers["content-type"]).includes("merge-patch"))
          throw new StatusError(415, "UnsupportedMediaType", "only application/merge-patch+json is served");
        return json(200, this.mergePatch(resource, namespace, name!, body));
      case "DELETE":
        return json(200, this.delete(resource, namespace, name!));
      default:
        throw new StatusError(405, "MethodNotAllowed", request.method);
    }
  }

  private serveWatch(
    resource: string,
    namespace: string,
    selector: (o: KubeObject) => boolean,
    from: string | undefined,
    req: IncomingMessage,
    res: ServerResponse,
  ): void {
    res.writeHead(200, { "Content-Type": "application/json", "Transfer-Encoding": "chunked" });
    res.flushHeaders();
    const since = from ? Number(from) : this.resourceVersion;
    const oldest = this.events[0]?.rv ?? this.resourceVersion + 1;
    if (from && since < oldest - 1 && since < this.resourceVersion) {
      res.end(
        `${JSON.stringify({ type: "ERROR", object: { kind: "Status", apiVersion: "v1", status: "Failure", message: `too old resource version: ${since} (${oldest})`, reason: "Expired", code: 410 } })}\n`,
      );
      return;
    }
    for (const event of this.events) {
      if (event.rv > since && event.resource === resource && event.object.metadata.namespace === namespace && selector(event.object)) {
        res.write(`${JSON.stringify({ type: event.type, object: event.object })}\n`);
      }
    }
    const watcher = { resource, namespace, selector, res };
    this.watchers.add(watcher);
    req.on("close", () => this.watchers.delete(watcher));
  }

  private serveLog(namespace: string, pod: string, query: Record<string, string>, req: IncomingMessage, res: ServerResponse): void {
    const object = this.get("pods", namespace, pod);
    if (!object) throw new StatusError(404, "NotFound", `pods "${pod}" not found`);
    const containers = ((object.spec as { containers?: Array<{ name: string }> })?.containers ?? []).map((c) => c.name);
    if (containers.length > 1 && !query.container) {
      throw new StatusError(
        400,
        "BadRequest",
        `a container name must be specified for pod ${pod}, choose one of: [${containers.join(" ")}]`,
      );
    }
    if (query.container && !containers.includes(query.container))
      throw new StatusError(400, "BadRequest", `container ${query.container} is not valid for pod ${pod}`);
    const log = this.logOf(namespace, pod);
    const render = (text: string) => (query.timestamps === "true" ? text : text.replace(/^\S+ /gm, ""));
    let text = log.text;
    if (query.tailLines !== undefined) {
      const lines = text.split("\n").filter(Boolean);
      text = lines
        .slice(Math.max(0, lines.length - Number(query.tailLines)))
        .map((l) => `${l}\n`)
        .join("");
    }
    res.writeHead(200, { "Content-Type": "text/plain", "Transfer-Encoding": "chunked" });
    res.flushHeaders();
    if (text) res.write(render(text));
    if (query.follow !== "true" || log.ended) {
      res.end();
      return;
    }
    let sent = log.text.length;
    const onData = () => {
      res.write(render(log.text.slice(sent)));
      sent = log.text.length;
    };
    const onEnd = () => {
      log.emitter.off("data", onData);
      res.end();
    };
    log.emitter.on("data", onData);
    log.emitter.once("end", onEnd);
    req.on("close", () => {
      log.emitter.off("data", onData);
      log.emitter.off("end", onEnd);
    });
  }
}

class StatusError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The object as a real API server would store it: custom resources pruned, defaulted and
 * validated against their CRD (422 otherwise), built-in types decoded as strictly as Go does.
 */
function admitted(resource: string, body: KubeObject, name = body.metadata?.name ?? body.metadata?.generateName ?? ""): KubeObject {
  if (resource === "workflows" || resource === "workflowtemplates") {
    const { object, problems } = admit(crdSchema(resource), body);
    if (problems.length) {
      const detail = problems.length === 1 ? problems[0] : `[${problems.join(", ")}]`;
      throw new StatusError(422, "Invalid", `${KINDS[resource]!.kind}.argoproj.io "${name}" is invalid: ${detail}`);
    }
    return object as KubeObject;
  }
  if (resource === "leases") decodeLease(body);
  if (resource === "configmaps") decodeConfigMap(body, name);
  return structuredClone(body);
}

/** A ConfigMap as Go decodes it: `data` is map[string]string, keys are config keys, and the whole is at most 1 MiB. */
function decodeConfigMap(body: KubeObject, name: string): void {
  const data = (body.data ?? {}) as Record<string, unknown>;
  for (const [key, value] of Object.entries(data)) {
    if (typeof value !== "string")
      throw new StatusError(
        400,
        "BadRequest",
        `ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal ${typeof value} into Go struct field ConfigMap.data of type string`,
      );
    if (!/^[-._a-zA-Z0-9]{1,253}$/.test(key))
      throw new StatusError(
        422,
        "Invalid",
        `ConfigMap "${name}" is invalid: data[${key}]: Invalid value: "${key}": a valid config key must consist of alphanumeric characters, '-', '_' or '.'`,
      );
  }
  const size = Object.entries(data).reduce((total, [key, value]) => total + key.length + Buffer.byteLength(String(value)), 0);
  if (size > 1024 * 1024)
    throw new StatusError(422, "Invalid", `ConfigMap "${name}" is invalid: []: Too long: must have at most 1048576 bytes`);
}

/** Go's layout for metav1.MicroTime (RFC 3339 with exactly microseconds), which a Lease's times must follow. */
const MICRO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}(Z|[+-]\d{2}:\d{2})$/;

function decodeLease(body: KubeObject): void {
  const spec = (body.spec ?? {}) as Record<string, unknown>;
  for (const field of ["acquireTime", "renewTime"]) {
    const value = spec[field];
    if (value === undefined || value === null) continue;
    if (typeof value !== "string" || !MICRO_TIME.test(value)) {
      const text = String(value);
      const fraction = /\.(\d*)(.*)$/.exec(text);
      const cause = fraction
        ? `cannot parse ".${fraction[1]}${fraction[2]}" as ".000000"`
        : `cannot parse "${text.slice(19)}" as ".000000"`;
      throw new StatusError(
        400,
        "BadRequest",
        `Lease in version "v1" cannot be handled as a Lease: parsing time "${text}" as "2006-01-02T15:04:05.000000Z07:00": ${cause}`,
      );
    }
  }
}

function key(resource: string, namespace: string, name: string): string {
  return `${resource}/${namespace}/${name}`;
}

function parseRoute(pathname: string): Route | undefined {
  const core = /^\/api\/v1\/namespaces\/([^/]+)\/([^/]+)(?:\/([^/]+))?(?:\/([^/]+))?$/.exec(pathname);
  if (core)
    return {
      group: "",
      namespace: core[1]!,
      resource: core[2]!,
      ...(core[3] ? { name: core[3] } : {}),
      ...(core[4] ? { subresource: core[4] } : {}),
    };
  const grouped = /^\/apis\/([^/]+)\/([^/]+)\/namespaces\/([^/]+)\/([^/]+)(?:\/([^/]+))?$/.exec(pathname);
  if (grouped) return { group: grouped[1]!, namespace: grouped[3]!, resource: grouped[4]!, ...(grouped[5] ? { name: grouped[5] } : {}) };
  return undefined;
}

/** Label selectors with `=`, `==`, `!=`, `key` (exists) and `!key`; field selector metadata.name. */
function selectorOf(labelSelector?: string, fieldSelector?: string): (o: KubeObject) => boolean {
  const checks: Array<(o: KubeObject) => boolean> = [];
  for (const term of (labelSelector ?? "")
    .split(",")
    .map((t) => t.trim())
    .filter(Boolean)) {
    const labels = (o: KubeObject) => o.metadata.labels ?? {};
    let m: RegExpExecArray | null;
    if ((m = /^([^!=]+)!=(.*)$/.exec(term))) {
      const [, k, v] = m;
      checks.push((o) => labels(o)[k!.trim()] !== v!.trim());
    } else if ((m = /^([^!=]+)==?(.*)$/.exec(term))) {
      const [, k, v] = m;
      checks.push((o) => labels(o)[k!.trim()] === v!.trim());
    } else if (term.startsWith("!")) checks.push((o) => !(term.slice(1) in labels(o)));
    else checks.push((o) => term in labels(o));
  }
  for (const term of (fieldSelector ?? "").split(",").filter(Boolean)) {
    const [field, value] = term.split("=");
    if (field !== "metadata.name") throw new StatusError(400, "BadRequest", `field label not supported: ${field}`);
    checks.push((o) => o.metadata.name === value);
  }
  return (o) => checks.every((check) => check(o));
}

function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== "object" || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    target && typeof target === "object" && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function randomSuffix(): string {
  const alphabet = "bcdfghjklmnpqrstvwxz2456789";
  return Array.from({ length: 5 }, () => alphabet[Math.floor(Math.random() * alphabet.length)]).join("");
}

async function readJson(req: IncomingMessage): Promise<KubeObject> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8")) as KubeObject;
  } catch {
    throw new StatusError(400, "BadRequest", "invalid JSON body");
  }
}
