/**
 * The engine side of the composition root: the local engine, or Argo with its gateway, image
 * builder, leader election, watcher and log sources. Only src/container.ts calls this.
 */
import { randomUUID } from "node:crypto";
import os from "node:os";
import { ArchivedLogSource } from "./adapters/argo/archived-log-source.js";
import { ArgoEngine } from "./adapters/argo/argo-engine.js";
import { ArgoImageBuilder } from "./adapters/argo/image-builder.js";
import { PodLogSource } from "./adapters/argo/pod-log-source.js";
import { ArgoWorkflowGateway } from "./adapters/argo/workflow-gateway.js";
import { WorkflowWatcher } from "./adapters/argo/workflow-watcher.js";
import { loadKubeConfig } from "./adapters/kubernetes/kube-config.js";
import { LeaseElection } from "./adapters/kubernetes/lease-election.js";
import { LocalEngine } from "./adapters/local-engine/local-engine.js";
import { LocalLogSource } from "./adapters/local-engine/local-log-source.js";
import { noImageBuilder } from "./adapters/local-engine/no-image-builder.js";
import { MinioObjectStore } from "./adapters/object-store/minio-object-store.js";
import type { AppConfig } from "./config/config.js";
import type { BuildRecorder } from "./domain/builds/build-recorder.js";
import type { ImageBuilder } from "./domain/builds/image-builds.js";
import type { Clock } from "./domain/clock.js";
import { NotFoundError } from "./domain/errors.js";
import type { LogSource } from "./domain/logs/log-source.js";
import type { Logger, Meter, ObjectStore } from "./domain/ports.js";
import type { ProgressRecorder } from "./domain/tasks/progress-recorder.js";
import type { TaskDispatcher } from "./domain/tasks/task-dispatcher.js";
import type { TaskEngine } from "./domain/tasks/task-engine.js";

export interface EngineRuntime {
  engine: TaskEngine;
  /** How build files become images on this engine. */
  builder: ImageBuilder;
  logSources: LogSource[];
  /** Recovery and watching, once the service listens. */
  start(services: { dispatcher: TaskDispatcher; builds: BuildRecorder }): Promise<void>;
  close(): Promise<void>;
}

export async function createEngine(
  config: AppConfig,
  deps: { logger: Logger; meter: Meter; clock: Clock; sink: ProgressRecorder; serviceUrl: () => string },
): Promise<EngineRuntime> {
  if (config.tasks.engine === "local") {
    const engine = await LocalEngine.open(
      {
        workRoot: config.local.workDir,
        concurrency: config.local.concurrency,
        serviceUrl: deps.serviceUrl,
        downloadCommand: config.local.downloadCommand,
        uploadCommand: config.local.uploadCommand,
        stopGraceSeconds: config.local.stopGraceSeconds,
        sandbox: config.local.sandbox,
      },
      deps,
    );
    let stopResuming: (() => void) | undefined;
    return {
      engine,
      builder: noImageBuilder,
      logSources: [new LocalLogSource(engine)],
      start: async ({ dispatcher }) => {
        await engine.recover(await deps.sink.activeTasks(engine.name));
        // One process holds the work directory, so nothing is quiet-waited for: what this process is dispatching is skipped.
        stopResuming = await resumeEvery(dispatcher, config.tasks.dispatch.strandedAfterSeconds, 0, deps.logger);
      },
      close: () => {
        stopResuming?.();
        return engine.close();
      },
    };
  }

  const kubeConfig = loadKubeConfig(config.argo);
  const retry = {
    attempts: config.argo.retryAttempts,
    baseDelayMs: 200,
    maxDelayMs: 5_000,
    timeoutMs: config.argo.requestTimeoutSeconds * 1000,
  };
  const observe = { logger: deps.logger, meter: deps.meter };
  const gateway = new ArgoWorkflowGateway(kubeConfig, { namespace: config.argo.namespace, retry }, observe);
  const engine = new ArgoEngine(gateway, {
    namespace: config.argo.namespace,
    templatePrefix: config.argo.templatePrefix,
    stepImage: config.argo.stepImage,
    stepApiUrl: deps.serviceUrl,
  });
  const builder = new ArgoImageBuilder(gateway, {
    namespace: config.argo.namespace,
    templatePrefix: config.argo.templatePrefix,
    registrySecret: config.argo.registrySecret,
    builderImage: config.argo.builderImage,
  });
  let watcher: WorkflowWatcher | undefined;
  let stopResuming: (() => void) | undefined;
  let services: Parameters<EngineRuntime["start"]>[0] | undefined;
  const election = new LeaseElection(
    kubeConfig,
    {
      namespace: config.argo.namespace,
      name: config.argo.leaseName,
      identity: config.argo.identity ?? `${os.hostname()}-${randomUUID().slice(0, 8)}`,
      leaseSeconds: config.argo.leaseSeconds,
      renewSeconds: config.argo.leaseRenewSeconds,
      retry,
    },
    observe,
    {
      // Only the leader watches and writes status; it also finishes submissions a crash interrupted.
      onStartedLeading: async () => {
        if (!services) return;
        watcher = new WorkflowWatcher(
          kubeConfig,
          { maxRestartDelayMs: 10_000 },
          {
            sink: deps.sink,
            builds: services.builds,
            gateway,
            logger: deps.logger,
            meter: deps.meter,
            activeTasks: () => deps.sink.activeTasks(engine.name),
          },
        );
        await watcher.start();
        // Tasks another replica accepted but did not hand over (it died in between) are healed once
        // they have been quiet a while, while this replica leads.
        const quiet = config.tasks.dispatch.strandedAfterSeconds;
        stopResuming = await resumeEvery(services.dispatcher, quiet, quiet, deps.logger);
      },
      onStoppedLeading: async () => {
        stopResuming?.();
        stopResuming = undefined;
        await watcher?.stop();
        watcher = undefined;
      },
    },
  );
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
    builder,
    logSources: [new PodLogSource(kubeConfig, gateway), new ArchivedLogSource(gateway, archiveStore)],
    start: (started) => {
      services = started;
      return election.start();
    },
    close: () => election.stop(),
  };
}

/**
 * Queues the tasks accepted but never handed to the engine (a crash in between, or a full
 * dispatch queue), now and then every `everySeconds`, skipping those written in the last
 * `quietSeconds`. Answers how to stop.
 */
async function resumeEvery(dispatcher: TaskDispatcher, everySeconds: number, quietSeconds: number, logger: Logger): Promise<() => void> {
  const resume = () =>
    dispatcher.resumeUndispatched(quietSeconds).catch((error: unknown) => {
      logger.error({ err: error }, "action=resume-undispatched outcome=failed");
      return 0;
    });
  await resume();
  const timer = setInterval(() => void resume(), everySeconds * 1000);
  timer.unref();
  return () => clearInterval(timer);
}
