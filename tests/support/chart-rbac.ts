import { readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import type { RecordedRequest } from "./fake-kube/fake-kube-apiserver.js";

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/** The chart's Role rules (its rules are literal; the template lines around them are dropped). */
export function chartRoleRules(): Rule[] {
  const text = readFileSync(path.resolve("charts/argo-entrypoint/templates/role.yaml"), "utf8");
  const literal = text
    .split("\n")
    .filter((line) => !line.includes("{{"))
    .join("\n");
  return (parse(literal) as { rules: Rule[] }).rules;
}

/** What RBAC sees in a request: API group, resource (with subresource), verb. */
function permissionOf(request: RecordedRequest): { group: string; resource: string; verb: string } {
  const parts = request.path.split("/").filter(Boolean);
  const group = parts[0] === "api" ? "" : parts[1]!;
  const named = parts[0] === "api" ? parts.length >= 6 : parts.length >= 7;
  const verb =
    ({ POST: "create", PUT: "update", PATCH: "patch", DELETE: "delete" } as Record<string, string>)[request.method] ??
    (request.watch ? "watch" : named ? "get" : "list");
  return { group, resource: request.resource, verb };
}

const key = (p: { group: string; resource: string; verb: string }) => `${p.group}/${p.resource}:${p.verb}`;

/** Requests the Role does not allow. */
export function disallowed(requests: RecordedRequest[]): string[] {
  const rules = chartRoleRules();
  return [
    ...new Set(
      requests
        .map(permissionOf)
        .filter((p) => !rules.some((r) => r.apiGroups.includes(p.group) && r.resources.includes(p.resource) && r.verbs.includes(p.verb)))
        .map(key),
    ),
  ];
}

/** Permissions the Role grants that no request used. */
export function unused(requests: RecordedRequest[]): string[] {
  const used = new Set(requests.map((r) => key(permissionOf(r))));
  return chartRoleRules()
    .flatMap((r) =>
      r.apiGroups.flatMap((group) => r.resources.flatMap((resource) => r.verbs.map((verb) => key({ group, resource, verb })))),
    )
    .filter((k) => !used.has(k));
}
