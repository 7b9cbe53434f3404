import bcrypt from "bcrypt";
import type { SecretHasher } from "../../domain/ports.js";

/** Native bcrypt: hashing runs on libuv's thread pool, off the event loop. */
export class BcryptHasher implements SecretHasher {
  constructor(private readonly cost: number) {}

  hash(secret: string): Promise<string> {
    return bcrypt.hash(secret, this.cost);
  }

  verify(secret: string, hash: string): Promise<boolean> {
    return bcrypt.compare(secret, hash);
  }
}
