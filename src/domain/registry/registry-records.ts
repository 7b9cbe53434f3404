import { ConflictError, NotFoundError, ValidationError } from "../errors.js";
import type { Database, EntityStore, Filter, IdGenerator, ObjectStore, PageRequest, StagedObject, Stores } from "../ports.js";
import { canAccess, type Principal } from "../principal.js";
import type { OrganizationRecord, StoredFileRecord } from "../records.js";

/** A record together with its stored file, as responses show it. */
export interface WithFile<R> {
  record: R;
  file: StoredFileRecord | null;
}

export interface Page<T> {
  items: T[];
  /** Present when more items follow. */
  next?: { createdAt: Date; uid: string };
}

export interface Described {
  name?: string;
  description?: string;
}

/**
 * What every registry entity shares: the ownership check on each uid (another organization's
 * uid is reported as not found), files beside their records, and writes that keep the two
 * consistent (the object first, the metadata after; a refused or failed write leaves neither).
 */
export abstract class RegistryRecords {
  constructor(protected readonly deps: { db: Database; objects: ObjectStore; ids: IdGenerator }) {}

  /** Loads a record and checks the caller's organization owns it; errors name it as `subject`. */
  async owned<R extends { uid: string; createdAt: Date; organizationUid: string }>(
    store: EntityStore<R>,
    entity: string,
    subject: string,
    principal: Principal,
    uid: string,
  ): Promise<R> {
    const record = await store.find(uid);
    if (!record || !canAccess(principal, record.organizationUid)) throw NotFoundError.entity(entity, subject, uid);
    return record;
  }

  /** Checks the caller may act in organization `uid`; its own needs no read (the caller's user row refers to it). */
  async checkOrganization(principal: Principal, uid: string, subject = "uid"): Promise<void> {
    if (uid !== principal.organizationUid) await this.ownedOrganization(principal, uid, subject);
  }

  /** An organization the caller belongs to (or any, for an admin). */
  async ownedOrganization(principal: Principal, uid: string, subject = "uid"): Promise<OrganizationRecord> {
    const organization = await this.deps.db.organizations.find(uid);
    if (!organization || !canAccess(principal, organization.uid)) throw NotFoundError.entity("organization", subject, uid);
    return organization;
  }

  async withFile<R extends { fileUid: string | null }>(record: R): Promise<WithFile<R>> {
    return { record, file: record.fileUid ? await this.deps.db.files.find(record.fileUid) : null };
  }

  protected async withFiles<R>(page: Page<R>, fileOf: (r: R) => string | null): Promise<Page<WithFile<R>>> {
    const uids = page.items.map(fileOf).filter((u): u is string => u !== null);
    const files = uids.length ? await this.deps.db.files.list({ uid: { in: uids } }) : [];
    const byUid = new Map(files.map((f) => [f.uid, f]));
    const items = page.items.map((record) => ({ record, file: byUid.get(fileOf(record) ?? "") ?? null }));
    return page.next ? { items, next: page.next } : { items };
  }

  protected async updateDescribed<R extends { uid: string; createdAt: Date; organizationUid: string }>(
    store: EntityStore<R>,
    entity: string,
    principal: Principal,
    uid: string,
    input: Described,
  ): Promise<R> {
    await this.owned(store, entity, "uid", principal, uid);
    return store.update(uid, pick(input) as Partial<R>);
  }

  /** Commits the object first, then the metadata; a failed metadata write removes the object. */
  protected async storeThenRecord<R>(
    key: string,
    extension: string,
    upload: StagedObject,
    record: (stores: Stores, file: StoredFileRecord) => Promise<R>,
  ): Promise<WithFile<R>> {
    await upload.commit(key);
    try {
      return await this.deps.db.transaction(async (stores) => {
        const file = await stores.files.create({ uid: this.deps.ids.uid(), storageKey: key, extension, size: upload.size });
        return { record: await record(stores, file), file };
      });
    } catch (error) {
      await this.deps.objects.remove(key);
      throw error;
    }
  }

  protected async updateWithFile<R extends { uid: string; createdAt: Date; organizationUid: string; name: string; description: string }>(
    store: EntityStore<R>,
    entity: string,
    principal: Principal,
    uid: string,
    input: Described & { file?: StagedObject },
    fileOf: (r: R) => string | null,
  ): Promise<WithFile<R>> {
    const record = await this.owned(store, entity, "uid", principal, uid);
    const fileUid = fileOf(record);
    let file = fileUid ? await this.deps.db.files.find(fileUid) : null;
    if (input.file) {
      if (!file) throw new ConflictError(`${entity} ${uid} has no file to replace yet`);
      await this.refuseWhileInUse(uid, entity);
      // The store replaces the object atomically, so a failed upload leaves the old file intact.
      await input.file.commit(file.storageKey);
      file = await this.deps.db.files.update(file.uid, { size: input.file.size });
    }
    const described = pick(input);
    const updated = Object.keys(described).length ? await store.update(uid, described as Partial<R>) : record;
    return { record: updated, file };
  }

  protected async deleteWithFile<R extends { uid: string; createdAt: Date; organizationUid: string }>(
    store: EntityStore<R>,
    entity: string,
    principal: Principal,
    uid: string,
    fileOf: (r: R) => string | null,
    storeIn: (s: Stores) => EntityStore<R>,
  ): Promise<void> {
    const record = await this.owned(store, entity, "uid", principal, uid);
    await this.refuseWhileInUse(uid, entity);
    const fileUid = fileOf(record);
    const file = fileUid ? await this.deps.db.files.find(fileUid) : null;
    await this.deps.db.transaction(async (stores) => {
      await storeIn(stores).delete(uid);
      if (file) await stores.files.delete(file.uid);
    });
    if (file) await this.deps.objects.remove(file.storageKey);
  }

  protected async refuseWhileInUse(uid: string, entity: string): Promise<void> {
    if ((await this.deps.db.tasks.countActiveUsing(uid)) > 0) {
      throw new ConflictError(`${entity} ${uid} is used by a task that is still running; stop or wait for it first`);
    }
  }

  protected storedFile = async (fileUid: string, ownerUid: string) => {
    const file = await this.deps.db.files.find(fileUid);
    if (!file) throw NotFoundError.entity("file", "uid", fileUid);
    return { file, filename: file.extension === "null" ? ownerUid : `${ownerUid}.${file.extension}` };
  };

  protected openStored = async (fileUid: string, ownerUid: string) => {
    const { file, filename } = await this.storedFile(fileUid, ownerUid);
    return { stream: await this.deps.objects.get(file.storageKey), size: file.size, filename };
  };
}

export async function paged<R extends { uid: string; createdAt: Date }>(
  store: EntityStore<R>,
  filter: Filter<R>,
  page?: PageRequest,
): Promise<Page<R>> {
  if (!page) return { items: await store.list(filter) };
  const items = await store.list(filter, { ...page, limit: page.limit + 1 });
  if (items.length <= page.limit) return { items };
  const kept = items.slice(0, page.limit);
  const last = kept[kept.length - 1]!;
  return { items: kept, next: { createdAt: last.createdAt, uid: last.uid } };
}

export function oneOf<T extends string>(field: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw ValidationError.field(field, `must be one of ${allowed.join(", ")}`);
}

export function pick(input: Described): Described {
  const out: Described = {};
  if (input.name !== undefined) out.name = input.name;
  if (input.description !== undefined) out.description = input.description;
  return out;
}
