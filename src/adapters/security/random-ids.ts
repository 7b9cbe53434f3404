import { randomBytes, randomUUID } from "node:crypto";
import type { IdGenerator } from "../../domain/ports.js";

export const randomIds: IdGenerator = { uid: () => randomUUID(), token: (bytes) => randomBytes(bytes).toString("hex") };
