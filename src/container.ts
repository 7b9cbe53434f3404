/**
 * The composition root: the only module that picks adapters and wires them to the domain, in the
 * order they need each other (the engine side is in engines.ts).
 */
import { applyMigrations } from "./adapters/db/migrator.js";
import { createPrismaClient, PrismaDatabase } from "./adapters/db/prisma-database.js";
import { FilesystemObjectStore } from "./adapters/object-store/filesystem-object-store.js";
import { MinioObjectStore } from "./adapters/object-store/minio-object-store.js";
import { BcryptHasher } from "./adapters/security/bcrypt-hasher.js";
import { randomIds } from "./adapters/security/random-ids.js";
import type { AppConfig } from "./config/config.js";
import { AccountService } from "./domain/auth/account-service.js";
import { CredentialVerifier } from "./domain/auth/credential-verifier.js";
import { FailureThrottle } from "./domain/auth/failure-throttle.js";
import { systemClock, type Clock } from "./domain/clock.js";
import { Housekeeping } from "./domain/housekeeping.js";
import { LogFanout } from "./domain/logs/log-fanout.js";
import { LogFollower } from "./domain/logs/log-follower.js";
import { firstAvailable } from "./domain/logs/log-source.js";
import { LogService } from "./domain/logs/log-service.js";
import type { Database, Logger, ObjectStore } from "./domain/ports.js";
import { PreparerService } from "./domain/registry/preparer-service.js";
import { DatasetRegistry } from "./domain/registry/dataset-registry.js";
import { ModelRegistry } from "./domain/registry/model-registry.js";
import { RegistryService } from "./domain/registry/registry-service.js";
import { ProgressRecorder } from "./domain/tasks/progress-recorder.js";
import { StepAccess } from "./domain/tasks/step-access.js";
import { AgentRegistry } from "./domain/registry/agent-registry.js";
import { AttachmentRegistry } from "./domain/registry/attachment-registry.js";
import { Authenticator } from "./domain/auth/authenticator.js";
import { SessionService } from "./domain/auth/session-service.js";
import type { TaskEngine } from "./domain/tasks/task-engine.js";
import { BuildRecorder } from "./domain/builds/build-recorder.js";
import { ImageBuilds } from "./domain/builds/image-builds.js";
import { BuildLogs } from "./domain/logs/build-logs.js";
import { TaskDispatcher } from "./domain/tasks/task-dispatcher.js";
import { buildOperations } from "./http/operations/build.operations.js";
import { createEngine } from "./engines.js";
import { TaskLifecycle } from "./domain/tasks/task-lifecycle.js";
import { TaskPlanner } from "./domain/tasks/task-planner.js";
import { TaskService } from "./domain/tasks/task-service.js";
import { createApp } from "./http/app.js";
import { datasetOperations } from "./http/operations/dataset.operations.js";
import { agentOperations } from "./http/operations/agent.operations.js";
import { attachmentOperations } from "./http/operations/attachment.operations.js";
import { fileOperations } from "./http/operations/file.operations.js";
import { logOperations } from "./http/operations/log.operations.js";
import { modelOperations } from "./http/operations/model.operations.js";
import type { Operation } from "./http/operations/operation.js";
import { pipelineOperations } from "./http/operations/pipeline.operations.js";
import { registryOperations } from "./http/operations/registry.operations.js";
import { taskOperations } from "./http/operations/task.operations.js";
import { statusOperations } from "./http/operations/status.operations.js";
import { StatusFeed } from "./domain/tasks/status-feed.js";
import { accountRoutes } from "./http/mitlab/accounts.js";
import { RequestAuthenticator } from "./http/shared/authenticate.js";
import { Presenter } from "./http/shared/presenters.js";
import { stepApi } from "./http/steps/step-api.js";
import { createLogger } from "./logging/logger.js";
import { AuditTrail } from "./domain/audit/audit-trail.js";
import { ApiKeys } from "./domain/auth/api-keys.js";
import { MetricHistory } from "./domain/tasks/metric-history.js";
import { metricOperations } from "./http/operations/metric.operations.js";
import { ModelAliases } from "./domain/registry/model-aliases.js";
import { modelAliasOperations } from "./http/operations/model-alias.operations.js";
import { projectProfileOperations } from "./http/operations/project-profile.operations.js";
import { randomBytes } from "node:crypto";
import { SignedLinks } from "./domain/files/signed-links.js";
import { DownloadLinks } from "./domain/files/download-links.js";
import { predictionOneRouter } from "./http/prediction-one/router.js";
import { mrmsRouter } from "./http/mrms/router.js";
import { LearningReports } from "./domain/tasks/learning-reports.js";
import { LearningHistories } from "./domain/tasks/learning-histories.js";
import { ProjectProfiles } from "./domain/registry/project-profiles.js";
import { RetrainJobs } from "./domain/tasks/retrain-jobs.js";
import { linksRouter } from "./http/rest/links.js";
import { PrometheusMetrics } from "./adapters/metrics/prometheus-metrics.js";
import { fetchWebhookSender } from "./adapters/webhooks/fetch-webhook-sender.js";
import { WebhookRelay } from "./domain/webhooks/webhook-relay.js";
import { WebhookService } from "./domain/webhooks/webhook-service.js";
import { webhookOperations } from "./http/operations/webhook.operations.js";
import { auditOperations } from "./http/operations/audit.operations.js";
import { apiKeyOperations } from "./http/operations/api-key.operations.js";

export interface Container {
  app: ReturnType<typeof createApp>;
  /** Prometheus metrics (served at /metrics with METRICS_TOKEN, or on METRICS_PORT by main.ts). */
  metrics: PrometheusMetrics;
  /** Every operation the surfaces serve. */
  operations: Operation[];
  db: Database;
  /** SQL statements sent since start (tests hold the hot paths to a budget with it). */
  sqlStatements(): number;
  objects: ObjectStore;
  accounts: AccountService;
  tasks: TaskService;
  dispatcher: TaskDispatcher;
  builds: ImageBuilds;
  steps: StepAccess;
  engine: TaskEngine;
  fanout: LogFanout;
  housekeeping: Housekeeping;
  logger: Logger;
  /** Ends the event streams (status, logs) so their clients reconnect, to this process once it is back or to another. */
  drain(): void;
  /** Recovery and watching: call once the service listens (steps call back into it). */
  start(listeningUrl: string): Promise<void>;
  close(): Promise<void>;
}

/** The service's version, as the package says (the OpenAPI document's `info.version`). */
const SERVICE_VERSION = "0.1.0";

/** Sign-ups one client address may make per failure window (AUTH_FAILURE_WINDOW_SECONDS). */
const SIGNUPS_PER_ADDRESS = 10;

export interface ContainerOverrides {
  logger?: Logger;
  clock?: Clock;
}

export async function buildContainer(config: AppConfig, overrides: ContainerOverrides = {}): Promise<Container> {
  const logger = overrides.logger ?? createLogger(config.log.level);
  const clock = overrides.clock ?? systemClock;
  const ids = randomIds;

  await applyMigrations(config.database);
  const db = new PrismaDatabase(createPrismaClient(config.database));
  // Read on scrape, once everything below exists.
  const metrics = new PrometheusMetrics({
    tasksByState: () => db.tasks.countByStatusAndKind(),
    dispatchQueueDepth: () => dispatcher.queued,
    logFollowers: () => fanout.followers,
    logUpstreams: () => fanout.upstreams,
    webhookDeliveriesPending: () => db.webhookDeliveries.count({ status: "pending" }),
  });
  const meter = metrics;
  const objects = await createObjectStore(config);
  const hasher = new BcryptHasher(config.auth.bcryptCost);
  const throttle = (maxFailures: number) =>
    new FailureThrottle({ maxFailures, windowSeconds: config.auth.failureWindowSeconds, maxTracked: 100_000 }, clock);
  const verifier = new CredentialVerifier({
    users: db.users,
    hasher,
    clock,
    throttles: {
      pair: throttle(config.auth.maxFailuresPerKey),
      key: throttle(config.auth.maxFailuresPerKeyTotal),
      unknownKeyAddress: throttle(config.auth.maxFailuresPerAddress),
    },
    cache: {
      ttlSeconds: config.auth.cacheTtlSeconds,
      maxEntries: config.auth.cacheMaxEntries,
      recheckSeconds: config.auth.cacheRecheckSeconds,
    },
  });
  const sessions = new SessionService({
    db,
    ids,
    clock,
    settings: { idleSeconds: config.sessions.idleSeconds, maxSeconds: config.sessions.maxSeconds },
  });
  const audit = new AuditTrail({ db, ids, clock });
  const apiKeys = new ApiKeys({ db, ids, clock });
  const links = new SignedLinks({
    secret: config.links.signingKey ? Buffer.from(config.links.signingKey) : randomBytes(32),
    clock,
    ttlSeconds: config.links.ttlSeconds,
  });
  const accounts = new AccountService({ db, hasher, ids, verifier, sessions, audit });
  const registry = new RegistryService({ db, objects, ids });
  const datasets = new DatasetRegistry({ db, objects, ids });
  const models = new ModelRegistry({ db, objects, ids });
  const agents = new AgentRegistry({ db, objects, ids });
  const attachments = new AttachmentRegistry({ db, objects, ids });
  const present = new Presenter(config.timeOffsetMinutes);

  // Progress comes before the engines that report it: nothing is wired late.
  const lifecycle = new TaskLifecycle({ db, clock, logger });
  const progress = new ProgressRecorder({ db, lifecycle });
  let serviceUrl = config.tasks.stepApiUrl ?? "";
  const runtime = await createEngine(config, { logger, meter, clock, sink: progress, serviceUrl: () => serviceUrl });
  const { engine } = runtime;
  const planner = new TaskPlanner({ db, ids, clock, stepTokenTtlSeconds: config.tasks.stepTokenTtlSeconds });
  const logSource = firstAvailable(runtime.logSources);
  const builds = new ImageBuilds({
    db,
    objects,
    builder: runtime.builder,
    repository: `${config.argo.imageRegistry.replace(/\/$/, "")}/step-image`,
    clock,
    logger,
    logs: logSource,
  });
  const dispatcher = new TaskDispatcher({ db, clock, engine, planner, builds, lifecycle, logger, queue: config.tasks.dispatch });
  const buildRecorder = new BuildRecorder({ db, builds, dispatcher });
  const tasks = new TaskService({
    db,
    registry,
    datasets,
    models,
    objects,
    engine,
    planner,
    dispatcher,
    lifecycle,
    ids,
    clock,
    logger,
    audit,
    defaultResources: config.tasks.defaultResources,
  });
  const steps = new StepAccess({ db, objects, ids, clock });
  const metricHistory = new MetricHistory({
    db,
    clock,
    logger,
    settings: config.metricHistory,
    stop: (task, message) => tasks.stopByRule(task, message),
  });
  const learningReports = new LearningReports({ db, logger, stop: (task, message) => tasks.stopByRule(task, message) });
  const learningHistories = new LearningHistories({ db, tasks, reports: learningReports });
  const projectProfiles = new ProjectProfiles({ db, clock });
  const authenticator = new Authenticator({ users: verifier, steps });
  const requests = new RequestAuthenticator(
    authenticator,
    { logger, meter },
    {
      sessions: {
        service: sessions,
        cookie: { name: config.sessions.cookieName, allowedOrigins: config.corsOrigins, trustProxy: config.http.trustProxy },
      },
      apiKeys,
    },
  );

  const logs = new LogService({ tasks, source: logSource, maxJsonBytesPerStep: config.logs.maxJsonBytesPerStep });
  const fanout = new LogFanout(
    logSource,
    {
      maxQueueBytes: config.logs.followMaxQueueBytes,
      stallMs: config.logs.followStallSeconds * 1000,
      historyBytes: 256 * 1024,
      reattachDelayMs: 500,
      maxReattach: 20,
    },
    async (task, step) => (await db.taskSteps.listFor(task.uid)).some((s) => s.name === step.name && s.phase === "Running"),
  );
  const follower = new LogFollower({ tasks, lifecycle, fanout, settings: { recheckMs: 1000 } });

  const modelAliases = new ModelAliases({ db, clock });
  const retrainJobs = new RetrainJobs({ db, clock, ids, datasets, tasks, links, ttlSeconds: config.links.ttlSeconds });
  const operations: Operation[] = [
    registryOperations({ registry, present }),
    pipelineOperations({ registry, builds, present }),
    buildOperations({
      builds,
      buildLogs: new BuildLogs({
        db,
        builds,
        source: logSource,
        maxJsonBytes: config.logs.maxJsonBytesPerStep,
        settings: { recheckMs: 1000 },
      }),
    }),
    datasetOperations({ datasets, preparer: new PreparerService({ db, registry, models }), builds, present }),
    modelOperations({ models, present }),
    fileOperations({ registry, steps }),
    agentOperations({ agents, present }),
    attachmentOperations({ attachments, present }),
    taskOperations({ tasks, present }),
    metricOperations({ metrics: metricHistory, present }),
    modelAliasOperations({ aliases: modelAliases, present }),
    projectProfileOperations({ profiles: projectProfiles, retrainJobs, present }),
    statusOperations({ feed: new StatusFeed({ db, registry, settings: { pollMs: 500, batch: 500 } }), present }),
    logOperations({ logs, follower }),
    webhookOperations({ webhooks: new WebhookService({ db, ids, registry, audit }), present }),
    auditOperations({ audit, present }),
    apiKeyOperations({ apiKeys, present }),
  ].flatMap((group) => Object.values(group) as Operation[]);
  const shutdown = new AbortController();
  const app = createApp({
    shutdown: shutdown.signal,
    meter,
    metrics: { registry: metrics.registry, token: config.metrics.token },
    openApi: { version: SERVICE_VERSION, apiVersions: config.api.versions, sessionCookie: config.sessions.cookieName },
    operations,
    logger,
    objects,
    routers: [
      accountRoutes({
        apiVersions: config.api.versions,
        authenticator,
        requests,
        sessions,
        accounts,
        db,
        cookieName: config.sessions.cookieName,
        sessionMaxSeconds: config.sessions.maxSeconds,
        signup: { ...config.signup, throttle: throttle(SIGNUPS_PER_ADDRESS) },
      }),
      stepApi({ steps, objects, maxUploadBytes: config.uploads.maxBytes, meter, metrics: metricHistory }),
      predictionOneRouter({
        requests,
        db,
        audit,
        links,
        downloads: new DownloadLinks({ links, registry, presigned: config.links.presigned, ttlSeconds: config.links.ttlSeconds }),
        aliases: modelAliases,
        retrainJobs,
        objects,
        maxUploadBytes: config.uploads.maxBytes,
      }),
      mrmsRouter({
        requests,
        steps,
        tasks,
        logs,
        metrics: metricHistory,
        reports: learningReports,
        histories: learningHistories,
        projects: projectProfiles,
        aliases: modelAliases,
        registry,
        ids,
        keepAliveMs: config.logs.followKeepAliveSeconds * 1000,
      }),
      linksRouter({ links, registry, logger, keepAliveMs: config.logs.followKeepAliveSeconds * 1000 }),
    ],
    authenticator: requests,
    corsOrigins: config.corsOrigins,
    apiVersions: config.api.versions,
    maxUploadBytes: config.uploads.maxBytes,
    keepAliveMs: config.logs.followKeepAliveSeconds * 1000,
    trustProxy: config.http.trustProxy,
    readiness: async () => void (await db.organizations.count({})),
  });
  const webhookRelay = new WebhookRelay({ db, ids, clock, logger, sender: fetchWebhookSender, settings: config.webhooks });
  const housekeeping = new Housekeeping({
    db,
    sessions,
    clock,
    logger,
    settings: { idempotencyTtlSeconds: config.tasks.idempotencyTtlSeconds, intervalSeconds: 3600 },
  });

  return {
    app,
    metrics,
    operations,
    db,
    sqlStatements: () => db.counter.statements,
    objects,
    accounts,
    tasks,
    dispatcher,
    builds,
    steps,
    engine,
    fanout,
    housekeeping,
    logger,
    drain: () => shutdown.abort(),
    async start(listeningUrl) {
      serviceUrl ||= listeningUrl;
      housekeeping.start();
      webhookRelay.start();
      await runtime.start({ dispatcher, builds: buildRecorder });
    },
    async close() {
      shutdown.abort();
      housekeeping.stop();
      await webhookRelay.stop(); // attempts under way end (each within WEBHOOK_TIMEOUT_SECONDS); the rest wait in the outbox
      await dispatcher.stop(); // dispatches under way finish; queued tasks are dispatched on the next start
      await runtime.close();
      await progress.drain(); // no report may reach a closed database
      await db.close();
    },
  };
}

/** What the admin CLI needs: the database and account management, no HTTP or object store. */
export async function buildAdminContainer(
  config: AppConfig,
): Promise<{ accounts: AccountService; audit: AuditTrail; close(): Promise<void> }> {
  await applyMigrations(config.database);
  const db = new PrismaDatabase(createPrismaClient(config.database));
  const audit = new AuditTrail({ db, ids: randomIds, clock: systemClock });
  return {
    accounts: new AccountService({ db, hasher: new BcryptHasher(config.auth.bcryptCost), ids: randomIds, audit }),
    audit,
    close: () => db.close(),
  };
}

async function createObjectStore(config: AppConfig): Promise<ObjectStore> {
  const settings = config.objectStore;
  if (settings.kind === "filesystem") {
    const store = new FilesystemObjectStore(settings.dir);
    await store.sweepStaging();
    return store;
  }
  const store = new MinioObjectStore(settings);
  await store.ensureBucket();
  return store;
}
