import { ConflictError, NotFoundError, ValidationError } from "../errors.js";
import type { Database, IdGenerator, SecretHasher } from "../ports.js";
import { ROLES, type Role } from "../principal.js";
import type { OrganizationRecord, UserRecord } from "../records.js";
import type { Actor, AuditTrail } from "../audit/audit-trail.js";
import type { CredentialVerifier } from "./credential-verifier.js";
import type { SessionService } from "./session-service.js";

export interface IssuedCredentials {
  user: UserRecord;
  /** Shown once; only its bcrypt hash is stored. */
  secretKey: string;
}

const ACCESS_KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@-]{2,63}$/;
const MIN_SECRET_LENGTH = 8;

/** Organizations and users: what the admin CLI (and the Helm chart's first-admin job) drive. */
export class AccountService {
  constructor(
    private readonly deps: {
      db: Database;
      hasher: SecretHasher;
      ids: IdGenerator;
      audit: AuditTrail;
      verifier?: CredentialVerifier;
      sessions?: SessionService;
    },
  ) {}

  async createOrganization(name: string): Promise<OrganizationRecord> {
    if (!name.trim()) throw ValidationError.field("name", "must not be empty");
    const existing = await this.deps.db.organizations.list({ name });
    if (existing.length > 0) throw new ConflictError(`organization ${name} already exists`);
    return this.deps.db.organizations.create({ uid: this.deps.ids.uid(), name });
  }

  async findOrganization(nameOrUid: string): Promise<OrganizationRecord> {
    const byUid = await this.deps.db.organizations.find(nameOrUid);
    const found = byUid ?? (await this.deps.db.organizations.list({ name: nameOrUid }))[0];
    if (!found) throw new NotFoundError(`organization ${nameOrUid} not found`);
    return found;
  }

  async createUser(
    input: { organization: string; accessKey: string; role: string; secretKey?: string },
    actor?: Actor,
  ): Promise<IssuedCredentials> {
    if (!ACCESS_KEY_PATTERN.test(input.accessKey)) {
      throw ValidationError.field("access_key", "must be 3-64 characters of letters, digits, '.', '_', '@' or '-'");
    }
    const role = parseRole(input.role);
    const organization = await this.findOrganization(input.organization);
    if (await this.deps.db.users.findByAccessKey(input.accessKey)) throw new ConflictError(`user ${input.accessKey} already exists`);
    const secretKey = input.secretKey ?? this.newSecret();
    checkSecret(secretKey);
    const user = await this.deps.db.users.create({
      uid: this.deps.ids.uid(),
      accessKey: input.accessKey,
      secretHash: await this.deps.hasher.hash(secretKey),
      secretVersion: 1,
      role,
      revokedAt: null,
      unlockedAt: null,
      organizationUid: organization.uid,
    });
    await this.deps.audit.record(actor ?? { userUid: user.uid, accessKey: user.accessKey }, "user.create", user, { role });
    return { user, secretKey };
  }

  /** The organization and an admin in it, unless they already exist; true when the admin was created. */
  async ensureAdmin(input: { organization: string; accessKey: string; secretKey: string }): Promise<boolean> {
    const organizations = await this.deps.db.organizations.list({ name: input.organization });
    if (organizations.length === 0) await this.createOrganization(input.organization);
    if (await this.deps.db.users.findByAccessKey(input.accessKey)) return false;
    await this.createUser(
      { organization: input.organization, accessKey: input.accessKey, role: "admin", secretKey: input.secretKey },
      "admin-cli",
    );
    return true;
  }

  /**
   * Self-service sign-up (only when the service enables it): a member of `joinOrganization` when
   * the service names one, else of a new organization of the caller's choosing. Never an admin.
   */
  async signUp(
    input: { accessKey: string; secretKey: string; organizationName?: string | undefined },
    policy: { joinOrganization?: string | undefined },
  ): Promise<UserRecord> {
    checkSecret(input.secretKey, "password");
    let organization = policy.joinOrganization;
    if (!organization) {
      if (!input.organizationName?.trim()) throw ValidationError.field("organization_name", "is required");
      organization = (await this.createOrganization(input.organizationName.trim())).uid;
    } else if ((await this.deps.db.organizations.list({ name: organization })).length === 0) {
      await this.createOrganization(organization);
    }
    try {
      return (await this.createUser({ organization, accessKey: input.accessKey, role: "member", secretKey: input.secretKey })).user;
    } catch (error) {
      // A user that could not be created leaves no organization of its own behind.
      if (!policy.joinOrganization) await this.deps.db.organizations.delete(organization).catch(() => undefined);
      throw error;
    }
  }

  async rotateSecret(accessKey: string, secretKey?: string): Promise<IssuedCredentials> {
    const user = await this.requireUser(accessKey);
    const secret = secretKey ?? this.newSecret();
    checkSecret(secret);
    const updated = await this.deps.db.users.update(user.uid, {
      secretHash: await this.deps.hasher.hash(secret),
      secretVersion: user.secretVersion + 1,
      revokedAt: null,
    });
    await this.signedOut(user.uid);
    await this.deps.audit.record("admin-cli", "user.rotate", updated);
    return { user: updated, secretKey: secret };
  }

  async revoke(accessKey: string): Promise<UserRecord> {
    const user = await this.requireUser(accessKey);
    const updated = await this.deps.db.users.update(user.uid, { revokedAt: new Date(), secretVersion: user.secretVersion + 1 });
    await this.signedOut(user.uid);
    await this.deps.audit.record("admin-cli", "user.revoke", updated);
    return updated;
  }

  /** Undoes a revocation: the user's current secret works again (cached checks of it are redone). */
  async enable(accessKey: string): Promise<UserRecord> {
    const user = await this.requireUser(accessKey);
    const updated = await this.deps.db.users.update(user.uid, { revokedAt: null, secretVersion: user.secretVersion + 1 });
    await this.deps.audit.record("admin-cli", "user.enable", updated);
    return updated;
  }

  /**
   * Lifts the sign-in throttles on a key that too many failures locked, in every process: each
   * reads this time when it finds the key locked (`now` is the admin's clock).
   */
  async unlock(accessKey: string, now: Date): Promise<UserRecord> {
    const user = await this.requireUser(accessKey);
    const updated = await this.deps.db.users.update(user.uid, { unlockedAt: now });
    await this.deps.audit.record("admin-cli", "user.unlock", updated);
    return updated;
  }

  async listOrganizations(): Promise<Array<{ uid: string; name: string; users: number }>> {
    const [organizations, users] = await Promise.all([this.deps.db.organizations.list({}), this.deps.db.users.list({})]);
    return organizations.map((o) => ({ uid: o.uid, name: o.name, users: users.filter((u) => u.organizationUid === o.uid).length }));
  }

  async listUsers(): Promise<Array<UserRecord & { organizationName: string }>> {
    const [users, organizations] = await Promise.all([this.deps.db.users.list({}), this.deps.db.organizations.list({})]);
    const names = new Map(organizations.map((o) => [o.uid, o.name]));
    return users.map((u) => ({ ...u, organizationName: names.get(u.organizationUid) ?? "?" }));
  }

  /** A rotated or revoked secret also ends the user's browser sessions (they would no longer match anyway). */
  private async signedOut(userUid: string): Promise<void> {
    this.deps.verifier?.forget(userUid);
    await this.deps.sessions?.endForUser(userUid);
  }

  private async requireUser(accessKey: string): Promise<UserRecord> {
    const user = await this.deps.db.users.findByAccessKey(accessKey);
    if (!user) throw new NotFoundError(`user ${accessKey} not found`);
    return user;
  }

  private newSecret(): string {
    return this.deps.ids.token(24);
  }
}

function parseRole(role: string): Role {
  if (!(ROLES as readonly string[]).includes(role)) throw ValidationError.field("role", `must be one of ${ROLES.join(", ")}`);
  return role as Role;
}

function checkSecret(secret: string, field = "secret_key"): void {
  if (secret.length < MIN_SECRET_LENGTH) throw ValidationError.field(field, `must be at least ${MIN_SECRET_LENGTH} characters`);
}
