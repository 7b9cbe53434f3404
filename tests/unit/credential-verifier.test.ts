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
    uid: "u1",
    accessKey: "alice",
    secretHash: "terces-ecila",
    secretVersion: 1,
    role: "member",
    revokedAt: null,
    unlockedAt: null as Date | null,
    createdAt: new Date(0),
    organizationUid: "org",
  };
  const reads = { users: 0 };
  const users = {
    findByAccessKey: async (key: string) => ((reads.users += 1), key === user.accessKey ? { ...user } : null),
  } as unknown as UserStore;
  const hasher = new CountingHasher();
  const throttle = (maxFailures: number) => new FailureThrottle({ maxFailures, windowSeconds: 60, maxTracked: 100 }, clock);
  const verifier = new CredentialVerifier({
    users,
    hasher,
    clock,
    cache: { ttlSeconds, maxEntries: 10, recheckSeconds: 5 },
    throttles: { pair: throttle(3), key: throttle(5), unknownKeyAddress: throttle(4) },
  });
  return { verifier, hasher, user, reads, advance: (ms: number) => (now += ms) };
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

  test("When a cached pair is used within the recheck time, then the user is not read again; after it, once more", async () => {
    const { verifier, reads, advance } = setUp(60);
    await verifier.verify(good, "127.0.0.1");
    for (let i = 0; i < 5; i += 1) await verifier.verify(good, "127.0.0.1");
    expect(reads.users).toBe(1);
    advance(5_001);
    await verifier.verify(good, "127.0.0.1");
    await verifier.verify(good, "127.0.0.1");
    expect(reads.users).toBe(2);
  });

  test("When a cached pair's user is forgotten (rotated here), then the next use is checked again at once", async () => {
    const { verifier, hasher, user } = setUp(60);
    await verifier.verify(good, "127.0.0.1");
    verifier.forget(user.uid);
    await verifier.verify(good, "127.0.0.1");
    expect(hasher.verifications).toBe(2);
  });

  test("When a cached pair's secret version changes elsewhere, then the cache stops answering after the recheck time", async () => {
    const { verifier, hasher, user, advance } = setUp(60);
    await verifier.verify(good, "127.0.0.1");
    advance(5_001);
    user.secretVersion = 2;
    user.secretHash = "wen";
    await expect(verifier.verify(good, "127.0.0.1")).rejects.toBeInstanceOf(AuthenticationError);
    expect(hasher.verifications).toBe(2);
  });

  test("When a wrong secret is sent 3 times from one address, then that key is throttled from that address, not from others", async () => {
    const { verifier } = setUp(60);
    for (let i = 0; i < 3; i += 1)
      await expect(verifier.verify({ accessKey: "alice", secretKey: "wrong" }, "10.0.0.9")).rejects.toBeInstanceOf(AuthenticationError);
    await expect(verifier.verify(good, "10.0.0.9")).rejects.toBeInstanceOf(RateLimitedError);
    await expect(verifier.verify(good, "10.0.0.10")).resolves.toMatchObject({ userUid: "u1" });
  });

  test("When a key fails from many addresses, then it is throttled everywhere once the total limit is reached", async () => {
    const { verifier } = setUp(60);
    for (let i = 0; i < 5; i += 1)
      await expect(verifier.verify({ accessKey: "alice", secretKey: `wrong${i}` }, `10.0.1.${i}`)).rejects.toBeInstanceOf(
        AuthenticationError,
      );
    await expect(verifier.verify(good, "10.0.2.1")).rejects.toBeInstanceOf(RateLimitedError);
  });

  test("When an admin unlocks a locked key, then it signs in again, and new failures lock it again", async () => {
    const { verifier, user, advance } = setUp(60);
    const wrong = { accessKey: "alice", secretKey: "wrong" };
    for (let i = 0; i < 5; i += 1) await expect(verifier.verify(wrong, `10.0.1.${i % 3}`)).rejects.toBeInstanceOf(AuthenticationError);
    await expect(verifier.verify(good, "10.0.1.0")).rejects.toBeInstanceOf(RateLimitedError);
    advance(1_000);
    user.unlockedAt = new Date(1_000_500); // `user unlock`, run in another process
    await expect(verifier.verify(good, "10.0.1.0")).resolves.toMatchObject({ userUid: "u1" });
    for (let i = 0; i < 3; i += 1) await expect(verifier.verify(wrong, "10.0.1.0")).rejects.toBeInstanceOf(AuthenticationError);
    await expect(verifier.verify({ accessKey: "alice", secretKey: "again" }, "10.0.1.0")).rejects.toBeInstanceOf(RateLimitedError);
  });

  test("When 101 different guesses arrive at once with the right one last, then at most the limit is checked and all are refused", async () => {
    const { verifier, hasher } = setUp(0);
    const guesses = Array.from({ length: 100 }, (_, i) => ({ accessKey: "alice", secretKey: `guess-${i}` }));
    const outcomes = await Promise.allSettled([...guesses, good].map((pair) => verifier.verify(pair, "10.0.0.9")));
    expect(outcomes.every((o) => o.status === "rejected")).toBe(true);
    expect(hasher.verifications).toBeLessThanOrEqual(3);
    expect(outcomes.filter((o) => o.status === "rejected" && o.reason instanceof RateLimitedError).length).toBeGreaterThanOrEqual(98);
  });

  test("When one address tries many unknown keys, then it is slowed for unknown keys but its valid users still sign in", async () => {
    const { verifier } = setUp(60);
    for (let i = 0; i < 4; i += 1)
      await expect(verifier.verify({ accessKey: `nobody${i}`, secretKey: "x" }, "10.0.0.7")).rejects.toBeInstanceOf(AuthenticationError);
    await expect(verifier.verify({ accessKey: "nobody9", secretKey: "x" }, "10.0.0.7")).rejects.toBeInstanceOf(RateLimitedError);
    await expect(verifier.verify(good, "10.0.0.7")).resolves.toMatchObject({ userUid: "u1" });
  });

  test("When a burst of identical wrong attempts arrives, then it counts once and the valid user is not locked out", async () => {
    const { verifier, hasher } = setUp(60);
    await Promise.allSettled(Array.from({ length: 20 }, () => verifier.verify({ accessKey: "alice", secretKey: "typo" }, "10.0.0.9")));
    expect(hasher.verifications).toBe(1);
    await expect(verifier.verify(good, "10.0.0.9")).resolves.toMatchObject({ userUid: "u1" });
  });

  test("When the user is unknown, then the hasher still runs, so timing does not reveal it", async () => {
    const { verifier, hasher } = setUp(60);
    await expect(verifier.verify({ accessKey: "mallory", secretKey: "x" }, "127.0.0.1")).rejects.toBeInstanceOf(AuthenticationError);
    expect(hasher.verifications).toBe(1);
  });
});
