import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";
import { ValidationError, type FieldProblem } from "../../domain/errors.js";
import { UID_PATTERN } from "../../lib/patterns.js";

// ajv-formats is CommonJS; under ESM its plugin may arrive wrapped in `default`.
type FormatsPlugin = (ajv: Ajv) => Ajv;
const addFormats = ((addFormatsModule as unknown as { default?: FormatsPlugin }).default ?? addFormatsModule) as unknown as FormatsPlugin;

type BodyKind = "json" | "multipart" | "query";

/**
 * One ajv instance per body kind, every schema compiled once at start-up. Multipart fields
 * arrive as strings, so that instance coerces them to the schema's types.
 */
export class BodyValidator {
  private readonly json = addFormats(new Ajv({ allErrors: true, strict: false }));
  private readonly form = addFormats(new Ajv({ allErrors: true, strict: false, coerceTypes: true }));
  /** Query strings: text coerced to the schema's types, and a single value to a list where one is wanted. */
  private readonly query = addFormats(new Ajv({ allErrors: true, strict: false, coerceTypes: "array" }));
  private readonly compiled = new Map<string, ValidateFunction>();

  compile(key: string, schema: object, kind: BodyKind): void {
    this.compiled.set(`${kind}:${key}`, { json: this.json, multipart: this.form, query: this.query }[kind].compile(schema));
  }

  /** Validates in place (coercion may rewrite fields); throws ValidationError listing every problem. */
  validate(key: string, kind: BodyKind, body: Record<string, unknown>): void {
    const validate = this.compiled.get(`${kind}:${key}`);
    if (!validate) throw new Error(`no schema compiled for ${kind}:${key}`);
    if (validate(body)) return;
    const problems = (validate.errors ?? []).map(toProblem);
    throw new ValidationError(`Invalid request: ${problems.map((p) => `${p.field} ${p.message}`).join("; ")}`, { problems });
  }
}

function toProblem(error: ErrorObject): FieldProblem {
  const path = error.instancePath.split("/").filter(Boolean).join(".");
  if (error.keyword === "required") {
    const missing = (error.params as { missingProperty: string }).missingProperty;
    return { field: path ? `${path}.${missing}` : missing, message: "is required" };
  }
  if (error.keyword === "additionalProperties") {
    const extra = (error.params as { additionalProperty: string }).additionalProperty;
    return { field: path ? `${path}.${extra}` : extra, message: "is not a field of this body" };
  }
  if (error.keyword === "enum") {
    return { field: path, message: `must be one of ${(error.params as { allowedValues: unknown[] }).allowedValues.join(", ")}` };
  }
  if (error.keyword === "pattern" && (error.params as { pattern?: string }).pattern === UID_PATTERN)
    return { field: path, message: 'must match format "uuid"' };
  return { field: path || "body", message: error.message ?? "is invalid" };
}
