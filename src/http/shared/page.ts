import { ValidationError } from "../../domain/errors.js";
import type { PageRequest } from "../../domain/ports.js";
import { decodeCursor } from "./cursor.js";

/** The most items one answer holds; a list without `limit` (the original's whole list) stops there, with `next_cursor`. */
const LIST_CAP = 1000;

/** `limit` and `cursor` taken out of the body (they are the surface's, not the operation's). */
export function takePage(body: Record<string, unknown>): PageRequest {
  const { limit, cursor } = body;
  delete body.limit;
  delete body.cursor;
  if (limit === undefined && cursor === undefined) return { limit: LIST_CAP };
  const problems = [];
  const size = typeof limit === "string" && /^\d{1,4}$/.test(limit) ? Number(limit) : limit;
  if (size !== undefined && (!Number.isInteger(size) || (size as number) < 1 || (size as number) > LIST_CAP))
    problems.push({ field: "limit", message: `must be an integer from 1 to ${LIST_CAP}` });
  let after: PageRequest["after"];
  if (cursor !== undefined) {
    after = typeof cursor === "string" ? decodeCursor(cursor) : undefined;
    if (!after) problems.push({ field: "cursor", message: "is not a cursor this service issued" });
  }
  if (problems.length)
    throw new ValidationError(`Invalid pagination: ${problems.map((p) => `${p.field} ${p.message}`).join("; ")}`, { problems });
  return after ? { limit: (size as number | undefined) ?? 100, after } : { limit: (size as number | undefined) ?? 100 };
}
