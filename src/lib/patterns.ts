/** Shapes several layers check the same way, defined once. */

/** A uid as this service issues them: lowercase hex in 8-4-4-4-12 groups (no `urn:uuid:`, no braces). */
export const UID_PATTERN = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$";

/** A Kubernetes quantity as this service accepts them (`500m`, `2`, `4000Mi`, `8Gi`). */
export const QUANTITY_PATTERN = "^[0-9]+(\\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$";
export const QUANTITY = new RegExp(QUANTITY_PATTERN);

/** An object-store key: path segments of safe characters, never `.` or `..`. */
const KEY_SEGMENTS = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;
export function isSafeObjectKey(key: string): boolean {
  return KEY_SEGMENTS.test(key) && !key.split("/").some((segment) => segment === "." || segment === "..");
}
