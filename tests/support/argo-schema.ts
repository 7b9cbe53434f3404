import { readFileSync } from "node:fs";
import path from "node:path";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";

type FormatsPlugin = (ajv: Ajv2020) => Ajv2020;
const addFormats = ((addFormatsModule as unknown as { default?: FormatsPlugin }).default ?? addFormatsModule) as unknown as FormatsPlugin;

/** Argo v4.1.2's published JSON schema, from ../shared/argo (see its README for the two patches). */
const SCHEMA_FILE = path.resolve("..", "shared", "argo", "schema.json");
let validators: { Workflow: ValidateFunction; WorkflowTemplate: ValidateFunction } | undefined;

function load() {
  const schema = JSON.parse(readFileSync(SCHEMA_FILE, "utf8")) as { definitions: Record<string, unknown> };
  // The schema types IntOrString as a string only; Argo (and the CRD) accept integers too.
  schema.definitions["io.k8s.apimachinery.pkg.util.intstr.IntOrString"] = { anyOf: [{ type: "integer" }, { type: "string" }] };
  const ajv = addFormats(new Ajv2020({ strict: false, allErrors: true }));
  for (const format of ["int32", "int64", "uint64"]) ajv.addFormat(format, { type: "number", validate: Number.isInteger });
  ajv.addSchema(schema, "argo");
  const get = (name: string) => ajv.getSchema(`argo#/definitions/io.argoproj.workflow.v1alpha1.${name}`)!;
  return { Workflow: get("Workflow"), WorkflowTemplate: get("WorkflowTemplate") };
}

/** Problems of a Workflow or WorkflowTemplate against Argo's schema (status excluded: it is not ours to render). */
export function argoSchemaProblems(kind: "Workflow" | "WorkflowTemplate", object: unknown): string[] {
  validators ??= load();
  const { status: _status, ...rendered } = object as Record<string, unknown>;
  const validate = validators[kind];
  if (validate(rendered)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message}`);
}
