/**
 * A fake Argo controller on top of FakeKubeApiServer, following argo.md: a Workflow referring
 * to a WorkflowTemplate runs its DAG one pod per task, with node ids `<wf>-<fnv1a32(node name)>`,
 * v2 pod names `<wf>-<template>-<hash>` carrying the `workflows.argoproj.io/workflow` label and
 * node-id annotation, pod logs, optional archived `main.log` artifacts and pod GC, shutdown
 * (`Stop` / `Terminate`) with Argo's messages, completion labels and conditions, and re-running
 * the nodes a retry removed. What each step does is a script the test provides.
 *
 * Like Argo's controller it decodes each step's template into Kubernetes' types: a container
 * quantity that is not a quantity fails the Workflow with Argo's message; the template's
 * `podSpecPatch` (with `{{workflow.parameters.*}}` resolved) is merged into the pod it creates,
 * so tests read the resources a step really got from the pod.
 */
import type { FakeKubeApiServer, KubeObject } from "./fake-kube-apiserver.js";

export interface StepContext {
  workflow: string;
  /** The original's step name (the DAG task name with `_` for `-`). */
  step: string;
  template: string;
  parameters: Record<string, string>;
  /** The task credential, read from the Secret the workflow names, as a pod would. */
  token: string;
  /** The pod's main container as the controller built it (template resolved, podSpecPatch merged). */
  container: PodContainer;
  log(line: string): void;
  /** Aborted when the workflow is shut down. */
  signal: AbortSignal;
}

export interface ControllerOptions {
  namespace: string;
  /** Runs one step; resolves to its exit code (and the output parameters it left, if any). */
  script(context: StepContext): Promise<number | StepResult>;
  /** When set, each pod's log is archived here under `<wf>/<pod>/main.log`. */
  archive?: { bucket: string; put(key: string, text: string): Promise<void> };
  /** Delete pods when their workflow completes (podGC OnWorkflowCompletion). */
  podGC?: boolean;
}

export interface StepResult {
  code: number;
  outputs?: { parameters: Array<{ name: string; value: string }> };
}

interface DagTask {
  name: string;
  template: string;
  dependencies?: string[];
}

type Node = Record<string, unknown> & { id: string; name: string; phase: string; type: string; children?: string[] };

function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, "utf8")) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

export class FakeArgoController {
  /** Errors the controller hit (a test may assert there are none). */
  readonly errors: Error[] = [];
  private readonly running = new Map<string, AbortController>();
  private readonly busy = new Set<string>();
  private readonly onChange = (event: { type: string; resource: string; object: KubeObject }) => {
    if (event.resource !== "workflows" || event.type === "DELETED") {
      if (event.resource === "workflows" && event.type === "DELETED") this.running.get(event.object.metadata.name!)?.abort();
      return;
    }
    const workflow = event.object;
    const status = (workflow.status ?? {}) as { phase?: string };
    const spec = workflow.spec as { shutdown?: string };
    const name = workflow.metadata.name!;
    if (spec.shutdown && this.running.has(name)) this.running.get(name)!.abort();
    if (!status.phase && !this.busy.has(name)) this.run(name).catch((error: unknown) => this.errors.push(error as Error));
  };

  constructor(
    private readonly server: FakeKubeApiServer,
    private readonly options: ControllerOptions,
  ) {}

  start(): void {
    this.server.on("change", this.onChange);
  }

  stop(): void {
    this.server.off("change", this.onChange);
    for (const controller of this.running.values()) controller.abort();
  }

  /** Reconciles one workflow from phase "" (new, or just retried) to completion. */
  private async run(name: string): Promise<void> {
    this.busy.add(name);
    const abort = new AbortController();
    this.running.set(name, abort);
    try {
      const ns = this.options.namespace;
      const workflow = this.server.get("workflows", ns, name);
      if (!workflow) return;
      const ref = (workflow.spec as { workflowTemplateRef?: { name: string } }).workflowTemplateRef?.name;
      const template = ref ? this.server.get("workflowtemplates", ns, ref) : undefined;
      if (!template) {
        await this.update(name, (wf) => complete(wf, "Error", `workflowtemplates.argoproj.io "${ref}" not found`));
        return;
      }
      const templates = (template.spec as { templates: StepTemplate[] }).templates;
      const entrypoint = (template.spec as { entrypoint?: string }).entrypoint ?? "main";
      const entry = templates.find((t) => t.name === entrypoint);
      // A Workflow whose entrypoint is a container is one Pod node at the root (an image build).
      const single = !entry?.dag;
      const tasks = single ? [{ name, template: entrypoint }] : entry.dag!.tasks;
      const parameters = Object.fromEntries(
        ((workflow.spec as { arguments?: { parameters?: Array<{ name: string; value?: string }> } }).arguments?.parameters ?? []).map(
          (p) => [p.name, p.value ?? ""],
        ),
      );
      const invalid = templates.flatMap((t) => quantityProblems(t.container?.resources));
      if (invalid.length) {
        await this.update(name, (wf) => complete(wf, "Error", `invalid spec: ${QUANTITY_MESSAGE}`));
        return;
      }

      await this.update(name, (wf) => {
        wf.metadata.annotations = { ...wf.metadata.annotations, "workflows.argoproj.io/pod-name-format": "v2" };
        wf.metadata.labels = {
          ...wf.metadata.labels,
          "workflows.argoproj.io/completed": "false",
          "workflows.argoproj.io/phase": "Running",
          "workflows.argoproj.io/workflow-template": ref!,
        };
        const status = (wf.status ?? {}) as Record<string, unknown>;
        const nodes = (status.nodes ?? {}) as Record<string, Node>;
        if (!single)
          nodes[name] ??= {
            id: name,
            name,
            displayName: name,
            type: "DAG",
            templateName: "main",
            phase: "Running",
            startedAt: now(),
            children: [],
          };
        if (!single) nodes[name]!.phase = "Running";
        wf.status = {
          ...status,
          phase: "Running",
          startedAt: status.startedAt ?? now(),
          finishedAt: null,
          nodes,
          conditions: [{ type: "PodRunning", status: "True" }],
        };
      });

      for (const task of tasks) {
        const nodeName = single ? name : `${name}.${task.name}`;
        const nodeId = single ? name : `${name}-${fnv1a32(nodeName)}`;
        const existing = (this.server.get("workflows", ns, name)?.status as { nodes?: Record<string, Node> } | undefined)?.nodes?.[nodeId];
        if (existing?.phase === "Succeeded") continue;
        if (abort.signal.aborted) break;
        const stepTemplate = templates.find((t) => t.name === task.template);
        const exit = await this.runPod(name, task, nodeName, nodeId, parameters, abort.signal, stepTemplate);
        if (exit.shutdown) {
          await this.update(name, (wf) => complete(wf, "Failed", `Stopped with strategy '${exit.shutdown}'`));
          return this.collectPods(name);
        }
        if (exit.code !== 0) {
          await this.update(name, (wf) =>
            complete(wf, "Failed", single ? `main: Error (exit code ${exit.code})` : `child '${nodeId}' failed`),
          );
          return this.collectPods(name);
        }
      }
      const shutdown = (this.server.get("workflows", ns, name)?.spec as { shutdown?: string } | undefined)?.shutdown;
      await this.update(name, (wf) =>
        complete(wf, shutdown ? "Failed" : "Succeeded", shutdown ? `Stopped with strategy '${shutdown}'` : ""),
      );
      await this.collectPods(name);
    } catch (error) {
      if (!(error instanceof Error && /not found/.test(error.message))) throw error;
    } finally {
      this.running.delete(name);
      this.busy.delete(name);
    }
  }

  /** A Secret a container needs; the kubelet retries the container until it exists (or the pod is stopped). */
  private async secretFor(ns: string, name: string, signal: AbortSignal) {
    if (!name) return undefined;
    for (let waited = 0; waited < 30_000 && !signal.aborted; waited += 10) {
      const secret = this.server.get("secrets", ns, name);
      if (secret) return secret;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return undefined;
  }

  private async runPod(
    workflow: string,
    task: DagTask,
    nodeName: string,
    nodeId: string,
    parameters: Record<string, string>,
    signal: AbortSignal,
    template?: StepTemplate,
  ): Promise<{ code: number; shutdown?: string }> {
    const ns = this.options.namespace;
    let main: Record<string, unknown>;
    try {
      main = mainContainer(template, parameters);
    } catch (error) {
      // Argo cannot build the pod: the node errors with the reason, and the run fails.
      await this.update(workflow, (wf) => {
        const nodes = (wf.status as { nodes: Record<string, Node> }).nodes;
        nodes[nodeId] = {
          id: nodeId,
          name: nodeName,
          displayName: task.name,
          type: "Pod",
          templateName: task.template,
          phase: "Error",
          message: (error as Error).message,
          boundaryID: workflow,
          startedAt: now(),
          finishedAt: now(),
        };
      });
      return { code: 1 };
    }
    const podName = nodeId === workflow ? workflow : `${workflow}-${task.template}-${nodeId.slice(workflow.length + 1)}`;
    await this.update(workflow, (wf) => {
      const nodes = (wf.status as { nodes: Record<string, Node> }).nodes;
      nodes[nodeId] = {
        id: nodeId,
        name: nodeName,
        displayName: task.name,
        type: "Pod",
        templateName: task.template,
        templateScope: `local/${workflow}`,
        phase: "Pending",
        boundaryID: workflow,
        startedAt: now(),
        finishedAt: null,
      };
      if (nodeId !== workflow) {
        const root = nodes[workflow]!;
        root.children = [...new Set([...(root.children ?? []), nodeId])];
      }
    });
    try {
      this.server.delete("pods", ns, podName);
    } catch {
      // no pod left from an earlier attempt
    }
    const owner = this.server.get("workflows", ns, workflow);
    if (!owner) throw new Error(`workflow ${workflow} not found`); // deleted meanwhile: the run just ends
    this.server.create("pods", ns, {
      metadata: {
        name: podName,
        labels: { "workflows.argoproj.io/workflow": workflow, "workflows.argoproj.io/completed": "false" },
        annotations: {
          "workflows.argoproj.io/node-id": nodeId,
          "workflows.argoproj.io/node-name": nodeName,
          "kubectl.kubernetes.io/default-container": "main",
        },
        ownerReferences: [{ apiVersion: "argoproj.io/v1alpha1", kind: "Workflow", name: workflow, uid: owner.metadata.uid! }],
      },
      spec: { initContainers: [{ name: "init" }], containers: [{ name: "wait" }, main], restartPolicy: "Never" },
      status: { phase: "Running" },
    });
    await this.update(workflow, (wf) => {
      (wf.status as { nodes: Record<string, Node> }).nodes[nodeId]!.phase = "Running";
    });

    // The main container's env names the Secret (secretKeyRef, not optional): like the kubelet, wait until it exists.
    const secret = await this.secretFor(ns, parameters.credential_secret ?? "", signal);
    const token = secret ? Buffer.from(((secret.data as Record<string, string>) ?? {}).token ?? "", "base64").toString("utf8") : "";
    let code: number;
    let outputs: StepResult["outputs"];
    try {
      const result = await this.options.script({
        workflow,
        step: task.name.replace(/-/g, "_"),
        template: task.template,
        parameters,
        token,
        container: main as unknown as PodContainer,
        signal,
        log: (line) => this.server.appendLog(ns, podName, line),
      });
      ({ code, outputs } = typeof result === "number" ? { code: result, outputs: undefined } : result);
    } catch {
      code = signal.aborted ? 143 : 1;
    }
    const shutdown = signal.aborted
      ? (this.server.get("workflows", ns, workflow)?.spec as { shutdown?: string } | undefined)?.shutdown
      : undefined;
    this.server.endLog(ns, podName);
    const logKey = `${workflow}/${podName}/main.log`;
    if (this.options.archive) await this.options.archive.put(logKey, this.server.logText(ns, podName));
    const phase = shutdown ? "Failed" : code === 0 ? "Succeeded" : "Failed";
    await this.update(workflow, (wf) => {
      const node = (wf.status as { nodes: Record<string, Node> }).nodes[nodeId]!;
      Object.assign(node, {
        phase,
        finishedAt: now(),
        resourcesDuration: { cpu: 1, memory: 2 },
        message: shutdown ? `workflow shutdown with strategy:  ${shutdown}` : code === 0 ? "" : `main: Error (exit code ${code})`,
        outputs: {
          exitCode: String(code),
          artifacts: this.options.archive ? [{ name: "main-logs", s3: { key: logKey } }] : [],
          ...(outputs && code === 0 ? { parameters: outputs.parameters } : {}),
        },
      });
    });
    try {
      this.server.mergePatch("pods", ns, podName, {
        metadata: { labels: { "workflows.argoproj.io/completed": "true" } },
        status: { phase: phase === "Succeeded" ? "Succeeded" : "Failed" },
      });
    } catch {
      // the pod is already gone
    }
    return shutdown ? { code, shutdown } : { code };
  }

  private async collectPods(workflow: string): Promise<void> {
    if (!this.options.podGC) return;
    for (const pod of this.server.list(
      "pods",
      this.options.namespace,
      (o) => o.metadata.labels?.["workflows.argoproj.io/workflow"] === workflow,
    )) {
      this.server.delete("pods", this.options.namespace, pod.metadata.name!);
    }
  }

  /** Read-modify-write with the resourceVersion read, retried on 409 as the real controller does. */
  private async update(name: string, change: (wf: KubeObject) => void): Promise<void> {
    for (let attempt = 0; attempt < 20; attempt += 1) {
      const workflow = this.server.get("workflows", this.options.namespace, name);
      if (!workflow) throw new Error(`workflow ${name} not found`);
      change(workflow);
      try {
        this.server.replace("workflows", this.options.namespace, name, workflow);
        await new Promise((resolve) => setImmediate(resolve));
        return;
      } catch (error) {
        if ((error as { code?: number }).code !== 409) throw error;
      }
    }
    throw new Error(`workflow ${name}: too many conflicts`);
  }
}

interface PodContainer {
  image: string;
  command?: string[];
  args?: string[];
  env?: Array<{ name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }>;
  volumeMounts?: Array<{ name: string; mountPath: string }>;
}

interface StepTemplate {
  name: string;
  dag?: { tasks: DagTask[] };
  podSpecPatch?: string;
  container?: Record<string, unknown> & { resources?: Resources };
}

type Resources = { requests?: Record<string, unknown>; limits?: Record<string, unknown> };

/** Argo's own words when a quantity does not decode (argo.md §17). */
const QUANTITY_MESSAGE = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
const QUANTITY = /^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$/;

function quantityProblems(resources: Resources | undefined): string[] {
  return [resources?.requests, resources?.limits]
    .flatMap((list) => Object.entries(list ?? {}))
    .filter(([, value]) => !(typeof value === "number" || (typeof value === "string" && QUANTITY.test(value))))
    .map(([name, value]) => `${name}: ${JSON.stringify(value)}`);
}

/** The step's main container as its pod gets it: the template resolved, then its podSpecPatch merged by container name. */
function mainContainer(template: StepTemplate | undefined, parameters: Record<string, string>): Record<string, unknown> {
  const resolve = (value: unknown): unknown => {
    if (typeof value === "string")
      return value.replace(/\{\{workflow\.parameters\.([a-z0-9_-]+)\}\}/gi, (_, name: string) => parameters[name] ?? "");
    if (Array.isArray(value)) return value.map(resolve);
    if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v)]));
    return value;
  };
  let container: Record<string, unknown> = { name: "main", ...(resolve(template?.container ?? {}) as Record<string, unknown>) };
  const patchText = template?.podSpecPatch === undefined ? "" : (resolve(template.podSpecPatch) as string);
  if (patchText) {
    let patch: { containers?: Array<Record<string, unknown>> };
    try {
      patch = JSON.parse(patchText) as typeof patch;
    } catch {
      throw new Error(`Error applying PodSpecPatch: ${patchText.slice(0, 80)} is not a pod spec`);
    }
    const own = patch.containers?.find((c) => c.name === "main");
    if (own) container = deepMerge(container, own) as Record<string, unknown>;
  }
  if (quantityProblems(container.resources as Resources | undefined).length) throw new Error(QUANTITY_MESSAGE);
  return container;
}

function deepMerge(target: unknown, patch: unknown): unknown {
  if (!patch || typeof patch !== "object" || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    target && typeof target === "object" && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(patch)) {
    // As in Kubernetes' strategic merge patch, null deletes the field.
    if (value === null) delete out[key];
    else out[key] = deepMerge(out[key], value);
  }
  return out;
}

function complete(wf: KubeObject, phase: string, message: string): void {
  wf.metadata.labels = { ...wf.metadata.labels, "workflows.argoproj.io/completed": "true", "workflows.argoproj.io/phase": phase };
  const status = (wf.status ?? {}) as Record<string, unknown> & { nodes?: Record<string, Node> };
  const root = status.nodes?.[wf.metadata.name!];
  if (root) Object.assign(root, { phase, finishedAt: now(), message });
  wf.status = {
    ...status,
    phase,
    message,
    finishedAt: now(),
    conditions: [
      { type: "PodRunning", status: "False" },
      { type: "Completed", status: "True" },
    ],
  };
}

function now(): string {
  return new Date().toISOString();
}
