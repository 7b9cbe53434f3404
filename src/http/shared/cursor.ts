/** Opaque page cursors: the (createdAt, uid) of the last item a page held. */
const UID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Cursors name times a database can hold and compare (year 1970 to 9999). */
const EARLIEST = Date.UTC(1970, 0, 1);
const LATEST = Date.UTC(9999, 11, 31);

export function encodeCursor(position: { createdAt: Date; uid: string }): string {
  return Buffer.from(JSON.stringify([position.createdAt.toISOString(), position.uid])).toString("base64url");
}

/** The position a cursor names, or undefined when it is not one this service issued. */
export function decodeCursor(cursor: string): { createdAt: Date; uid: string } | undefined {
  if (cursor.length > 200) return undefined;
  try {
    const decoded: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (!Array.isArray(decoded) || decoded.length !== 2) return undefined;
    const [time, uid] = decoded as [unknown, unknown];
    if (typeof time !== "string" || typeof uid !== "string" || !UID.test(uid)) return undefined;
    const createdAt = new Date(time);
    const ms = createdAt.getTime();
    return Number.isFinite(ms) && ms >= EARLIEST && ms <= LATEST ? { createdAt, uid } : undefined;
  } catch {
    return undefined;
  }
}
