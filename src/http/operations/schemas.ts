/** Body field types shared by the operations, so each body reads like the original's field table. */
import { Type, type TSchema, type TUnsafe } from "@sinclair/typebox";
import { QUANTITY_PATTERN, UID_PATTERN } from "../../lib/patterns.js";

export const Uid = Type.String({ pattern: UID_PATTERN });
export const Name = Type.String({ minLength: 1, maxLength: 255 });
export const Text = Type.String({ maxLength: 10_000 });
/** The original's storage path of a file (`<org>/<project>/.../<uid>.<ext>`): compared with stored keys, never used as one. */
export const FilePath = Type.String({ minLength: 1, maxLength: 1024 });
export const Quantity = Type.String({ pattern: QUANTITY_PATTERN, maxLength: 20 });
/** An optional reference the original's forms send as "" when there is none (the handler reads "" as absent). */
export const UidOrNone = Type.Union([Type.Literal(""), Uid]);
/** A container image reference: registry/path:tag or @digest, no spaces or quotes. */
export const ImageReference = Type.String({
  pattern: "^[a-z0-9][a-z0-9._:/-]*(:[A-Za-z0-9._-]+)?(@sha256:[a-f0-9]{64})?$",
  maxLength: 300,
});
/** A free JSON object (a config's data). */
export const JsonObject = Type.Record(Type.String(), Type.Unknown());

/** One of fixed strings (plain `enum` in the schema, so errors read "must be one of ..."). */
export function oneOf<const T extends readonly string[]>(values: T): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: "string", enum: [...values] });
}

export const Optional = <T extends TSchema>(schema: T) => Type.Optional(schema);
