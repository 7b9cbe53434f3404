import { createHash } from "node:crypto";
import type { Clock } from "../clock.js";
import { AuthenticationError } from "../errors.js";
import type { Database, IdGenerator } from "../ports.js";
import type { Principal } from "../principal.js";
import { toPrincipal } from "./credential-verifier.js";

export interface SessionSettings {
  /** A session unused for this long ends. */
  idleSeconds: number;
  /** A session ends this long after sign-in, however active. */
  maxSeconds: number;
}

export interface OpenedSession {
  /** The cookie's value; only its hash is stored. */
  token: string;
  expiresAt: Date;
}

/** Activity is recorded at most this often, so a busy dashboard does not write on every call. */
const TOUCH_INTERVAL_MS = 60_000;

/**
 * Browser sessions: opaque random tokens, stored as their sha256, that end when idle, at an
 * absolute limit, on sign-out, and when the user is revoked or its secret rotated (the session
 * remembers the secret version it was opened under).
 */
export class SessionService {
  constructor(private readonly deps: { db: Database; ids: IdGenerator; clock: Clock; settings: SessionSettings }) {}

  async open(principal: Principal): Promise<OpenedSession> {
    const user = await this.deps.db.users.find(principal.userUid);
    if (!user || user.revokedAt) throw new AuthenticationError("this account cannot sign in");
    const token = this.deps.ids.token(32);
    const now = this.deps.clock.now();
    const expiresAt = new Date(now.getTime() + this.deps.settings.maxSeconds * 1000);
    await this.deps.db.sessions.create({
      uid: hashOf(token),
      userUid: user.uid,
      secretVersion: user.secretVersion,
      createdAt: now,
      lastSeenAt: now,
      expiresAt,
    });
    return { token, expiresAt };
  }

  /** The signed-in user, or an AuthenticationError saying the session has ended. */
  async resolve(token: string): Promise<Principal> {
    const { db, clock, settings } = this.deps;
    const ended = new AuthenticationError("the session has ended; sign in again", {
      problems: [{ field: "Cookie", message: "names a session that has ended" }],
    });
    if (!/^[0-9a-f]{64}$/.test(token)) throw ended;
    const session = await db.sessions.find(hashOf(token));
    if (!session) throw ended;
    const now = clock.now();
    const user = await db.users.find(session.userUid);
    if (
      !user ||
      user.revokedAt ||
      user.secretVersion !== session.secretVersion ||
      session.expiresAt <= now ||
      now.getTime() - session.lastSeenAt.getTime() >= settings.idleSeconds * 1000
    ) {
      await db.sessions.delete(session.uid).catch(() => undefined); // already gone is as good
      throw ended;
    }
    if (now.getTime() - session.lastSeenAt.getTime() >= TOUCH_INTERVAL_MS)
      await db.sessions.update(session.uid, { lastSeenAt: now }).catch(() => undefined); // ended concurrently: the next call says so
    return toPrincipal(user);
  }

  /** Signs out: the session ends at once. Unknown tokens are ignored. */
  async close(token: string): Promise<void> {
    if (!/^[0-9a-f]{64}$/.test(token)) return;
    await this.deps.db.sessions.delete(hashOf(token)).catch(() => undefined);
  }

  endForUser(userUid: string): Promise<number> {
    return this.deps.db.sessions.deleteForUser(userUid);
  }

  sweep(): Promise<number> {
    const now = this.deps.clock.now();
    return this.deps.db.sessions.deleteExpired(now, new Date(now.getTime() - this.deps.settings.idleSeconds * 1000));
  }
}

function hashOf(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}
