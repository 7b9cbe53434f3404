import { InvariantError } from "../../domain/errors.js";
import { isSafeObjectKey } from "../../lib/patterns.js";

/** Keys are built from uids by the domain; this is the last line of defence before a path or bucket. */
export function assertSafeKey(key: string): string {
  if (!isSafeObjectKey(key))
    throw new InvariantError(`an object key that is not safe reached the object store: ${JSON.stringify(key.slice(0, 200))}`);
  return key;
}
