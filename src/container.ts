/** The composition root: the only module that picks adapters and wires them to the domain. */
import { AccountService } from "./domain/auth/account-service.js";
import { CredentialVerifier } from "./domain/auth/credential-verifier.js";
import { FailureThrottle } from "./domain/auth/failure-throttle.js";
import { systemClock, type Clock } from "./domain/clock.js";
import { NotFoundError } from "./domain/errors.js";
import { Housekeeping } from "./domain/housekeeping.js";
import type { Database, Logger, ObjectStore } from "./domain/ports.js";
import { PreparerService } from "./domain/registry/preparer-service.js";
import { RegistryService } from "./domain/registry/registry-service.js";
import { createPrismaClient, PrismaDatabase } from "./adapters/db/prisma-database.js";
import { applyMigrations } from "./adapters/db/migrator.js";
import { FilesystemObjectStore } from "./adapters/object-store/filesystem-object-store.js";
import { MinioObjectStore } from "./adapters/object-store/minio-object-store.js";
import { BcryptHasher } from "./adapters/security/bcrypt-hasher.js";
import { randomIds } from "./adapters/security/random-ids.js";
import { createApp } from "./app.js";
import { describeStreamError } from "./http/middleware/error-handler.js";
import type { AppConfig } from "./config/config.js";
import { Presenter } from "./http/presenters.js";
import type { RouteDefinition } from "./http/route-definition.js";
import { registryRoutes } from "./http/routes/registry.routes.js";
import { createLogger } from "./logging/logger.js";
import { LocalEngine } from "./adapters/local-engine/local-engine.js";
import { ArgoEngine } from "./adapters/argo/argo-engine.js";
import { loadKubeConfig } from "./adapters/argo/kube-config.js";
import { LeaseElection } from "./adapters/argo/lease-election.js";
import { WorkflowWatcher } from "./adapters/argo/workflow-watcher.js";
import type { LogSource } from "./domain/logs/log-source.js";
import type { TaskEngine } from "./domain/tasks/task-engine.js";
import { TaskService } from "./domain/tasks/task-service.js";
import { taskRoutes } from "./http/routes/task.routes.js";
import { stepApi } from "./http/step-api.js";
import { RequestAuthenticator } from "./http/shared/authenticate.js";
import { LocalLogSource } from "./adapters/local-engine/local-log-source.js";
import { firstAvailable } from "./domain/logs/log-source.js";
import { LogService } from "./domain/logs/log-service.js";
import { logRoutes } from "./http/routes/log.routes.js";
import { LogFanout } from "./domain/logs/log-fanout.js";
import { LogFollower } from "./domain/logs/log-follower.js";
import { PodLogSource } from "./adapters/argo/pod-log-source.js";
import { ArchivedLogSource } from "./adapters/argo/archived-log-source.js";

export interface Container {
  app: ReturnType<typeof createApp>;
  /** The route table every surface serves. */
  routes: RouteDefinition[];
  tasks: TaskService;
  engine: TaskEngine;
  fanout: LogFanout;
  housekeeping: Housekeeping;
  /** Recovery after a restart: call once the service listens (steps call back into it). */
  start(listeningUrl: string): Promise<void>;
  db: Database;
  objects: ObjectStore;
  accounts: AccountService;
  verifier: CredentialVerifier;
  logger: Logger;
  close(): Promise<void>;
}

export interface ContainerOverrides {
  logger?: Logger;
  clock?: Clock;
}

export async function buildContainer(config: AppConfig, overrides: ContainerOverrides = {}): Promise<Container> {
  const logger = overrides.logger ?? createLogger(config.log.level);
  const clock = overrides.clock ?? systemClock;

  await applyMigrations(config.database.url);
  const db = new PrismaDatabase(createPrismaClient(config.database.url));
  const objects = await createObjectStore(config);
  const hasher = new BcryptHasher(config.auth.bcryptCost);
  const throttle = (maxFailures: number) => new FailureThrottle({ maxFailures, windowSeconds: config.auth.failureWindowSeconds, maxTracked: 100_000 }, clock);
  const verifier = new CredentialVerifier({
    users: db.users, hasher, clock,
    throttles: {
      pair: throttle(config.auth.maxFailuresPerKey),
      key: throttle(config.auth.maxFailuresPerKeyTotal),
      unknownKeyAddress: throttle(config.auth.maxFailuresPerAddress),
    },
    cache: { ttlSeconds: config.auth.cacheTtlSeconds, maxEntries: config.auth.cacheMaxEntries },
  });
  const accounts = new AccountService({ db, hasher, ids: randomIds, verifier });
  const registry = new RegistryService({ db, objects, ids: randomIds });
  const preparer = new PreparerService({ db, registry });
  const present = new Presenter(config.timeOffsetMinutes);

  let serviceUrl = config.tasks.stepApiUrl ?? "";
  const runtime = await createEngine(config, { logger, clock, serviceUrl: () => serviceUrl });
  const { engine } = runtime;
  const tasks = new TaskService({
    db, registry, objects, engine, ids: randomIds, clock, logger,
    defaultResources: config.tasks.defaultResources, stepTokenTtlSeconds: config.tasks.stepTokenTtlSeconds,
  });
  runtime.connect(tasks);
  const logSource = firstAvailable(runtime.logSources);
  const logs = new LogService({ tasks, source: logSource, maxJsonBytesPerStep: config.logs.maxJsonBytesPerStep });
  const fanout = new LogFanout(
    logSource,
    { maxQueueBytes: config.logs.followMaxQueueBytes, historyBytes: 256 * 1024, reattachDelayMs: 500, maxReattach: 20 },
    async (task, step) => (await db.taskSteps.listFor(task.uid)).some((s) => s.name === step.name && s.phase === "Running"),
  );
  const follower = new LogFollower({ tasks, fanout, settings: { recheckMs: 1000 } });

  const routes = [
    ...registryRoutes({ registry, preparer, present }), ...taskRoutes({ tasks, present }),
    ...logRoutes({ logs, follower, keepAliveMs: config.logs.followKeepAliveSeconds * 1000, describeError: describeStreamError }),
  ];
  const app = createApp({
    routes,
    routers: [stepApi({ tasks, objects, maxUploadBytes: config.uploads.maxBytes })],
    authenticator: new RequestAuthenticator(verifier),
    objects,
    logger,
    apiVersions: config.api.versions,
    maxUploadBytes: config.uploads.maxBytes,
    trustProxy: config.http.trustProxy,
    readiness: async () => void (await db.organizations.count({})),
  });

  const housekeeping = new Housekeeping({ db, clock, logger, settings: { idempotencyTtlSeconds: config.tasks.idempotencyTtlSeconds, intervalSeconds: 3600 } });

  return {
    app, routes, db, objects, accounts, verifier, logger, tasks, engine, fanout, housekeeping,
    async start(listeningUrl) {
      serviceUrl ||= listeningUrl;
      housekeeping.start();
      await runtime.start();
    },
    async close() {
      housekeeping.stop();
      await runtime.close();
      await tasks.drain(); // no report may reach a closed database
      await db.close();
    },
  };
}

interface EngineRuntime {
  engine: TaskEngine;
  logSources: LogSource[];
  connect(tasks: TaskService): void;
  /** Recovery and watching, once the service listens. */
  start(): Promise<void>;
  close(): Promise<void>;
}

async function createEngine(config: AppConfig, deps: { logger: Logger; clock: Clock; serviceUrl: () => string }): Promise<EngineRuntime> {
  let tasks: TaskService | undefined;
  if (config.tasks.engine === "local") {
    const engine = await LocalEngine.open(
      {
        workRoot: config.local.workDir, concurrency: config.local.concurrency, serviceUrl: deps.serviceUrl,
        downloadCommand: config.local.downloadCommand, uploadCommand: config.local.uploadCommand,
        stopGraceSeconds: config.local.stopGraceSeconds, sandbox: config.local.sandbox,
      },
      deps,
    );
    return {
      engine, logSources: [new LocalLogSource(engine)],
      connect: (service) => {
        tasks = service;
        engine.connect(service);
      },
      start: async () => {
        await engine.recover(await tasks!.activeTasks());
        await tasks!.resumeUndispatched();
      },
      close: () => engine.close(),
    };
  }

  const kubeConfig = loadKubeConfig(config.argo.kubeconfigPath);
  const retry = { attempts: config.argo.retryAttempts, baseDelayMs: 200, maxDelayMs: 5_000, timeoutMs: config.argo.requestTimeoutSeconds * 1000 };
  const engine = new ArgoEngine(kubeConfig, {
    namespace: config.argo.namespace, templatePrefix: config.argo.templatePrefix, stepImage: config.argo.stepImage,
    imageRegistry: config.argo.imageRegistry, stepApiUrl: deps.serviceUrl, retry,
  }, deps.logger);
  let watcher: WorkflowWatcher | undefined;
  const election = new LeaseElection(kubeConfig, {
    namespace: config.argo.namespace, name: config.argo.leaseName, identity: config.argo.identity,
    leaseSeconds: config.argo.leaseSeconds, renewSeconds: config.argo.leaseRenewSeconds, retry,
  }, deps.logger, {
    // Only the leader watches and writes status; it also finishes submissions a crash interrupted.
    onStartedLeading: async () => {
      watcher = new WorkflowWatcher(kubeConfig, { namespace: config.argo.namespace, retry, maxRestartDelayMs: 10_000 }, {
        sink: tasks!, engine, logger: deps.logger, activeTasks: () => tasks!.activeTasks(),
      });
      await watcher.start();
      await tasks!.resumeUndispatched();
    },
    onStoppedLeading: async () => {
      await watcher?.stop();
      watcher = undefined;
    },
  });
  const archiveStores = new Map<string, MinioObjectStore>();
  const archive = config.logs.archive;
  const archiveStore = (bucket: string | undefined): ObjectStore => {
    if (!archive) throw new NotFoundError("no artifact repository is configured for archived logs (ARCHIVE_S3_ENDPOINT)");
    const name = bucket ?? archive.bucket;
    let store = archiveStores.get(name);
    if (!store) archiveStores.set(name, (store = new MinioObjectStore({ ...archive, bucket: name, pathStyle: true })));
    return store;
  };
  return {
    engine,
    logSources: [new PodLogSource(kubeConfig, engine, config.argo.namespace), new ArchivedLogSource(engine, archiveStore)],
    connect: (service) => (tasks = service),
    start: () => election.start(),
    close: () => election.stop(),
  };
}

/** What the admin CLI needs: the database and account management, no HTTP or object store. */
export async function buildAdminContainer(config: AppConfig): Promise<{ accounts: AccountService; close(): Promise<void> }> {
  await applyMigrations(config.database.url);
  const db = new PrismaDatabase(createPrismaClient(config.database.url));
  return { accounts: new AccountService({ db, hasher: new BcryptHasher(config.auth.bcryptCost), ids: randomIds }), close: () => db.close() };
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
