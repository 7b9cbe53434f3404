import { ValidationError } from "../../domain/errors.js";

const KEY_PATTERN = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

/** Keys are built from uids by the domain; this is the last line of defence before a path or bucket. */
export function assertSafeKey(key: string): string {
  if (!KEY_PATTERN.test(key) || key.split("/").some((segment) => segment === "." || segment === "..")) {
    throw new ValidationError(`unsafe object key`);
  }
  return key;
}
