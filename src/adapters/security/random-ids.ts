import { randomFillSync, randomUUID } from "node:crypto";
import type { IdGenerator } from "../../domain/ports.js";

/**
 * Uids, and secret tokens cut from a pool of random bytes refilled `poolBytes` at a time, as
 * Node buffers the randomness of `randomUUID`. A `randomBytes` call per token took ~20 µs of a
 * submission's main-thread time under load (two tokens each), nearly all of it the call's fixed
 * cost; a slice of the pool takes under 1. Each byte is handed out once and zeroed as it is.
 */
export function pooledRandomIds(poolBytes = 4096): IdGenerator {
  const pool = Buffer.alloc(poolBytes);
  let offset = poolBytes; // spent: the first token fills it
  return {
    uid: () => randomUUID(),
    token: (bytes) => {
      if (bytes > poolBytes) return randomFillSync(Buffer.alloc(bytes)).toString("hex");
      if (offset + bytes > poolBytes) {
        randomFillSync(pool);
        offset = 0;
      }
      const token = pool.toString("hex", offset, offset + bytes);
      pool.fill(0, offset, offset + bytes);
      offset += bytes;
      return token;
    },
  };
}

export const randomIds: IdGenerator = pooledRandomIds();
