import { hash, randomBytes } from "node:crypto";
import { AuthenticationError, RateLimitedError } from "../errors.js";
import type { Clock } from "../clock.js";
import type { SecretHasher, UserStore } from "../ports.js";
import type { Principal } from "../principal.js";
import type { UserRecord } from "../records.js";
import type { FailureThrottle } from "./failure-throttle.js";

export interface Credentials {
  accessKey: string;
  secretKey: string;
}

export interface VerificationCacheSettings {
  ttlSeconds: number;
  maxEntries: number;
  /** How long a hit is served without reading the user again (rotations in other processes take up to this). */
  recheckSeconds: number;
}

interface CachedVerification {
  principal: Principal;
  secretVersion: number;
  expiresAt: number;
  /** Until then a hit needs no read of the user. */
  checkedUntil: number;
}

const INVALID = "Invalid access_key or secret_key";
const MAX_ACCESS_KEY_LENGTH = 128;
const MAX_SECRET_LENGTH = 1024;

/**
 * Checks an access/secret key pair. bcrypt is deliberately slow, so a successful check is
 * remembered for a short time under a keyed SHA-256 of the pair (a per-process random key: the
 * cache never holds anything that could be replayed elsewhere). A hit reads the user again at most
 * every `recheckSeconds`, so a revoked user or a rotated secret (its version changes) stops
 * matching within that time when another process changed it, and at once in this one (`forget`).
 *
 * Failed sign-ins are throttled three ways, each reserving its attempt before bcrypt runs so
 * concurrent guesses cannot outrun a limit: per access key and client address (strict), per
 * access key over all addresses (against distributed guessing), and per client address for
 * access keys that do not exist (so many users behind one address are never locked out by a
 * neighbour's typos, while enumerating keys from one address is slowed). Identical concurrent
 * attempts share one check and one reservation.
 */
export class CredentialVerifier {
  private readonly cache = new Map<string, CachedVerification>();
  /** Checks under way, by the HMAC of the pair, so a burst with one new pair pays for bcrypt once. */
  private readonly inFlight = new Map<string, Promise<boolean>>();
  private readonly cacheKeyPrefix = `${randomBytes(32).toString("hex")}\0`;
  /** Compared against for unknown users, so they cost the same time as a wrong secret. */
  private decoyHash: Promise<string> | undefined;

  constructor(
    private readonly deps: {
      users: UserStore;
      hasher: SecretHasher;
      throttles: { pair: FailureThrottle; key: FailureThrottle; unknownKeyAddress: FailureThrottle };
      clock: Clock;
      cache: VerificationCacheSettings;
    },
  ) {}

  async verify(credentials: Credentials, clientAddress: string): Promise<Principal> {
    // No stored key or secret is this long; refusing at once keeps huge strings out of the throttles' memory.
    if (credentials.accessKey.length > MAX_ACCESS_KEY_LENGTH || credentials.secretKey.length > MAX_SECRET_LENGTH)
      throw new AuthenticationError(INVALID);
    const { pair, key, unknownKeyAddress } = this.deps.throttles;
    const pairSubject = `${credentials.accessKey}\0${clientAddress}`;
    try {
      pair.assertAllowed(pairSubject);
      key.assertAllowed(credentials.accessKey);
    } catch (error) {
      if (!(error instanceof RateLimitedError) || !(await this.unlockedSinceLocked(credentials.accessKey, pairSubject))) throw error;
      pair.assertAllowed(pairSubject);
      key.assertAllowed(credentials.accessKey);
    }

    const cacheKey = this.cacheKey(credentials);
    const now = this.deps.clock.now().getTime();
    const cached = this.cache.get(cacheKey);
    if (cached && cached.expiresAt > now && cached.checkedUntil > now) return cached.principal;

    const user = await this.deps.users.findByAccessKey(credentials.accessKey);
    if (
      user &&
      !user.revokedAt &&
      cached &&
      cached.expiresAt > now &&
      cached.principal.userUid === user.uid &&
      cached.secretVersion === user.secretVersion
    ) {
      cached.checkedUntil = now + this.deps.cache.recheckSeconds * 1000;
      return cached.principal;
    }

    const matches = await this.checkOnce(cacheKey, () => {
      const attempts = [pair.reserve(pairSubject)];
      try {
        attempts.push(key.reserve(credentials.accessKey));
        if (!user) attempts.push(unknownKeyAddress.reserve(clientAddress));
      } catch (error) {
        for (const attempt of attempts) attempt.succeeded(); // released, not counted
        throw error;
      }
      const check = user ? this.deps.hasher.verify(credentials.secretKey, user.secretHash) : this.hasherDecoy(credentials.secretKey);
      return check.then(
        (ok) => {
          const valid = ok && user !== null && !user.revokedAt;
          for (const attempt of attempts) {
            if (valid) attempt.succeeded();
            else attempt.failed();
          }
          return valid;
        },
        (error: unknown) => {
          for (const attempt of attempts) attempt.succeeded();
          throw error;
        },
      );
    });
    if (!user || !matches) {
      this.cache.delete(cacheKey);
      throw new AuthenticationError(INVALID);
    }
    pair.reset(pairSubject);
    const principal = toPrincipal(user);
    this.remember(cacheKey, {
      principal,
      secretVersion: user.secretVersion,
      expiresAt: now + this.deps.cache.ttlSeconds * 1000,
      checkedUntil: now + this.deps.cache.recheckSeconds * 1000,
    });
    return principal;
  }

  /** A locked key's user is read: an admin's unlock (in any process) restarts the windows that began before it. */
  private async unlockedSinceLocked(accessKey: string, pairSubject: string): Promise<boolean> {
    const unlockedAt = (await this.deps.users.findByAccessKey(accessKey))?.unlockedAt;
    if (!unlockedAt) return false;
    const { pair, key } = this.deps.throttles;
    const restartedPair = pair.restartIfBefore(pairSubject, unlockedAt);
    return key.restartIfBefore(accessKey, unlockedAt) || restartedPair;
  }

  private checkOnce(cacheKey: string, check: () => Promise<boolean>): Promise<boolean> {
    let pending = this.inFlight.get(cacheKey);
    if (!pending) {
      pending = Promise.resolve()
        .then(check)
        .finally(() => this.inFlight.delete(cacheKey));
      this.inFlight.set(cacheKey, pending);
    }
    return pending;
  }

  private async hasherDecoy(secret: string): Promise<false> {
    await this.deps.hasher.verify(secret, await this.decoy());
    return false;
  }

  /** Drops every cached verification of a user (after rotation or revocation in this process). */
  forget(userUid: string): void {
    for (const [key, entry] of this.cache) if (entry.principal.userUid === userUid) this.cache.delete(key);
  }

  private remember(key: string, entry: CachedVerification): void {
    if (this.deps.cache.ttlSeconds <= 0) return;
    this.cache.delete(key);
    this.cache.set(key, entry);
    while (this.cache.size > this.deps.cache.maxEntries) this.cache.delete(this.cache.keys().next().value as string);
  }

  /**
   * One-shot SHA-256 over the secret prefix and the pair (the access key's length first, so no
   * two pairs share a text): an Hmac object per request cost five times as much.
   */
  private cacheKey(credentials: Credentials): string {
    const { accessKey, secretKey } = credentials;
    return hash("sha256", `${this.cacheKeyPrefix}${accessKey.length}:${accessKey}\0${secretKey}`, "base64url");
  }

  private decoy(): Promise<string> {
    this.decoyHash ??= this.deps.hasher.hash(randomBytes(16).toString("hex"));
    return this.decoyHash;
  }
}

export function toPrincipal(user: UserRecord): Principal {
  return { userUid: user.uid, accessKey: user.accessKey, organizationUid: user.organizationUid, role: user.role };
}
