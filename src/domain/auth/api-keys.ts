import { createHash } from "node:crypto";
import type { Clock } from "../clock.js";
import { AuthenticationError, NotFoundError, ValidationError } from "../errors.js";
import type { Database, IdGenerator, PageRequest } from "../ports.js";
import { canAccess, type Principal } from "../principal.js";
import { API_KEY_PURPOSES, type ApiKeyPurpose, type ApiKeyRecord } from "../records.js";
import { paged, type Page } from "../registry/registry-records.js";
import { toPrincipal } from "./credential-verifier.js";

const KEY_PREFIX = "aek_";
const SHOWN_PREFIX_LENGTH = 12;
const MAX_LIFETIME_DAYS = 366;

/** Why a key was refused (the Prediction One surface names each differently). */
export type ApiKeyRefusal = "unknown" | "inactive" | "user-gone";

export class ApiKeyRefused extends AuthenticationError {
  constructor(readonly refusal: ApiKeyRefusal) {
    super(
      refusal === "unknown"
        ? "Invalid API key"
        : refusal === "inactive"
          ? "This API key has expired or was revoked"
          : "The API key's user is no longer active",
    );
  }
}

/** Each purpose allows what the ones before it do. */
export function permits(have: ApiKeyPurpose, need: ApiKeyPurpose): boolean {
  return API_KEY_PURPOSES.indexOf(have) >= API_KEY_PURPOSES.indexOf(need);
}

/**
 * API keys: a user mints keys for scripts, each with a purpose, an optional model and an expiry.
 * The key is shown once; only its sha256 is stored (it is 192 random bits, so a fast hash is
 * enough and a lookup needs no scan). A key acts as its user, within its purpose.
 */
export class ApiKeys {
  constructor(private readonly deps: { db: Database; ids: IdGenerator; clock: Clock }) {}

  async mint(
    principal: Principal,
    input: { name: string; purpose: ApiKeyPurpose; modelUid?: string | undefined; expiresInDays?: number | undefined },
  ): Promise<{ key: string; record: ApiKeyRecord }> {
    if (principal.task || principal.apiKey) throw new AuthenticationError("sign in as the user to mint API keys");
    if (input.modelUid !== undefined) {
      const model = await this.deps.db.models.find(input.modelUid);
      if (!model || !canAccess(principal, model.organizationUid)) throw NotFoundError.entity("model", "modelUid", input.modelUid);
    }
    const days = input.expiresInDays ?? 90;
    if (!Number.isInteger(days) || days < 1 || days > MAX_LIFETIME_DAYS)
      throw ValidationError.field("expires_in_days", `must be a whole number of days from 1 to ${MAX_LIFETIME_DAYS}`);
    const key = `${KEY_PREFIX}${this.deps.ids.token(24)}`;
    const now = this.deps.clock.now();
    const record = await this.deps.db.apiKeys.create({
      uid: this.deps.ids.uid(),
      userUid: principal.userUid,
      name: input.name,
      purpose: input.purpose,
      modelUid: input.modelUid ?? null,
      keyHash: hashOf(key),
      prefix: key.slice(0, SHOWN_PREFIX_LENGTH),
      expiresAt: new Date(now.getTime() + days * 86_400_000),
      revokedAt: null,
    });
    return { key, record };
  }

  list(principal: Principal, page?: PageRequest): Promise<Page<ApiKeyRecord>> {
    return paged(this.deps.db.apiKeys, { userUid: principal.userUid }, page);
  }

  async revoke(principal: Principal, uid: string): Promise<ApiKeyRecord> {
    const record = await this.deps.db.apiKeys.find(uid);
    if (!record || record.userUid !== principal.userUid) throw NotFoundError.entity("API key", "apiKeyUid", uid);
    return record.revokedAt ? record : this.deps.db.apiKeys.update(uid, { revokedAt: this.deps.clock.now() });
  }

  /** The caller a key stands for; ApiKeyRefused says why not. */
  async verify(key: string): Promise<Principal> {
    const record = key.startsWith(KEY_PREFIX) && key.length < 128 ? await this.deps.db.apiKeys.findByHash(hashOf(key)) : null;
    if (!record) throw new ApiKeyRefused("unknown");
    if (record.revokedAt || (record.expiresAt && record.expiresAt <= this.deps.clock.now())) throw new ApiKeyRefused("inactive");
    const user = await this.deps.db.users.find(record.userUid);
    if (!user || user.revokedAt) throw new ApiKeyRefused("user-gone");
    return { ...toPrincipal(user), apiKey: { uid: record.uid, purpose: record.purpose, modelUid: record.modelUid } };
  }
}

function hashOf(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}
