import { ValidationError } from "../errors.js";
import { UID_PATTERN, isSafeObjectKey } from "../../lib/patterns.js";

/** Extensions become part of object keys, so they are held to a strict allowlist. */
const EXTENSION_PATTERN = /^[a-z0-9]{1,16}$/;

/** The original stores build files' extension as the literal "null": the key then has none. */
export function checkExtension(field: string, extension: string): string {
  const normalized = extension.trim().toLowerCase().replace(/^\./, "");
  if (normalized === "null" || EXTENSION_PATTERN.test(normalized)) return normalized;
  throw ValidationError.field(field, "must be 1-16 lowercase letters or digits");
}

/**
 * Object keys are built on the server from uids only (`<org>/<project>/...`, the original
 * layout); nothing a client names ever becomes part of a path.
 */
export function objectKey(segments: string[], ownerUid: string, extension: string): string {
  const name = extension === "null" ? ownerUid : `${ownerUid}.${extension}`;
  return [...segments, name].join("/");
}

/** The directory part, shown as the file's `path` like the original did. */
export function keyDirectory(key: string): string {
  return key.slice(0, Math.max(0, key.lastIndexOf("/")));
}

const UID = new RegExp(UID_PATTERN.slice(1, -1));
const OWNER_FILE_NAME = new RegExp(`^(${UID.source})(\\.[a-z0-9]{1,16})?$`);

/**
 * The owner uid an original-style `file_path` ends with (`<org>/<project>/.../<uid>.<ext>`), or
 * undefined when it is not such a path. The path itself is only ever compared with stored keys.
 */
export function ownerUidOfPath(filePath: string): string | undefined {
  if (filePath.length > 1024 || !isSafeObjectKey(filePath)) return undefined;
  const segments = filePath.split("/");
  if (segments.length < 2) return undefined;
  return OWNER_FILE_NAME.exec(segments[segments.length - 1]!)?.[1];
}
