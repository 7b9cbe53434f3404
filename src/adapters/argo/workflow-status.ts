import { gunzipSync } from "node:zlib";
import type { BuildProgress } from "../../domain/builds/image-builds.js";
import type { RunPhase, StepProgress, TaskProgress } from "../../domain/tasks/task-engine.js";
import { BUILD_ATTEMPT_ANNOTATION, BUILD_UID_ANNOTATION, IMAGE_DIGEST_OUTPUT } from "./image-build-template.js";
import { TASK_ATTEMPT_ANNOTATION, TASK_UID_LABEL, type NodeStatus, type Workflow } from "./argo-types.js";
import { stepNameOf } from "./workflow-renderer.js";

const PHASES: readonly RunPhase[] = ["", "Pending", "Running", "Succeeded", "Failed", "Error"];

/**
 * A node's pod name, computed as Argo does (argo.md §3): v1 is the node id; v2 (the default,
 * or as the workflow's pod-name-format annotation says) is `<wf>-<template>-<fnv1a32(node name)>`.
 * Used to find archived logs once the pod is gone; live pods are found by label and annotation.
 */
export function podNameOf(workflow: Workflow, node: NodeStatus): string {
  const name = workflow.metadata.name!;
  if (workflow.metadata.annotations?.["workflows.argoproj.io/pod-name-format"] === "v1") return node.id;
  if (node.name === name) return name;
  const template = node.templateRef?.template ?? node.templateName ?? "";
  const prefix = template ? `${name}-${template}`.slice(0, 242) : name;
  return `${prefix}-${fnv1a32(node.name)}`;
}

/** The 32-bit FNV-1a hash of a string's UTF-8 bytes, as Go's hash/fnv computes it. */
function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, "utf8")) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash;
}

/** The nodes of a workflow, decompressing `compressedNodes` when the controller compressed them. */
export function nodesOf(workflow: Workflow): Record<string, NodeStatus> {
  const status = workflow.status;
  if (status?.nodes) return status.nodes;
  if (status?.compressedNodes)
    return JSON.parse(gunzipSync(Buffer.from(status.compressedNodes, "base64")).toString("utf8")) as Record<string, NodeStatus>;
  return {};
}

/**
 * A Workflow's state as task progress: the workflow phase, and per step (the DAG's Pod nodes,
 * by display name) phase, times, exit code, message and resources. For a retried step the
 * latest attempt counts.
 */
export function progressOf(workflow: Workflow): TaskProgress | undefined {
  const taskUid = workflow.metadata.labels?.[TASK_UID_LABEL];
  if (!taskUid) return undefined;
  const phase = (PHASES as readonly string[]).includes(workflow.status?.phase ?? "")
    ? ((workflow.status?.phase ?? "") as RunPhase)
    : "Running";
  const steps = new Map<string, StepProgress>();
  const pods = Object.values(nodesOf(workflow)).filter((node) => node.type === "Pod");
  pods.sort((a, b) => (a.startedAt ?? "").localeCompare(b.startedAt ?? ""));
  for (const node of pods) {
    const display = (node.displayName ?? node.name).replace(/\(\d+\)$/, "");
    const exit = node.outputs?.exitCode;
    steps.set(stepNameOf(display), {
      name: stepNameOf(display),
      phase: node.phase ?? "Pending",
      startedAt: node.startedAt ? new Date(node.startedAt) : null,
      finishedAt: node.finishedAt ? new Date(node.finishedAt) : null,
      exitCode: exit === undefined ? null : Number(exit),
      message: node.message ?? "",
      resources: node.resourcesDuration ?? {},
      nodeId: node.id,
      podName: podNameOf(workflow, node),
    });
  }
  const finishedAt = workflow.status?.finishedAt ? new Date(workflow.status.finishedAt) : null;
  const offloaded = workflow.status?.offloadNodeStatusVersion && !workflow.status.nodes && !workflow.status.compressedNodes;
  return {
    taskUid,
    phase,
    finishedAt,
    steps: [...steps.values()],
    message: workflow.status?.message ?? (offloaded ? "node status is offloaded to Argo's database; step details are unavailable" : ""),
    runName: workflow.metadata.name!,
    runUid: workflow.metadata.uid ?? null,
    attempt: Number(workflow.metadata.annotations?.[TASK_ATTEMPT_ANNOTATION] ?? 0),
  };
}

/** An image build Workflow's state (it has one Pod node), or undefined for any other Workflow. */
export function buildProgressOf(workflow: Workflow): BuildProgress | undefined {
  const annotations = workflow.metadata.annotations ?? {};
  const buildUid = annotations[BUILD_UID_ANNOTATION];
  if (!buildUid) return undefined;
  const phase = (PHASES as readonly string[]).includes(workflow.status?.phase ?? "")
    ? ((workflow.status?.phase ?? "") as RunPhase)
    : "Running";
  const node = Object.values(nodesOf(workflow)).find((n) => n.type === "Pod");
  const digest = node?.outputs?.parameters?.find((p) => p.name === IMAGE_DIGEST_OUTPUT)?.value?.trim();
  return {
    buildUid,
    attempt: Number(annotations[BUILD_ATTEMPT_ANNOTATION] ?? 1),
    phase,
    message: node?.message || workflow.status?.message || "",
    nodeId: node?.id ?? null,
    podName: node ? podNameOf(workflow, node) : null,
    imageDigest: digest && /^sha256:[0-9a-f]{64}$/.test(digest) ? digest : null,
    finishedAt: workflow.status?.finishedAt ? new Date(workflow.status.finishedAt) : null,
  };
}
