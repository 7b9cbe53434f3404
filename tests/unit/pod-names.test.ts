import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, test } from "@jest/globals";
import type { Workflow } from "../../src/adapters/argo/argo-types.js";
import { nodesOf, podNameOf } from "../../src/adapters/argo/workflow-status.js";

const FIXTURES = path.resolve("..", "shared", "argo", "fixtures");
const index = JSON.parse(readFileSync(path.join(FIXTURES, "pod-names-index.json"), "utf8")) as Record<
  string,
  { podNodes: Record<string, { podNameV1: string; podNameV2: string }> }
>;
const cases = Object.entries(index).flatMap(([file, entry]) =>
  Object.entries(entry.podNodes).map(([id, names]) => [file, id, names] as const),
);

describe("podNameOf (argo.md §3)", () => {
  test.each(cases)("When %s node %s is named under both formats, then the names are Argo's", (file, id, names) => {
    const workflow = JSON.parse(readFileSync(path.join(FIXTURES, file), "utf8")) as Workflow;
    const node = nodesOf(workflow)[id]!;
    const as = (format: "v1" | "v2"): Workflow => ({
      ...workflow,
      metadata: {
        ...workflow.metadata,
        annotations: { ...workflow.metadata.annotations, "workflows.argoproj.io/pod-name-format": format },
      },
    });
    expect(podNameOf(as("v1"), node)).toBe(names.podNameV1);
    expect(podNameOf(as("v2"), node)).toBe(names.podNameV2);
  });

  test("When the annotation is absent, then v2 is assumed (Argo's default), hashing the node's name", () => {
    const workflow = { metadata: { name: "steps-4k5vn" }, spec: {} } as unknown as Workflow;
    // argo.md §3: fnv1a32("steps-4k5vn[0].hello1") = 1044844302
    expect(podNameOf(workflow, { id: "whatever", name: "steps-4k5vn[0].hello1", type: "Pod", templateName: "whalesay" })).toBe(
      "steps-4k5vn-whalesay-1044844302",
    );
  });

  test("When a template name is very long, then the prefix is cut to 242 characters as Argo does", () => {
    const workflow = { metadata: { name: "steps-4k5vn" }, spec: {} } as unknown as Workflow;
    const name = podNameOf(workflow, { id: "x", name: "steps-4k5vn[0].hello1", type: "Pod", templateName: "t".repeat(300) });
    expect(name).toBe(`${`steps-4k5vn-${"t".repeat(300)}`.slice(0, 242)}-1044844302`);
  });
});
