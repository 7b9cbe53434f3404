/**
 * What a real Kubernetes API server does to a custom resource before it stores it, driven by the
 * CRD's own `openAPIV3Schema` (argo.md §17): unknown fields of structural schemas are pruned
 * (except under `x-kubernetes-preserve-unknown-fields`), `null` of non-nullable fields is
 * dropped, defaults are applied, and the object is validated: types, int-or-string, formats,
 * patterns, enums, bounds, required fields, list-map keys. CEL rules
 * (`x-kubernetes-validations`) are not evaluated, as on an older server. Messages follow the
 * API server's wording, e.g. `spec.x: Invalid value: "v": spec.x in body should match '...'`.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";

export interface StructuralSchema {
  type?: "object" | "array" | "string" | "integer" | "number" | "boolean";
  properties?: Record<string, StructuralSchema>;
  additionalProperties?: StructuralSchema | boolean;
  items?: StructuralSchema;
  required?: string[];
  enum?: unknown[];
  default?: unknown;
  nullable?: boolean;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  anyOf?: StructuralSchema[];
  "x-kubernetes-int-or-string"?: boolean;
  "x-kubernetes-preserve-unknown-fields"?: boolean;
  "x-kubernetes-list-type"?: "atomic" | "set" | "map";
  "x-kubernetes-list-map-keys"?: string[];
}

const CRDS = path.resolve("..", "shared", "argo", "crds");
const schemas = new Map<string, StructuralSchema>();

/** The `openAPIV3Schema` of one of Argo's full CRDs (parsed once per process). */
export function crdSchema(plural: "workflows" | "workflowtemplates"): StructuralSchema {
  let schema = schemas.get(plural);
  if (!schema) {
    const crd = parse(readFileSync(path.join(CRDS, `argoproj.io_${plural}.full.yaml`), "utf8")) as {
      spec: { versions: Array<{ schema: { openAPIV3Schema: StructuralSchema } }> };
    };
    schema = crd.spec.versions[0]!.schema.openAPIV3Schema;
    schemas.set(plural, schema);
  }
  return schema;
}

/** Prunes, defaults and validates `object` (a copy is returned); `problems` empty means the server would store it. */
export function admit(schema: StructuralSchema, object: unknown): { object: unknown; problems: string[] } {
  const copy = structuredClone(object);
  const problems: string[] = [];
  const admitted = visit(schema, copy, "", problems, true);
  return { object: admitted, problems };
}

const PRUNE = Symbol("prune");

function visit(schema: StructuralSchema, value: unknown, at: string, problems: string[], root = false): unknown {
  if (value === null) return schema.nullable ? null : PRUNE;
  if (schema["x-kubernetes-int-or-string"]) {
    if (typeof value === "number" && Number.isInteger(value)) return value;
    if (typeof value !== "string")
      return problem(
        problems,
        at,
        `Invalid value: ${render(value)}: ${at} in body must be of type integer,string: ${render(typeName(value))}`,
        value,
      );
    return checkString(schema, value, at, problems);
  }
  switch (schema.type) {
    case "object":
      if (typeof value !== "object" || Array.isArray(value))
        return problem(
          problems,
          at,
          `Invalid value: ${render(typeName(value))}: ${at} in body must be of type object: ${render(typeName(value))}`,
          value,
        );
      return visitObject(schema, value as Record<string, unknown>, at, problems, root);
    case "array": {
      if (!Array.isArray(value))
        return problem(
          problems,
          at,
          `Invalid value: ${render(typeName(value))}: ${at} in body must be of type array: ${render(typeName(value))}`,
          value,
        );
      const items = value
        .map((item, i) => (schema.items ? visit(schema.items, item, `${at}[${i}]`, problems) : item))
        .filter((item) => item !== PRUNE);
      if (schema.maxItems !== undefined && items.length > schema.maxItems)
        problems.push(`${at}: Too many: ${items.length}: must have at most ${schema.maxItems} items`);
      if (schema.minItems !== undefined && items.length < schema.minItems)
        problems.push(`${at}: Invalid value: ${items.length}: ${at} in body should have at least ${schema.minItems} items`);
      checkListType(schema, items, at, problems);
      return items;
    }
    case "string":
      if (typeof value !== "string")
        return problem(
          problems,
          at,
          `Invalid value: ${render(typeName(value))}: ${at} in body must be of type string: ${render(typeName(value))}`,
          value,
        );
      return checkString(schema, value, at, problems);
    case "integer":
      if (typeof value !== "number" || !Number.isInteger(value))
        return problem(
          problems,
          at,
          `Invalid value: ${render(typeName(value))}: ${at} in body must be of type integer: ${render(typeName(value))}`,
          value,
        );
      return checkNumber(schema, value, at, problems);
    case "number":
      if (typeof value !== "number")
        return problem(
          problems,
          at,
          `Invalid value: ${render(typeName(value))}: ${at} in body must be of type number: ${render(typeName(value))}`,
          value,
        );
      return checkNumber(schema, value, at, problems);
    case "boolean":
      if (typeof value !== "boolean")
        return problem(
          problems,
          at,
          `Invalid value: ${render(typeName(value))}: ${at} in body must be of type boolean: ${render(typeName(value))}`,
          value,
        );
      return value;
    default:
      return value; // a schema without a type (preserve-unknown-fields leaves): anything goes
  }
}

function visitObject(
  schema: StructuralSchema,
  value: Record<string, unknown>,
  at: string,
  problems: string[],
  root: boolean,
): Record<string, unknown> {
  const preserve = schema["x-kubernetes-preserve-unknown-fields"] === true;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    const childAt = at ? `${at}.${key}` : key;
    const known = schema.properties?.[key];
    // The API server handles metadata itself and never prunes apiVersion/kind.
    if (root && (key === "metadata" || key === "apiVersion" || key === "kind")) {
      out[key] = child;
      continue;
    }
    if (known) {
      const admitted = visit(known, child, childAt, problems);
      if (admitted !== PRUNE) out[key] = admitted;
    } else if (typeof schema.additionalProperties === "object") {
      const admitted = visit(schema.additionalProperties, child, childAt, problems);
      if (admitted !== PRUNE) out[key] = admitted;
    } else if (preserve || schema.additionalProperties === true) {
      if (child !== null) out[key] = child;
    }
    // Anything else is an unknown field of a structural schema: pruned, as a real server does.
  }
  for (const [key, child] of Object.entries(schema.properties ?? {})) {
    if (out[key] === undefined && child.default !== undefined) out[key] = structuredClone(child.default);
  }
  for (const key of schema.required ?? []) {
    if (out[key] === undefined) problems.push(`${at ? `${at}.` : ""}${key}: Required value`);
  }
  return out;
}

function checkString(schema: StructuralSchema, value: string, at: string, problems: string[]): unknown {
  if (schema.enum && !schema.enum.includes(value))
    problems.push(`${at}: Unsupported value: ${render(value)}: supported values: ${schema.enum.map(render).join(", ")}`);
  if (schema.pattern && !new RegExp(schema.pattern, "u").test(value))
    problems.push(`${at}: Invalid value: ${render(value)}: ${at} in body should match '${schema.pattern}'`);
  if (schema.maxLength !== undefined && [...value].length > schema.maxLength)
    problems.push(`${at}: Too long: may not be more than ${schema.maxLength} bytes`);
  if (schema.minLength !== undefined && [...value].length < schema.minLength)
    problems.push(`${at}: Invalid value: ${render(value)}: ${at} in body should be at least ${schema.minLength} chars long`);
  if (schema.format === "date-time" && !/^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(value)) {
    problems.push(`${at}: Invalid value: ${render(value)}: ${at} in body must be of type date-time: ${render(value)}`);
  }
  if (schema.format === "byte" && !/^[A-Za-z0-9+/]*={0,2}$/.test(value))
    problems.push(`${at}: Invalid value: ${render(value)}: ${at} in body must be of type byte: ${render(value)}`);
  return value;
}

function checkNumber(schema: StructuralSchema, value: number, at: string, problems: string[]): unknown {
  if (schema.minimum !== undefined && value < schema.minimum)
    problems.push(`${at}: Invalid value: ${value}: ${at} in body should be greater than or equal to ${schema.minimum}`);
  if (schema.maximum !== undefined && value > schema.maximum)
    problems.push(`${at}: Invalid value: ${value}: ${at} in body should be less than or equal to ${schema.maximum}`);
  if (schema.format === "int32" && (value < -(2 ** 31) || value > 2 ** 31 - 1))
    problems.push(`${at}: Invalid value: ${value}: ${at} in body should be a 32-bit integer`);
  if (schema.enum && !schema.enum.includes(value))
    problems.push(`${at}: Unsupported value: ${value}: supported values: ${schema.enum.join(", ")}`);
  return value;
}

function checkListType(schema: StructuralSchema, items: unknown[], at: string, problems: string[]): void {
  const type = schema["x-kubernetes-list-type"];
  if (type === "set") {
    const seen = new Set<string>();
    items.forEach((item, i) => {
      const key = JSON.stringify(item);
      if (seen.has(key)) problems.push(`${at}[${i}]: Duplicate value: ${key}`);
      seen.add(key);
    });
  } else if (type === "map") {
    const keys = schema["x-kubernetes-list-map-keys"] ?? [];
    const seen = new Set<string>();
    items.forEach((item, i) => {
      const key = JSON.stringify(keys.map((k) => (item as Record<string, unknown>)[k]));
      if (seen.has(key))
        problems.push(
          `${at}[${i}]: Duplicate value: ${JSON.stringify(Object.fromEntries(keys.map((k) => [k, (item as Record<string, unknown>)[k]])))}`,
        );
      seen.add(key);
    });
  }
}

function problem(problems: string[], at: string, message: string, value: unknown): unknown {
  problems.push(`${at}: ${message}`);
  return value;
}

function typeName(value: unknown): string {
  if (Array.isArray(value)) return "array";
  if (Number.isInteger(value)) return "integer";
  return typeof value;
}

function render(value: unknown): string {
  return JSON.stringify(value);
}
