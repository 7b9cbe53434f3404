import { createHmac, randomBytes } from "node:crypto";
import { AuthenticationError } from "../errors.js";
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
}

interface CachedVerification {
  userUid: string;
  secretVersion: number;
  expiresAt: number;
}

const INVALID = "Invalid access_key or secret_key";

/**
 * Checks an access/secret key pair. bcrypt is deliberately slow, so a successful check is
 * remembered for a short time under an HMAC of the pair (a per-process random key: the cache
 * never holds anything that could be replayed elsewhere). A hit still reads the user, so a
 * revoked user or a rotated secret (its version changes) stops matching at once.
 */
export class CredentialVerifier {
  private readonly cache = new Map<string, CachedVerification>();
  /** Checks under way, so a burst of requests with one new pair pays for bcrypt once. */
  private readonly inFlight = new Map<string, Promise<boolean>>();
  private readonly cacheKeySecret = randomBytes(32);
  /** Compared against for unknown users, so they cost the same time as a wrong secret. */
  private decoyHash: Promise<string> | undefined;

  constructor(
    private readonly deps: {
      users: UserStore;
      hasher: SecretHasher;
      /** Failures per access key: strict. */
      keyThrottle: FailureThrottle;
      /** Failures per client address: looser, since many users may share one address. */
      addressThrottle: FailureThrottle;
      clock: Clock;
      cache: VerificationCacheSettings;
    },
  ) {}

  async verify(credentials: Credentials, clientAddress: string): Promise<Principal> {
    this.deps.keyThrottle.assertAllowed(credentials.accessKey);
    this.deps.addressThrottle.assertAllowed(clientAddress);

    const user = await this.deps.users.findByAccessKey(credentials.accessKey);
    const cacheKey = this.cacheKey(credentials);
    const now = this.deps.clock.now().getTime();
    const cached = this.cache.get(cacheKey);
    if (user && !user.revokedAt && cached && cached.expiresAt > now && cached.userUid === user.uid && cached.secretVersion === user.secretVersion) {
      return toPrincipal(user);
    }

    const matches = user ? await this.checkOnce(cacheKey, credentials.secretKey, user.secretHash) : await this.hasherDecoy(credentials.secretKey);
    if (!user || !matches || user.revokedAt) {
      this.cache.delete(cacheKey);
      this.deps.keyThrottle.recordFailure(credentials.accessKey);
      this.deps.addressThrottle.recordFailure(clientAddress);
      throw new AuthenticationError(INVALID);
    }
    this.deps.keyThrottle.reset(credentials.accessKey);
    this.remember(cacheKey, { userUid: user.uid, secretVersion: user.secretVersion, expiresAt: now + this.deps.cache.ttlSeconds * 1000 });
    return toPrincipal(user);
  }

  private checkOnce(cacheKey: string, secret: string, hash: string): Promise<boolean> {
    if (this.deps.cache.ttlSeconds <= 0) return this.deps.hasher.verify(secret, hash);
    const key = `${cacheKey}:${hash}`;
    let check = this.inFlight.get(key);
    if (!check) {
      check = this.deps.hasher.verify(secret, hash).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, check);
    }
    return check;
  }

  private async hasherDecoy(secret: string): Promise<false> {
    await this.deps.hasher.verify(secret, await this.decoy());
    return false;
  }

  /** Drops every cached verification of a user (after rotation or revocation in this process). */
  forget(userUid: string): void {
    for (const [key, entry] of this.cache) if (entry.userUid === userUid) this.cache.delete(key);
  }

  private remember(key: string, entry: CachedVerification): void {
    if (this.deps.cache.ttlSeconds <= 0) return;
    this.cache.delete(key);
    this.cache.set(key, entry);
    while (this.cache.size > this.deps.cache.maxEntries) this.cache.delete(this.cache.keys().next().value as string);
  }

  private cacheKey(credentials: Credentials): string {
    return createHmac("sha256", this.cacheKeySecret)
      .update(credentials.accessKey).update("\0").update(credentials.secretKey)
      .digest("base64url");
  }

  private decoy(): Promise<string> {
    this.decoyHash ??= this.deps.hasher.hash(randomBytes(16).toString("hex"));
    return this.decoyHash;
  }
}

function toPrincipal(user: UserRecord): Principal {
  return { userUid: user.uid, accessKey: user.accessKey, organizationUid: user.organizationUid, role: user.role };
}
