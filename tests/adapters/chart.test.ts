import { readFileSync, readdirSync, realpathSync } from "node:fs";
import path from "node:path";
import { describe, expect, test } from "@jest/globals";
import { Ajv } from "ajv";
import { parse } from "yaml";
import { argoSchemaProblems } from "../support/argo-schema.js";
import { chartRoleRules, disallowed } from "../support/chart-rbac.js";

const CHART = path.resolve("charts/argo-entrypoint");
const schema = JSON.parse(readFileSync(path.join(CHART, "values.schema.json"), "utf8"));
const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
const values = parse(readFileSync(path.join(CHART, "values.yaml"), "utf8"));

describe("charts/argo-entrypoint", () => {
  test("When values.yaml is checked against values.schema.json, then it is valid", () => {
    expect(validate(values) ? [] : validate.errors).toEqual([]);
  });

  test.each([
    ["a replica count as text", { replicaCount: "two" }, "/replicaCount"],
    ["an unknown top-level key", { replicas: 2 }, ""],
    ["a quantity that is not one", { tasks: { stepCpu: "lots" } }, "/tasks/stepCpu"],
    ["a missing database Secret", { database: {} }, "/database"],
    [
      "an artifact bucket too short",
      { argo: { ...values.argo, artifactRepository: { ...values.argo.artifactRepository, bucket: "b" } } },
      "/argo/artifactRepository/bucket",
    ],
    ["a bad time zone offset", { timeZoneOffset: "UTC+8" }, "/timeZoneOffset"],
    ["the session cookie named auth_token", { sessions: { ...values.sessions, cookieName: "auth_token" } }, "/sessions/cookieName"],
    ["a CORS origin with a path", { corsOrigins: ["https://dash.example.org/app"] }, "/corsOrigins/0"],
    [
      "a dashboard Service name that is not one",
      { ingress: { ...values.ingress, dashboard: { serviceName: "Dash_Board" } } },
      "/ingress/dashboard/serviceName",
    ],
  ])("When values have %s, then the schema rejects them", (_what, override, at) => {
    expect(validate({ ...values, ...override })).toBe(false);
    expect(validate.errors!.map((e) => e.instancePath)).toContain(at);
  });

  test("When the chart ships WorkflowTemplates, then it reads them from workflow-templates/ and each is valid for Argo", () => {
    expect(realpathSync(path.join(CHART, "workflow-templates"))).toBe(path.resolve("workflow-templates"));
    const files = readdirSync(path.join(CHART, "workflow-templates")).filter((f) => f.endsWith(".yaml"));
    expect(files).toHaveLength(5); // one per task kind, and the image build
    for (const file of files)
      expect(argoSchemaProblems("WorkflowTemplate", parse(readFileSync(path.join(CHART, "workflow-templates", file), "utf8")))).toEqual([]);
    const installer = readFileSync(path.join(CHART, "templates/workflowtemplates.yaml"), "utf8");
    expect(installer).toContain('.Files.Glob "workflow-templates/*.yaml"');
    // The names the files carry are what the chart's prefix replaces, so the service finds them.
    for (const file of files)
      expect(readFileSync(path.join(CHART, "workflow-templates", file), "utf8")).toContain("\n  name: argo-entrypoint-");
    expect(installer).toContain('replace "\\n  name: argo-entrypoint-" (printf "\\n  name: %s" $.Values.argo.templatePrefix)');
  });

  test("When metrics are enabled, then the pods expose a metrics port with scrape annotations and a ServiceMonitor can scrape it", () => {
    expect(values.metrics).toMatchObject({ enabled: true, port: 9464, serviceMonitor: { enabled: false } });
    const template = (name: string) => readFileSync(path.join(CHART, "templates", name), "utf8");
    expect(template("configmap.yaml")).toContain("METRICS_PORT: {{ .Values.metrics.port | quote }}");
    expect(template("deployment.yaml")).toContain('prometheus.io/scrape: "true"');
    expect(template("deployment.yaml")).toContain("- { name: metrics, containerPort: {{ .Values.metrics.port }} }");
    expect(template("service.yaml")).toContain("- { name: metrics, port: {{ .Values.metrics.port }}, targetPort: metrics }");
    const monitor = template("servicemonitor.yaml");
    expect(monitor).toContain("{{- if and .Values.metrics.enabled .Values.metrics.serviceMonitor.enabled }}");
    expect(monitor).toMatch(/kind: ServiceMonitor[\s\S]*- port: metrics\n\s+path: \/metrics/);
    expect(validate({ ...values, metrics: { ...values.metrics, port: "9464" } })).toBe(false);
  });

  test("When a dashboard Service is named, then the Ingress sends /api/ to the service and the rest of the host to the dashboard", () => {
    const ingress = readFileSync(path.join(CHART, "templates/ingress.yaml"), "utf8");
    const routes = ingress.slice(ingress.indexOf("{{- with .Values.ingress.dashboard.serviceName }}"), ingress.indexOf("{{- else }}"));
    expect(routes).toMatch(
      /- path: \/api\/\n\s+pathType: Prefix\n\s+backend:\n\s+service:\n\s+name: \{\{ include "argo-entrypoint.name" \$ \}\}/,
    );
    expect(routes).toMatch(
      /- path: \/\n\s+pathType: Prefix\n\s+backend:\n\s+service:\n\s+name: \{\{ \. \}\}\n\s+port: \{ number: \{\{ \$\.Values\.ingress\.dashboard\.servicePort \}\} \}/,
    );
    // The service learns every setting of the sign-in from the chart.
    const configmap = readFileSync(path.join(CHART, "templates/configmap.yaml"), "utf8");
    for (const variable of [
      "SESSION_COOKIE_NAME",
      "SESSION_IDLE_SECONDS",
      "SESSION_MAX_SECONDS",
      "CORS_ORIGINS",
      "SIGNUP_ENABLED",
      "SIGNUP_ORGANIZATION",
    ])
      expect(configmap).toContain(`${variable}:`);
  });

  test("When the Role is read, then it grants no wildcard and nothing cluster-wide", () => {
    for (const rule of chartRoleRules()) {
      expect(rule.verbs).not.toContain("*");
      expect(rule.resources).not.toContain("*");
    }
    expect(readFileSync(path.join(CHART, "templates/role.yaml"), "utf8")).toMatch(/^kind: Role$/m);
  });

  test("When a request the Role does not cover is checked, then it is reported (the RBAC check can fail)", () => {
    expect(
      disallowed([
        { method: "GET", path: "/api/v1/namespaces/argo/configmaps", query: {}, resource: "configmaps", watch: false },
        { method: "GET", path: "/api/v1/namespaces/argo/secrets/x", query: {}, resource: "secrets", watch: false },
        {
          method: "DELETE",
          path: "/apis/argoproj.io/v1alpha1/namespaces/argo/workflows/x",
          query: {},
          resource: "workflows",
          watch: false,
        },
      ]),
    ).toEqual(["/configmaps:list", "/secrets:get"]);
  });

  test("When the Deployment is read, then it runs as non-root on a read-only root filesystem with both probes", () => {
    const deployment = readFileSync(path.join(CHART, "templates/deployment.yaml"), "utf8");
    for (const needle of [
      "runAsNonRoot: true",
      "readOnlyRootFilesystem: true",
      "path: /readyz",
      "path: /healthz",
      "terminationGracePeriodSeconds",
      'drop: ["ALL"]',
    ]) {
      expect(deployment).toContain(needle);
    }
  });
});
