/** The stores of the Database port on Prisma: one generic store per table, and the few special ones. */
import type { SqlStatement } from "./sql-client.js";
import { SqlReads } from "./sql-reads.js";
import { guard } from "./prisma-errors.js";
import { PrismaClient as SqliteClient } from "../../../generated/sqlite/index.js";
import type {
  EntityStore,
  Filter,
  IdempotencyRecord,
  IdempotencyStore,
  NewRecord,
  PageRequest,
  SessionStore,
  Stores,
  TaskQuery,
  TaskEventStore,
  TaskStepStore,
  TaskStore,
  UserStore,
  MetricPointStore,
  ModelAliasStore,
  WebhookDeliveryStore,
  WebhookStore,
} from "../../domain/ports.js";
import {
  ACTIVE_TASK_STATUSES,
  FINAL_TASK_STATUSES,
  type SessionRecord,
  type StoredFileRecord,
  type TaskKind,
  type TaskRecord,
  type TaskStatus,
  type TaskStatusEventRecord,
  type TaskStepRecord,
  type UserRecord,
  type ApiKeyRecord,
  type MetricPointRecord,
  type ModelAliasMoveRecord,
  type ModelAliasRecord,
  type WebhookDeliveryRecord,
  type WebhookRecord,
} from "../../domain/records.js";

/** Both generated clients share one API; the sqlite one's type stands for both. */
export type Client = SqliteClient;
export type TxClient = Omit<Client, "$connect" | "$disconnect" | "$on" | "$transaction" | "$extends">;

/** The subset of a Prisma model delegate the generic store uses. */
interface Delegate {
  findUnique(args: unknown): Promise<unknown>;
  findMany(args: unknown): Promise<unknown[]>;
  count(args: unknown): Promise<number>;
  create(args: unknown): Promise<unknown>;
  update(args: unknown): Promise<unknown>;
  delete(args: unknown): Promise<unknown>;
  deleteMany(args: unknown): Promise<{ count: number }>;
  updateMany(args: unknown): Promise<{ count: number }>;
  updateManyAndReturn(args: unknown): Promise<unknown[]>;
  groupBy(args: unknown): Promise<unknown[]>;
}

interface RowMapping<R> {
  fromRow(row: unknown): R;
  toRow(record: Partial<R>): Record<string, unknown>;
}

const identity = { fromRow: (row: unknown) => row, toRow: (record: object) => ({ ...record }) };
const fileMapping: RowMapping<StoredFileRecord> = {
  fromRow: (row) => ({ ...(row as StoredFileRecord), size: Number((row as { size: bigint }).size) }),
  toRow: (record) => ({ ...record, ...(record.size === undefined ? {} : { size: BigInt(record.size) }) }),
};

const webhookMapping: RowMapping<WebhookRecord> = {
  fromRow: (row) => {
    const stored = row as Omit<WebhookRecord, "events"> & { events: string };
    return { ...stored, events: stored.events.split(",").filter(Boolean) };
  },
  toRow: (record) => ({ ...record, ...(record.events === undefined ? {} : { events: record.events.join(",") }) }),
};

class PrismaEntityStore<R extends { uid: string; createdAt: Date }> implements EntityStore<R> {
  constructor(
    protected readonly delegate: Delegate,
    protected readonly mapping: RowMapping<R> = identity as unknown as RowMapping<R>,
    /** Prepared-statement reads (absent inside a transaction, whose reads are Prisma's). */
    protected readonly reads?: SqlReads<unknown>,
  ) {}

  async find(uid: string): Promise<R | null> {
    const row = this.reads
      ? await this.run(() => this.reads!.find(uid))
      : await this.run(() => this.delegate.findUnique({ where: { uid } }));
    return row ? this.mapping.fromRow(row) : null;
  }

  async list(filter: Filter<R>, page?: PageRequest): Promise<R[]> {
    if (this.reads) {
      const rows = await this.run(() => this.reads!.list(this.mapping.toRow(filter as Partial<R>) as Filter<unknown>, page));
      return rows.map((row) => this.mapping.fromRow(row));
    }
    const where: Record<string, unknown> = this.mapping.toRow(filter as Partial<R>);
    if (page?.after) {
      const { createdAt, uid } = page.after;
      where.OR = [{ createdAt: { gt: createdAt } }, { createdAt, uid: { gt: uid } }];
    }
    const rows = await this.run(() =>
      this.delegate.findMany({ where, orderBy: [{ createdAt: "asc" }, { uid: "asc" }], ...(page ? { take: page.limit } : {}) }),
    );
    return rows.map((row) => this.mapping.fromRow(row));
  }

  count(filter: Filter<R>): Promise<number> {
    const where = this.mapping.toRow(filter as Partial<R>);
    return this.reads ? this.run(() => this.reads!.count(where as Filter<unknown>)) : this.run(() => this.delegate.count({ where }));
  }

  async create(record: NewRecord<R>): Promise<R> {
    return this.mapping.fromRow(await this.run(() => this.delegate.create({ data: this.mapping.toRow(record as Partial<R>) })));
  }

  async update(uid: string, patch: Partial<Omit<R, "uid">>): Promise<R> {
    return this.mapping.fromRow(
      await this.run(() => this.delegate.update({ where: { uid }, data: this.mapping.toRow(patch as Partial<R>) })),
    );
  }

  async delete(uid: string): Promise<void> {
    await this.run(() => this.delegate.delete({ where: { uid } }));
  }

  protected run<T>(query: () => Promise<T>): Promise<T> {
    return guard(query);
  }
}

class PrismaUserStore extends PrismaEntityStore<UserRecord> implements UserStore {
  async findByAccessKey(accessKey: string): Promise<UserRecord | null> {
    if (this.reads) return (await this.run(() => this.reads!.findBy("accessKey", accessKey))) as UserRecord | null;
    return (await this.run(() => this.delegate.findUnique({ where: { accessKey } }))) as UserRecord | null;
  }
}

class PrismaSessionStore extends PrismaEntityStore<SessionRecord> implements SessionStore {
  async deleteForUser(userUid: string): Promise<number> {
    return (await this.run(() => this.delegate.deleteMany({ where: { userUid } }))).count;
  }

  async deleteExpired(now: Date, idleCutoff: Date): Promise<number> {
    return (
      await this.run(() => this.delegate.deleteMany({ where: { OR: [{ expiresAt: { lte: now } }, { lastSeenAt: { lte: idleCutoff } }] } }))
    ).count;
  }
}

class PrismaTaskStore extends PrismaEntityStore<TaskRecord> implements TaskStore {
  // An UPDATE takes the row lock on PostgreSQL (and starts SQLite's write transaction); RETURNING gives the row as the latest commit left it.
  async lock(uid: string): Promise<TaskRecord | null> {
    const [row] = await this.run(() => this.delegate.updateManyAndReturn({ where: { uid }, data: { updatedAt: new Date() } }));
    return row ? this.mapping.fromRow(row) : null;
  }

  async updateUnlessEnded(uid: string, patch: Partial<Omit<TaskRecord, "uid">>): Promise<TaskRecord | null> {
    const where = { uid, status: { notIn: [...FINAL_TASK_STATUSES] } };
    const [row] = await this.run(() =>
      this.delegate.updateManyAndReturn({ where, data: this.mapping.toRow(patch as Partial<TaskRecord>) }),
    );
    return row ? this.mapping.fromRow(row) : null;
  }

  async search(query: TaskQuery, page: PageRequest): Promise<TaskRecord[]> {
    if (!this.reads) throw new Error("task search runs outside transactions");
    const conditions: SqlStatement[] = [];
    const inList = (column: string, values: readonly string[]) =>
      conditions.push({ sql: `"${column}" IN (${values.map(() => "?").join(", ")})`, args: [...values] });
    if (query.organizationUid !== undefined) conditions.push({ sql: `"organizationUid" = ?`, args: [query.organizationUid] });
    if (query.statuses?.length) inList("status", query.statuses);
    if (query.kinds?.length) inList("kind", query.kinds);
    if (query.pipelineUid !== undefined) conditions.push({ sql: `"pipelineUid" = ?`, args: [query.pipelineUid] });
    if (query.createdByUid !== undefined) conditions.push({ sql: `"createdByUid" = ?`, args: [query.createdByUid] });
    if (query.since) conditions.push({ sql: `"createdAt" >= ?`, args: [this.reads.time(query.since)] });
    if (query.until) conditions.push({ sql: `"createdAt" < ?`, args: [this.reads.time(query.until)] });
    const order = query.order === "newest" ? "desc" : "asc";
    return (await this.run(() => this.reads!.search(conditions, order, page))) as TaskRecord[];
  }

  // One status per query, so the index (status, createdAt, uid) gives the order and the page stops early.
  async listUndispatched(which: "accepted" | "awaiting-images", quietSince: Date, page: PageRequest): Promise<TaskRecord[]> {
    if (!this.reads) throw new Error("the undispatched tasks are read outside transactions");
    const condition =
      which === "accepted"
        ? { sql: `"status" = 'init' AND "updatedAt" <= ?`, args: [this.reads.time(quietSince)] }
        : { sql: `"status" = 'pending' AND "executeStep" = 'generate_file'`, args: [] };
    return (await this.run(() => this.reads!.search([condition], "asc", page))) as TaskRecord[];
  }

  async countByStatusAndKind(): Promise<Array<{ status: TaskStatus; kind: TaskKind; count: number }>> {
    const groups = (await this.run(() => this.delegate.groupBy({ by: ["status", "kind"], _count: { _all: true } }))) as Array<{
      status: TaskStatus;
      kind: TaskKind;
      _count: { _all: number };
    }>;
    return groups.map((g) => ({ status: g.status, kind: g.kind, count: g._count._all }));
  }

  countActiveUsing(uid: string): Promise<number> {
    const uses = [
      "pipelineUid",
      "downloadImageUid",
      "runningImageUid",
      "uploadImageUid",
      "configUid",
      "datasetUid",
      "baseModelUid",
      "outputDatasetUid",
      "outputModelUid",
    ];
    return this.run(() =>
      this.delegate.count({ where: { status: { in: [...ACTIVE_TASK_STATUSES] }, OR: uses.map((field) => ({ [field]: uid })) } }),
    );
  }
}

class PrismaWebhookStore extends PrismaEntityStore<WebhookRecord> implements WebhookStore {
  async advance(uid: string, from: number, to: number): Promise<boolean> {
    const { count } = await this.run(() => this.delegate.updateMany({ where: { uid, lastEventId: from }, data: { lastEventId: to } }));
    return count === 1;
  }

  async countFailure(uid: string, limit: number, now: Date): Promise<WebhookRecord> {
    const counted = webhookMapping.fromRow(
      await this.run(() => this.delegate.update({ where: { uid }, data: { consecutiveFailures: { increment: 1 } } })),
    );
    if (!counted.enabled || counted.consecutiveFailures < limit) return counted;
    return this.update(uid, { enabled: false, disabledAt: now });
  }
}

class PrismaWebhookDeliveryStore extends PrismaEntityStore<WebhookDeliveryRecord> implements WebhookDeliveryStore {
  async due(now: Date, limit: number): Promise<WebhookDeliveryRecord[]> {
    return (await this.run(() =>
      this.delegate.findMany({
        where: { status: "pending", nextAttemptAt: { lte: now }, ...unclaimed(now), webhook: { enabled: true } },
        orderBy: [{ nextAttemptAt: "asc" }, { uid: "asc" }],
        take: limit,
      }),
    )) as WebhookDeliveryRecord[];
  }

  async claim(uid: string, now: Date, until: Date): Promise<boolean> {
    const { count } = await this.run(() =>
      this.delegate.updateMany({ where: { uid, status: "pending", ...unclaimed(now) }, data: { claimedUntil: until } }),
    );
    return count === 1;
  }
}

const unclaimed = (now: Date) => ({ OR: [{ claimedUntil: null }, { claimedUntil: { lt: now } }] });

class PrismaApiKeyStore extends PrismaEntityStore<ApiKeyRecord> {
  async findByHash(keyHash: string): Promise<ApiKeyRecord | null> {
    if (this.reads) return (await this.run(() => this.reads!.findBy("keyHash", keyHash))) as ApiKeyRecord | null;
    return (await this.run(() => this.delegate.findUnique({ where: { keyHash } }))) as ApiKeyRecord | null;
  }
}

class PrismaMetricPointStore implements MetricPointStore {
  constructor(private readonly client: TxClient) {}

  async append(points: Array<Omit<MetricPointRecord, "id">>): Promise<void> {
    await guard(() => this.client.metricPoint.createMany({ data: points }));
  }

  list(query: { taskUid: string; key?: string; afterStep?: number; limit: number }): Promise<MetricPointRecord[]> {
    return guard(() =>
      this.client.metricPoint.findMany({
        where: {
          taskUid: query.taskUid,
          ...(query.key !== undefined ? { key: query.key } : {}),
          ...(query.afterStep !== undefined ? { stepIndex: { gt: query.afterStep } } : {}),
        },
        orderBy: [{ stepIndex: "asc" }, { id: "asc" }],
        take: query.limit,
      }),
    );
  }

  async lastValues(taskUid: string, key: string, count: number): Promise<number[]> {
    const rows = await guard(() =>
      this.client.metricPoint.findMany({
        where: { taskUid, key },
        orderBy: [{ stepIndex: "desc" }, { id: "desc" }],
        take: count,
        select: { value: true },
      }),
    );
    return rows.map((row) => row.value).reverse();
  }
}

class PrismaModelAliasStore implements ModelAliasStore {
  constructor(private readonly client: TxClient) {}

  find(applicationUid: string, alias: string): Promise<ModelAliasRecord | null> {
    return guard(() => this.client.modelAlias.findUnique({ where: { applicationUid_alias: { applicationUid, alias } } }));
  }

  listForModel(modelUid: string): Promise<ModelAliasRecord[]> {
    return guard(() => this.client.modelAlias.findMany({ where: { modelUid }, orderBy: { alias: "asc" } }));
  }

  async move(record: ModelAliasRecord, expected: string | null): Promise<boolean> {
    if (expected === null) {
      await guard(() => this.client.modelAlias.create({ data: record }));
      return true;
    }
    const { applicationUid, alias, ...moved } = record;
    const { count } = await guard(() =>
      this.client.modelAlias.updateMany({ where: { applicationUid, alias, modelUid: expected }, data: moved }),
    );
    return count === 1;
  }

  async remove(applicationUid: string, alias: string): Promise<void> {
    await guard(() => this.client.modelAlias.deleteMany({ where: { applicationUid, alias } }));
  }

  async recordMove(move: Omit<ModelAliasMoveRecord, "id">): Promise<void> {
    await guard(() => this.client.modelAliasMove.create({ data: move }));
  }

  moves(applicationUid: string, limit: number): Promise<ModelAliasMoveRecord[]> {
    return guard(() => this.client.modelAliasMove.findMany({ where: { applicationUid }, orderBy: { id: "asc" }, take: limit }));
  }
}

class PrismaTaskStepStore implements TaskStepStore {
  constructor(private readonly client: TxClient) {}

  async listFor(taskUid: string): Promise<TaskStepRecord[]> {
    return guard(() => this.client.taskStep.findMany({ where: { taskUid } })) as Promise<TaskStepRecord[]>;
  }

  async save(step: TaskStepRecord): Promise<void> {
    const { taskUid, name, ...rest } = step;
    await guard(() => this.client.taskStep.upsert({ where: { taskUid_name: { taskUid, name } }, create: step, update: rest }));
  }
}

class PrismaTaskEventStore implements TaskEventStore {
  constructor(private readonly client: TxClient) {}

  async append(event: Omit<TaskStatusEventRecord, "id">): Promise<void> {
    await guard(() => this.client.taskStatusEvent.create({ data: event }));
  }

  async listFor(taskUid: string): Promise<TaskStatusEventRecord[]> {
    return guard(() => this.client.taskStatusEvent.findMany({ where: { taskUid }, orderBy: { id: "asc" } })) as Promise<
      TaskStatusEventRecord[]
    >;
  }
}

class PrismaIdempotencyStore implements IdempotencyStore {
  constructor(private readonly client: TxClient) {}

  find(userUid: string, key: string): Promise<IdempotencyRecord | null> {
    return guard(() => this.client.idempotencyRecord.findUnique({ where: { userUid_key: { userUid, key } } }));
  }

  async create(record: IdempotencyRecord): Promise<void> {
    await guard(() => this.client.idempotencyRecord.create({ data: record }));
  }

  async deleteOlderThan(cutoff: Date): Promise<number> {
    return (await guard(() => this.client.idempotencyRecord.deleteMany({ where: { createdAt: { lt: cutoff } } }))).count;
  }
}

export function buildStores(client: TxClient, reads?: <R>(model: string) => SqlReads<R>): Stores {
  const d = (delegate: unknown) => delegate as Delegate;
  const r = (model: string) => reads?.<unknown>(model);
  return {
    organizations: new PrismaEntityStore(d(client.organization), undefined, r("Organization")),
    users: new PrismaUserStore(d(client.user), undefined, r("User")),
    sessions: new PrismaSessionStore(d(client.session), undefined, r("Session")),
    files: new PrismaEntityStore(d(client.storedFile), fileMapping, r("StoredFile")),
    projects: new PrismaEntityStore(d(client.project), undefined, r("Project")),
    applications: new PrismaEntityStore(d(client.application), undefined, r("Application")),
    pipelines: new PrismaEntityStore(d(client.pipeline), undefined, r("Pipeline")),
    datasets: new PrismaEntityStore(d(client.dataset), undefined, r("Dataset")),
    configs: new PrismaEntityStore(d(client.config), undefined, r("Config")),
    images: new PrismaEntityStore(d(client.image), undefined, r("Image")),
    imageBuilds: new PrismaEntityStore(d(client.imageBuild), undefined, r("ImageBuild")),
    models: new PrismaEntityStore(d(client.model), undefined, r("Model")),
    agents: new PrismaEntityStore(d(client.agent), undefined, r("Agent")),
    applicationAgentLinks: new PrismaEntityStore(d(client.applicationAgentLink), undefined, r("ApplicationAgentLink")),
    inferenceTemplates: new PrismaEntityStore(d(client.inferenceTemplate), undefined, r("InferenceTemplate")),
    rawData: new PrismaEntityStore(d(client.rawData), undefined, r("RawData")),
    tasks: new PrismaTaskStore(d(client.task), undefined, r("Task")),
    taskSteps: new PrismaTaskStepStore(client),
    taskEvents: new PrismaTaskEventStore(client),
    idempotency: new PrismaIdempotencyStore(client),
    webhooks: new PrismaWebhookStore(d(client.webhook), webhookMapping, r("Webhook")),
    webhookDeliveries: new PrismaWebhookDeliveryStore(d(client.webhookDelivery), undefined, r("WebhookDelivery")),
    auditEvents: new PrismaEntityStore(d(client.auditEvent), undefined, r("AuditEvent")),
    apiKeys: new PrismaApiKeyStore(d(client.apiKey), undefined, r("ApiKey")),
    projectProfiles: new PrismaEntityStore(d(client.projectProfile), undefined, r("ProjectProfile")),
    retrainJobs: new PrismaEntityStore(d(client.retrainJob), undefined, r("RetrainJob")),
    metricPoints: new PrismaMetricPointStore(client),
    modelAliases: new PrismaModelAliasStore(client),
  };
}
