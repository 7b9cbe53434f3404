import { createHash } from "node:crypto";
import { readFileSync, readdirSync, rmSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import type { ContainerExecutor } from "./container-executor.js";
import { FakeArgoController, type ControllerOptions, type StepContext, type StepResult } from "./fake-argo-controller.js";
import { FakeKubeApiServer, type KubeObject } from "./fake-kube-apiserver.js";

export const NAMESPACE = "argo";

export interface FakeCluster {
  server: FakeKubeApiServer;
  controller: FakeArgoController;
  kubeconfig: string;
  /** How the running step behaves, and optionally the upload step and image builds; tests replace them. */
  behavior: {
    running(context: StepContext): Promise<number>;
    upload?: (context: StepContext) => Promise<number>;
    build(context: StepContext, dockerfile: string): Promise<number | StepResult>;
  };
  /** Image builds run, in order: the image pushed and the Dockerfile built. */
  builds: Array<{ image: string; dockerfile: string }>;
  /** Steps run, by step name. */
  runs: Record<string, number>;
  /** Where the steps reach the step API (set once the service listens). */
  stepApi: { url: string };
  close(): Promise<void>;
}

/**
 * A fake cluster with the service's WorkflowTemplates installed. Its steps do what the real
 * built-in steps do: download calls the step API with the token from the task's Secret, and
 * upload stores an output file through it.
 */
export async function startFakeCluster(
  options: Partial<Pick<ControllerOptions, "archive" | "podGC">> & {
    /** Runs every step pod's container for real instead of the built-in imitations. */
    executor?: ContainerExecutor;
  } = {},
): Promise<FakeCluster> {
  const server = new FakeKubeApiServer();
  await server.start();
  const dir = path.resolve("workflow-templates");
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".yaml"))) {
    server.create("workflowtemplates", NAMESPACE, parse(readFileSync(path.join(dir, file), "utf8")) as KubeObject);
  }
  const stepApi = { url: "" };
  const runs: Record<string, number> = {};
  const builds: FakeCluster["builds"] = [];
  const behavior: FakeCluster["behavior"] = {
    running: async (context: StepContext) => (context.log(`${context.step} did its work`), 0),
    // What a successful BuildKit push leaves: the manifest's digest as the output parameter.
    build: async (context) => {
      context.log(`pushed ${context.parameters.image}`);
      const digest = `sha256:${createHash("sha256")
        .update(context.parameters.image ?? "")
        .digest("hex")}`;
      return { code: 0, outputs: { parameters: [{ name: "image-digest", value: digest }] } };
    },
  };
  const api = (context: StepContext, suffix: string) => `${stepApi.url}/api/steps/v1/tasks/${context.parameters.task_uid}/${suffix}`;

  const { executor, ...controllerOptions } = options;
  const controller = new FakeArgoController(server, {
    namespace: NAMESPACE,
    ...controllerOptions,
    async script(context) {
      runs[context.step] = (runs[context.step] ?? 0) + 1;
      if (context.template === "build") {
        // The pod mounts its Dockerfile from the ConfigMap the build names: without it, the pod never starts.
        const configMap = server.get("configmaps", NAMESPACE, context.parameters.dockerfile_config_map ?? "");
        const dockerfile = (configMap?.data as Record<string, string> | undefined)?.Dockerfile;
        if (dockerfile === undefined) return (context.log(`configmap "${context.parameters.dockerfile_config_map}" not found`), 1);
        builds.push({ image: context.parameters.image ?? "", dockerfile });
        return behavior.build(context, dockerfile);
      }
      if (executor) return executor.run(context, stepApi.url);
      const auth = { Authorization: `Bearer ${context.token}` };
      switch (context.template) {
        case "download": {
          const response = await fetch(api(context, "inputs/dataset"), { headers: auth });
          const size = (await response.arrayBuffer()).byteLength;
          context.log(`downloaded dataset (${size} bytes): HTTP ${response.status}`);
          return response.ok ? 0 : 1;
        }
        case "running":
          return behavior.running(context);
        default: {
          if (behavior.upload) return behavior.upload(context);
          if (!context.parameters.output_file_name) return 0;
          const response = await fetch(api(context, "output"), { method: "PUT", headers: auth, body: `output of ${context.workflow}` });
          context.log(`uploaded ${context.parameters.output_file_name}: HTTP ${response.status}`);
          return response.status === 201 ? 0 : 1;
        }
      }
    },
  });
  controller.start();
  const kubeconfig = server.writeKubeconfig();
  return {
    server,
    controller,
    kubeconfig,
    behavior,
    builds,
    runs,
    stepApi,
    async close() {
      controller.stop();
      await server.stop();
      rmSync(kubeconfig, { force: true });
    },
  };
}

export interface HeldStep {
  /** Whether the running step has started and is now waiting. */
  readonly waiting: boolean;
  /** Lets the step finish with exit code 0. */
  release(): void;
  /** Writes a line to the step's log. */
  log(line: string): void;
}

/**
 * Makes the cluster's next running steps log `lines` lines and then wait until released; a
 * shutdown of the workflow ends them with 143, as SIGTERM would.
 */
export function holdRunningStep(cluster: FakeCluster, lines: string[] = []): HeldStep {
  let release: (() => void) | undefined;
  let log: ((line: string) => void) | undefined;
  cluster.behavior.running = (context) =>
    new Promise((resolve) => {
      for (const line of lines) context.log(line);
      log = context.log;
      release = () => resolve(0);
      context.signal.addEventListener("abort", () => resolve(143));
    });
  return {
    get waiting() {
      return release !== undefined;
    },
    release: () => release?.(),
    log: (line) => log!(line),
  };
}

/** Environment for a service instance on the fake cluster. */
export function argoEnv(cluster: FakeCluster, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ENGINE: "argo",
    KUBECONFIG: cluster.kubeconfig,
    ARGO_NAMESPACE: NAMESPACE,
    STEP_API_URL: "http://argo-entrypoint.argo.svc:8080",
    LEADER_LEASE_SECONDS: "2",
    LEADER_LEASE_RENEW_SECONDS: "1",
    KUBE_REQUEST_TIMEOUT_SECONDS: "5",
    DISPATCH_STRANDED_SECONDS: "1",
    ...extra,
  };
}

/** Resolves when `check` holds, checking every 20 ms (tests wait; the service does not poll). */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
