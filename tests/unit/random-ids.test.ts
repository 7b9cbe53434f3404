import { describe, expect, test } from "@jest/globals";
import { pooledRandomIds } from "../../src/adapters/security/random-ids.js";

describe("pooledRandomIds", () => {
  test("When tokens of mixed sizes are cut across many refills of a small pool, then each is hex of the asked size and no bytes are handed out twice", () => {
    const ids = pooledRandomIds(64);
    const sizes = [24, 32, 7, 64, 1, 100]; // 64 fills the pool exactly; 100 is larger than the pool
    const tokens = Array.from({ length: 3000 }, (_, i) => {
      const bytes = sizes[i % sizes.length]!;
      const token = ids.token(bytes);
      expect(token).toMatch(new RegExp(`^[0-9a-f]{${bytes * 2}}$`));
      return token;
    });
    // A reused slice of the pool would repeat a whole token; 8 bytes of randomness never repeat by chance.
    const long = tokens.filter((token) => token.length >= 16);
    expect(new Set(long).size).toBe(long.length);
    const eightByteRuns = long.map((token) => token.slice(0, 16));
    expect(new Set(eightByteRuns).size).toBe(eightByteRuns.length);
  });

  test("When uids are asked for, then they are distinct version-4 UUIDs", () => {
    const ids = pooledRandomIds();
    const uids = Array.from({ length: 1000 }, () => ids.uid());
    expect(new Set(uids).size).toBe(1000);
    for (const uid of uids) expect(uid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
