/** MRMS's early_stop_param, as a run body or an MRMS project carries it. */
import { Type, type Static } from "@sinclair/typebox";
import type { EarlyStopRule } from "../../domain/tasks/metric-history.js";
import { Optional } from "./schemas.js";

/** early_type: 0 none, 1 min, 2 max, 3 variance (codes or names, strings or numbers). */
const EARLY_TYPES = {
  "0": undefined,
  none: undefined,
  "1": "min",
  min: "min",
  "2": "max",
  max: "max",
  "3": "variance",
  variance: "variance",
} as const;

export const EarlyStopParam = Type.Object(
  {
    early_type: Type.Union([...Object.keys(EARLY_TYPES).map((t) => Type.Literal(t)), Type.Integer({ minimum: 0, maximum: 3 })]),
    early_key: Type.String({ pattern: "^[A-Za-z][A-Za-z0-9_.\\-/]{0,63}$" }),
    early_value: Type.Number(),
    minsteps: Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);

/** The rule a (validated) param sets; none for type 0 / none or no param. */
export function earlyStopRule(param: Static<typeof EarlyStopParam> | undefined): EarlyStopRule | undefined {
  const type = param && EARLY_TYPES[String(param.early_type) as keyof typeof EARLY_TYPES];
  return param && type ? { type, key: param.early_key, value: param.early_value, minSteps: param.minsteps ?? 0 } : undefined;
}
