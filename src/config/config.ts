/**
 * The service's whole configuration: one pure, typed function of the environment. Every
 * variable is read here and nowhere else; all problems are reported at once. Over 300 lines on
 * purpose: each setting is declared once, with its documentation, default and check, in one place.
 */
import type { WebhookRelaySettings } from "../domain/webhooks/webhook-relay.js";
import { QUANTITY } from "../lib/patterns.js";

export interface AppConfig {
  http: { host: string; port: number; trustProxy: boolean; shutdownTimeoutSeconds: number };
  database: { url: string; provider: "sqlite" | "postgresql"; poolSize: number };
  objectStore:
    | { kind: "filesystem"; dir: string }
    | {
        kind: "s3";
        endpoint: string;
        port: number;
        useSSL: boolean;
        accessKey: string;
        secretKey: string;
        bucket: string;
        region: string;
        pathStyle: boolean;
        publicUrl: string | undefined;
      };
  uploads: { maxBytes: number };
  api: { versions: string[] };
  timeOffsetMinutes: number;
  auth: {
    bcryptCost: number;
    cacheTtlSeconds: number;
    /** A cached pair is served without reading its user for this long. */
    cacheRecheckSeconds: number;
    cacheMaxEntries: number;
    maxFailuresPerKey: number;
    maxFailuresPerKeyTotal: number;
    maxFailuresPerAddress: number;
    failureWindowSeconds: number;
  };
  sessions: { cookieName: string; idleSeconds: number; maxSeconds: number };
  /** Browser origins besides the service's own that may call it (`*`: any, without credentials). */
  corsOrigins: string[];
  signup: { enabled: boolean; joinOrganization: string | undefined };
  log: { level: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent" };
  tasks: {
    engine: "local" | "argo";
    /** Base URL of the step API as the steps reach it; unset: this process's own address. */
    stepApiUrl: string | undefined;
    stepTokenTtlSeconds: number;
    defaultResources: { cpu: string; memory: string; gpu: number };
    idempotencyTtlSeconds: number;
    /** Runs handed to the engine at once, and submissions waiting beyond those before a submit waits for room. */
    dispatch: { concurrency: number; capacity: number; strandedAfterSeconds: number };
  };
  /** Metric history a running step reports. */
  metricHistory: { maxPointsPerTask: number; maxPointsPerReport: number };
  /** Expiring download links (Prediction One's result_url / download_url). */
  links: { signingKey: string | undefined; ttlSeconds: number; presigned: boolean };
  /** Prometheus metrics: off unless a token (for /metrics on the service's port) or a port of their own is set. */
  metrics: { token: string | undefined; port: number | undefined; host: string };
  /** Deliveries of task status changes to the webhooks admins register. */
  webhooks: WebhookRelaySettings;
  logs: {
    maxJsonBytesPerStep: number;
    followMaxQueueBytes: number;
    followStallSeconds: number;
    followKeepAliveSeconds: number;
    /** Argo's artifact repository, where archived step logs are read (unset: no archive reads). */
    archive:
      { endpoint: string; port: number; useSSL: boolean; accessKey: string; secretKey: string; bucket: string; region: string } | undefined;
  };
  argo: {
    namespace: string;
    kubeconfigPath: string | undefined;
    /** Running in a pod (Kubernetes sets KUBERNETES_SERVICE_HOST): use its service account. */
    inCluster: boolean;
    stepImage: string;
    imageRegistry: string;
    /** A kubernetes.io/dockerconfigjson Secret with push rights to imageRegistry, mounted into image builds. */
    registrySecret: string;
    builderImage: string;
    templatePrefix: string;
    leaseName: string;
    leaseSeconds: number;
    leaseRenewSeconds: number;
    /** This replica's name in the Lease; unset: the host name and a random suffix, chosen at start. */
    identity: string | undefined;
    requestTimeoutSeconds: number;
    retryAttempts: number;
  };
  local: {
    workDir: string;
    concurrency: number;
    downloadCommand: string[] | undefined;
    uploadCommand: string[] | undefined;
    stopGraceSeconds: number;
    sandbox: "auto" | "require" | "off";
  };
}

function minimumLength(name: string, secret: string | undefined, length: number, problems: string[]): string | undefined {
  if (secret !== undefined && secret.length < length) problems.push(`${name} must be at least ${length} characters`);
  return secret;
}

function httpUrl(name: string, value: string | undefined, problems: string[]): string | undefined {
  if (value === undefined) return undefined;
  const parsed = URL.canParse(value) ? new URL(value) : undefined;
  if (!parsed || !["http:", "https:"].includes(parsed.protocol) || parsed.pathname !== "/")
    problems.push(`${name} must be an http(s) URL of a host, without a path (got "${value}")`);
  return value;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join("\n  - ")}`);
  }
}

/** The versions the original clients sent (v0.1 in 2024, v1.1.x in the GitBook and SDK, v1.2.x in 2025). */
const DEFAULT_API_VERSIONS = [
  "v0.1",
  "v1.1.1",
  "v1.1.2",
  "v1.1.3",
  "v1.1.4",
  "v1.1.5",
  "v1.1.6",
  "v1.1.7",
  "v1.1.8",
  "v1.2.0",
  "v1.2.1",
  "v1.2.2",
  "v1.2.3",
  "v1.2.4",
];

/** S3's limit for one PUT. */
const S3_SINGLE_PUT_LIMIT = 5 * 1024 ** 3;

type Env = Record<string, string | undefined>;

export function loadConfig(env: Env): AppConfig {
  const problems: string[] = [];
  const read = new Reader(env, problems);

  const objectStoreKind = read.oneOf("OBJECT_STORE", ["filesystem", "s3"], "filesystem");
  const config: AppConfig = {
    http: {
      /** Address to listen on. */
      host: read.string("HOST", "0.0.0.0"),
      /** Port to listen on; 0 picks a free one. */
      port: read.integer("PORT", 8080, 0, 65535),
      /** Trust X-Forwarded-For from one proxy hop (behind an ingress). */
      trustProxy: read.boolean("TRUST_PROXY", false),
      /** How long shutdown waits for open requests. */
      shutdownTimeoutSeconds: read.integer("SHUTDOWN_TIMEOUT_SECONDS", 20, 1, 600),
    },
    database: {
      ...databaseOf(read.string("DATABASE_URL", "file:./data/argo-entrypoint.db"), problems),
      /** Connections to PostgreSQL (SQLite has one): concurrent requests beyond it queue for one. */
      poolSize: read.integer("DATABASE_POOL_SIZE", 16, 1, 1000),
    },
    objectStore:
      objectStoreKind === "s3"
        ? {
            kind: "s3",
            endpoint: read.required("S3_ENDPOINT"),
            port: read.integer("S3_PORT", 9000, 1, 65535),
            useSSL: read.boolean("S3_USE_SSL", false),
            accessKey: read.required("S3_ACCESS_KEY"),
            secretKey: read.required("S3_SECRET_KEY"),
            bucket: read.string("S3_BUCKET", "argo-entrypoint"),
            region: read.string("S3_REGION", "us-east-1"),
            pathStyle: read.boolean("S3_PATH_STYLE", true),
            publicUrl: httpUrl("S3_PUBLIC_URL", read.optional("S3_PUBLIC_URL"), problems),
          }
        : { kind: "filesystem", dir: read.string("FILES_DIR", "./data/files") },
    uploads: {
      /** Largest accepted upload; larger ones get 413. Accepts 1024, 512MiB, 2GiB. */
      maxBytes: read.bytes("MAX_UPLOAD_BYTES", 2 * 1024 ** 3),
    },
    api: { versions: read.list("API_VERSIONS", DEFAULT_API_VERSIONS) },
    /** Offset shown in timestamps, like the original's +08:00. */
    timeOffsetMinutes: read.offset("TIME_ZONE_OFFSET", "+00:00"),
    auth: {
      bcryptCost: read.integer("BCRYPT_COST", 12, 4, 15),
      /** How long a verified access/secret pair skips bcrypt; 0 turns the cache off. */
      cacheTtlSeconds: read.integer("AUTH_CACHE_TTL_SECONDS", 60, 0, 3600),
      cacheMaxEntries: read.integer("AUTH_CACHE_MAX_ENTRIES", 10_000, 1, 1_000_000),
      cacheRecheckSeconds: read.integer("AUTH_CACHE_RECHECK_SECONDS", 5, 0, 3600),
      /** Failed sign-ins per access key from one client address before 429 until the window ends. */
      maxFailuresPerKey: read.integer("AUTH_MAX_FAILURES_PER_KEY", 10, 1, 10_000),
      /** Failed sign-ins per access key from all addresses together (distributed guessing). */
      maxFailuresPerKeyTotal: read.integer("AUTH_MAX_FAILURES_PER_KEY_TOTAL", 100, 1, 100_000),
      /** Failed sign-ins with access keys that do not exist, per client address (valid users behind it are never blocked). */
      maxFailuresPerAddress: read.integer("AUTH_MAX_FAILURES_PER_ADDRESS", 100, 1, 100_000),
      failureWindowSeconds: read.integer("AUTH_FAILURE_WINDOW_SECONDS", 300, 1, 86_400),
    },
    sessions: {
      /** The HttpOnly cookie of a browser session (not `auth_token`: the lab's dashboard overwrites that one). */
      cookieName: read.string("SESSION_COOKIE_NAME", "argo_entrypoint_session"),
      /** A session unused this long ends. */
      idleSeconds: read.integer("SESSION_IDLE_SECONDS", 8 * 3600, 60, 30 * 24 * 3600),
      /** A session ends this long after sign-in, however active. */
      maxSeconds: read.integer("SESSION_MAX_SECONDS", 7 * 24 * 3600, 60, 90 * 24 * 3600),
    },
    corsOrigins: read.list("CORS_ORIGINS", []),
    signup: {
      /** `AccountValidator/signup` creates members; off unless enabled. */
      enabled: read.boolean("SIGNUP_ENABLED", false),
      /** Sign-ups join this organization (created if missing); unset: each names a new one. */
      joinOrganization: read.optional("SIGNUP_ORGANIZATION"),
    },
    log: { level: read.oneOf("LOG_LEVEL", ["fatal", "error", "warn", "info", "debug", "trace", "silent"], "info") },
    tasks: {
      /** `local` runs steps as host processes; `argo` submits Argo Workflows. */
      engine: read.oneOf("ENGINE", ["local", "argo"], "local"),
      stepApiUrl: read.optional("STEP_API_URL"),
      /** Longest a step credential lives; it also ends when its task ends. */
      stepTokenTtlSeconds: read.integer("STEP_TOKEN_TTL_SECONDS", 7 * 24 * 3600, 60, 90 * 24 * 3600),
      /** How long an Idempotency-Key is remembered (a repeat after that is a new submission). */
      idempotencyTtlSeconds: read.integer("IDEMPOTENCY_TTL_SECONDS", 24 * 3600, 60, 90 * 24 * 3600),
      dispatch: {
        concurrency: read.integer("DISPATCH_CONCURRENCY", 8, 1, 256),
        capacity: read.integer("DISPATCH_QUEUE_CAPACITY", 10_000, 1, 1_000_000),
        /** On a cluster: a task still `init` this long after its last write was never handed over; the leader dispatches it. */
        strandedAfterSeconds: read.integer("DISPATCH_STRANDED_SECONDS", 30, 1, 3600),
      },
      defaultResources: {
        cpu: read.quantity("STEP_CPU", "500m"),
        memory: read.quantity("STEP_MEMORY", "4000Mi"),
        gpu: read.integer("STEP_GPU", 0, 0, 16),
      },
    },
    argo: {
      /** Namespace of the Workflows, their Secrets and pods, and the leader Lease. */
      namespace: read.string("ARGO_NAMESPACE", "default"),
      /** Unset: the in-cluster service account, else ~/.kube/config. */
      kubeconfigPath: read.optional("KUBECONFIG"),
      inCluster: read.optional("KUBERNETES_SERVICE_HOST") !== undefined,
      /** Image of the built-in download and upload steps (this service's image). */
      stepImage: read.string("STEP_IMAGE", "argo-entrypoint:latest"),
      /** Registry of images built from build files without an image_reference (`<registry>/step-image:<sha256>`). */
      imageRegistry: read.string("IMAGE_REGISTRY", "registry.local/argo-entrypoint"),
      registrySecret: read.string("IMAGE_REGISTRY_SECRET", "argo-entrypoint-registry"),
      /** Rootless BuildKit (buildctl-daemonless.sh must be in it). */
      builderImage: read.string("BUILDER_IMAGE", "moby/buildkit:v0.16.0-rootless"),
      templatePrefix: read.string("WORKFLOW_TEMPLATE_PREFIX", "argo-entrypoint-"),
      leaseName: read.string("LEADER_LEASE_NAME", "argo-entrypoint-leader"),
      /** Another replica takes over when the holder has not renewed for this long. */
      leaseSeconds: read.integer("LEADER_LEASE_SECONDS", 15, 1, 600),
      leaseRenewSeconds: read.integer("LEADER_LEASE_RENEW_SECONDS", 5, 1, 300),
      /** This replica's name in the Lease (the pod name in Kubernetes). */
      identity: read.optional("POD_NAME") ?? read.optional("HOSTNAME"),
      requestTimeoutSeconds: read.integer("KUBE_REQUEST_TIMEOUT_SECONDS", 30, 1, 300),
      retryAttempts: read.integer("KUBE_RETRY_ATTEMPTS", 5, 1, 20),
    },
    metricHistory: {
      maxPointsPerTask: read.integer("METRIC_POINTS_PER_TASK", 100_000, 1, 10_000_000),
      maxPointsPerReport: read.integer("METRIC_POINTS_PER_REPORT", 1000, 1, 100_000),
    },
    links: {
      /** Shared by every replica so each opens the others' links; unset: a random key per process. */
      signingKey: minimumLength("LINK_SIGNING_KEY", read.optional("LINK_SIGNING_KEY"), 32, problems),
      ttlSeconds: read.integer("LINK_TTL_SECONDS", 3600, 10, 7 * 86_400),
      /** On an S3 store, links are the bucket's presigned URLs (the download bypasses the service); off: always the service's. */
      presigned: read.boolean("S3_PRESIGNED_LINKS", true),
    },
    metrics: {
      /** A bearer token /metrics on the service's port requires; unset: no /metrics there. */
      token: minimumLength("METRICS_TOKEN", read.optional("METRICS_TOKEN"), 16, problems),
      /** A port of their own (no token; for a scraper inside the cluster); unset: none. */
      port: read.optional("METRICS_PORT") === undefined ? undefined : read.integer("METRICS_PORT", 9464, 1, 65535),
      host: read.string("METRICS_HOST", "0.0.0.0"),
    },
    webhooks: {
      pollMs: read.integer("WEBHOOK_POLL_MS", 1000, 10, 60_000),
      timeoutSeconds: read.integer("WEBHOOK_TIMEOUT_SECONDS", 10, 1, 120),
      maxAttempts: read.integer("WEBHOOK_MAX_ATTEMPTS", 8, 1, 50),
      retryBaseMs: read.integer("WEBHOOK_RETRY_BASE_MS", 10_000, 10, 3_600_000),
      retryMaxMs: read.integer("WEBHOOK_RETRY_MAX_MS", 3_600_000, 10, 86_400_000),
      disableAfterFailures: read.integer("WEBHOOK_DISABLE_AFTER_FAILURES", 25, 1, 10_000),
      concurrency: read.integer("WEBHOOK_CONCURRENCY", 4, 1, 64),
    },
    logs: {
      /** Cap of each step's text in the JSON log route; the rest is in the download. */
      maxJsonBytesPerStep: read.bytes("LOG_JSON_MAX_BYTES_PER_STEP", 1024 ** 2),
      /** Bytes queued for a log follower before its step's upstream waits for it. */
      followMaxQueueBytes: read.bytes("LOG_FOLLOW_MAX_QUEUE_BYTES", 1024 ** 2),
      /** How long a follower that reads nothing may keep its step's upstream waiting before it alone is disconnected. */
      followStallSeconds: read.integer("LOG_FOLLOW_STALL_SECONDS", 30, 1, 3600),
      followKeepAliveSeconds: read.integer("LOG_FOLLOW_KEEPALIVE_SECONDS", 15, 1, 300),
      archive:
        read.optional("ARCHIVE_S3_ENDPOINT") === undefined
          ? undefined
          : {
              endpoint: read.required("ARCHIVE_S3_ENDPOINT"),
              port: read.integer("ARCHIVE_S3_PORT", 9000, 1, 65535),
              useSSL: read.boolean("ARCHIVE_S3_USE_SSL", false),
              accessKey: read.required("ARCHIVE_S3_ACCESS_KEY"),
              secretKey: read.required("ARCHIVE_S3_SECRET_KEY"),
              /** Used when a Workflow's status names no bucket. */
              bucket: read.string("ARCHIVE_S3_BUCKET", "argo-artifacts"),
              region: read.string("ARCHIVE_S3_REGION", "us-east-1"),
            },
    },
    local: {
      workDir: read.string("WORK_DIR", "./data/work"),
      /** Tasks the local engine runs at once; the rest wait in order. */
      concurrency: read.integer("LOCAL_CONCURRENCY", 2, 1, 64),
      /** Replace the built-in download/upload steps (a command line, split on spaces). */
      downloadCommand: read.command("LOCAL_DOWNLOAD_COMMAND"),
      uploadCommand: read.command("LOCAL_UPLOAD_COMMAND"),
      stopGraceSeconds: read.integer("LOCAL_STOP_GRACE_SECONDS", 5, 0, 600),
      /** Confine steps with bubblewrap: `auto` when it is installed, `require` refuses to start without it, `off` never. */
      sandbox: read.oneOf("LOCAL_SANDBOX", ["auto", "require", "off"], "auto"),
    },
  };
  if (config.tasks.engine === "argo" && !config.tasks.stepApiUrl)
    problems.push("STEP_API_URL is required with ENGINE=argo (the service's address as pods reach it)");
  if (config.objectStore.kind === "s3" && config.uploads.maxBytes > S3_SINGLE_PUT_LIMIT) {
    problems.push("MAX_UPLOAD_BYTES must be at most 5GiB with OBJECT_STORE=s3 (objects are sent as one streamed PUT)");
  }
  for (const origin of config.corsOrigins)
    if (origin !== "*" && !/^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/.test(origin))
      problems.push(`CORS_ORIGINS entries must be origins like https://dashboard.example.org (no path) or * (got "${origin}")`);
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(config.sessions.cookieName))
    problems.push(`SESSION_COOKIE_NAME must be 1-64 letters, digits, _ or - (got "${config.sessions.cookieName}")`);
  if (config.sessions.cookieName === "auth_token")
    problems.push("SESSION_COOKIE_NAME must not be auth_token: the lab's dashboard overwrites that cookie after sign-in");
  if (problems.length) throw new ConfigError(problems);
  return config;
}

function databaseOf(url: string, problems: string[]): Omit<AppConfig["database"], "poolSize"> {
  if (url.startsWith("file:")) return { url, provider: "sqlite" };
  if (/^postgres(ql)?:\/\//.test(url)) return { url, provider: "postgresql" };
  problems.push("DATABASE_URL must start with file: or postgresql://");
  return { url, provider: "sqlite" };
}

/** What may be logged: an allowlist, so a new secret setting can never leak by default. */
export function presentConfig(config: AppConfig): Record<string, unknown> {
  const store = config.objectStore;
  return {
    http: config.http,
    database: {
      provider: config.database.provider,
      ...(config.database.provider === "postgresql" ? { poolSize: config.database.poolSize } : {}),
    },
    objectStore: store.kind === "s3" ? { kind: store.kind, endpoint: store.endpoint, port: store.port, bucket: store.bucket } : store,
    uploads: config.uploads,
    api: config.api,
    timeOffsetMinutes: config.timeOffsetMinutes,
    auth: { bcryptCost: config.auth.bcryptCost, cacheTtlSeconds: config.auth.cacheTtlSeconds },
    log: config.log,
    tasks: config.tasks,
    argo:
      config.tasks.engine === "argo"
        ? { namespace: config.argo.namespace, templatePrefix: config.argo.templatePrefix, stepImage: config.argo.stepImage }
        : undefined,
    local: { workDir: config.local.workDir, concurrency: config.local.concurrency, sandbox: config.local.sandbox },
    metrics: { token: config.metrics.token ? "[set]" : undefined, port: config.metrics.port },
    webhooks: config.webhooks,
  };
}

class Reader {
  constructor(
    private readonly env: Env,
    private readonly problems: string[],
  ) {}

  private raw(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === "" ? undefined : value.trim();
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  optional(name: string): string | undefined {
    return this.raw(name);
  }

  command(name: string): string[] | undefined {
    return this.raw(name)?.split(/\s+/);
  }

  quantity(name: string, fallback: string): string {
    const value = this.raw(name) ?? fallback;
    if (!QUANTITY.test(value)) {
      this.problems.push(`${name} must be a Kubernetes quantity such as 500m, 2, 4000Mi or 8Gi (got "${value}")`);
    }
    return value;
  }

  required(name: string): string {
    const value = this.raw(name);
    if (value === undefined) this.problems.push(`${name} is required`);
    return value ?? "";
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
      this.problems.push(`${name} must be an integer from ${min} to ${max} (got "${value}")`);
      return fallback;
    }
    return parsed;
  }

  boolean(name: string, fallback: boolean): boolean {
    const value = this.raw(name)?.toLowerCase();
    if (value === undefined) return fallback;
    if (["true", "1", "yes"].includes(value)) return true;
    if (["false", "0", "no"].includes(value)) return false;
    this.problems.push(`${name} must be true or false (got "${value}")`);
    return fallback;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if ((allowed as readonly string[]).includes(value)) return value as T;
    this.problems.push(`${name} must be one of ${allowed.join(", ")} (got "${value}")`);
    return fallback;
  }

  list(name: string, fallback: string[]): string[] {
    const value = this.raw(name);
    return value === undefined
      ? fallback
      : value
          .split(",")
          .map((v) => v.trim())
          .filter(Boolean);
  }

  bytes(name: string, fallback: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const match = /^(\d+)\s*(|B|KiB|MiB|GiB|TiB)$/i.exec(value);
    const units: Record<string, number> = { "": 1, b: 1, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4 };
    if (!match || Number(match[1]) <= 0) {
      this.problems.push(`${name} must be a positive size such as 1048576, 512MiB or 2GiB (got "${value}")`);
      return fallback;
    }
    return Number(match[1]) * units[match[2]!.toLowerCase()]!;
  }

  offset(name: string, fallback: string): number {
    const value = this.raw(name) ?? fallback;
    const match = /^([+-])(\d{2}):(\d{2})$/.exec(value);
    if (!match || Number(match[2]) > 14 || Number(match[3]) > 59) {
      this.problems.push(`${name} must look like +08:00 or -05:30 (got "${value}")`);
      return 0;
    }
    return (match[1] === "-" ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3]));
  }
}
