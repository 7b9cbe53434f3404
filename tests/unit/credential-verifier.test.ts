import { describe, expect, test } from "@jest/globals";
import { CredentialVerifier } from "../../src/domain/auth/credential-verifier.js";
import { FailureThrottle } from "../../src/domain/auth/failure-throttle.js";
import { AuthenticationError, RateLimitedError } from "../../src/domain/errors.js";
import type { SecretHasher, UserStore } from "../../src/domain/ports.js";
import type { UserRecord } from "../../src/domain/records.js";

/** Counts how often the slow path runs; "hashes" are the secret reversed. */
class CountingHasher implements SecretHasher {
  verifications = 0;
  async hash(secret: string) {
    return [...secret].reverse().join("");
  }
  async verify(secret: string, hash: string) {
    this.verifications += 1;
    return [...secret].reverse().join("") === hash;
  }
}

function setUp(ttlSeconds: number) {
  let now = 1_000_000;
  const clock = { now: () => new Date(now) };
  const user: UserRecord = {
    uid: "u1", accessKey: "alice", secretHash: "terces-ecila", secretVersion: 1, role: "member", revokedAt: null,
    createdAt: new Date(0), organizationUid: "org",
  };
  const users = { findByAccessKey: async (key: string) => (key === user.accessKey ? { ...user } : null) } as unknown as UserStore;
  const hasher = new CountingHasher();
  const throttle = (maxFailures: number) => new FailureThrottle({ maxFailures, windowSeconds: 60, maxTracked: 100 }, clock);
  const verifier = new CredentialVerifier({ users, hasher, clock, keyThrottle: throttle(3), addressThrottle: throttle(100), cache: { ttlSeconds, maxEntries: 10 } });
  return { verifier, hasher, user, advance: (ms: number) => (now += ms) };
}

describe("CredentialVerifier", () => {
  const good = { accessKey: "alice", secretKey: "alice-secret" };

  test("When the same pair is verified repeatedly, then bcrypt runs once per TTL", async () => {
    const { verifier, hasher, advance } = setUp(60);
    for (let i = 0; i < 5; i += 1) await verifier.verify(good, "127.0.0.1");
    expect(hasher.verifications).toBe(1);
    advance(61_000);
    await verifier.verify(good, "127.0.0.1");
    expect(hasher.verifications).toBe(2);
  });

  test("When a burst of requests brings one new pair, then bcrypt runs once for all of them", async () => {
    const { verifier, hasher } = setUp(60);
    const principals = await Promise.all(Array.from({ length: 20 }, () => verifier.verify(good, "127.0.0.1")));
    expect(principals.every((p) => p.userUid === "u1")).toBe(true);
    expect(hasher.verifications).toBe(1);
  });

  test("When the cache is off, then every verification pays for bcrypt", async () => {
    const { verifier, hasher } = setUp(0);
    for (let i = 0; i < 3; i += 1) await verifier.verify(good, "127.0.0.1");
    expect(hasher.verifications).toBe(3);
  });

  test("When a cached pair's secret version changes, then the cache no longer answers", async () => {
    const { verifier, hasher, user } = setUp(60);
    await verifier.verify(good, "127.0.0.1");
    user.secretVersion = 2;
    user.secretHash = "wen";
    await expect(verifier.verify(good, "127.0.0.1")).rejects.toBeInstanceOf(AuthenticationError);
    expect(hasher.verifications).toBe(2);
  });

  test("When a wrong secret is sent, then it is never cached and the key is throttled after 3 failures", async () => {
    const { verifier } = setUp(60);
    for (let i = 0; i < 3; i += 1) await expect(verifier.verify({ accessKey: "alice", secretKey: "wrong" }, "10.0.0.9")).rejects.toBeInstanceOf(AuthenticationError);
    await expect(verifier.verify(good, "10.0.0.10")).rejects.toBeInstanceOf(RateLimitedError);
  });

  test("When the user is unknown, then the hasher still runs, so timing does not reveal it", async () => {
    const { verifier, hasher } = setUp(60);
    await expect(verifier.verify({ accessKey: "mallory", secretKey: "x" }, "127.0.0.1")).rejects.toBeInstanceOf(AuthenticationError);
    expect(hasher.verifications).toBe(1);
  });
});
