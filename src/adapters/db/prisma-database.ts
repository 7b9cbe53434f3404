import { PrismaPg } from "@prisma/adapter-pg";
import { SingleConnectionLibSQL } from "./single-connection-libsql.js";
import { PrismaClient as SqliteClient } from "../../../generated/sqlite/index.js";
import { PrismaClient as PostgresClient } from "../../../generated/postgresql/index.js";
import { ConflictError, NotFoundError, UpstreamError } from "../../domain/errors.js";
import type {
  Database,
  EntityStore,
  Filter,
  IdempotencyRecord,
  IdempotencyStore,
  NewRecord,
  PageRequest,
  SessionStore,
  Stores,
  TaskEventStore,
  TaskStepStore,
  TaskStore,
  UserStore,
} from "../../domain/ports.js";
import {
  ACTIVE_TASK_STATUSES,
  type SessionRecord,
  type StoredFileRecord,
  type TaskRecord,
  type TaskStatusEventRecord,
  type TaskStepRecord,
  type UserRecord,
} from "../../domain/records.js";

/** Both generated clients share one API; the sqlite one's type stands for both. */
type Client = SqliteClient;
type TxClient = Omit<Client, "$connect" | "$disconnect" | "$on" | "$transaction" | "$extends">;

export interface DatabaseSettings {
  url: string;
  provider: "sqlite" | "postgresql";
}

export function createPrismaClient({ url, provider }: DatabaseSettings): Client {
  if (provider === "postgresql") return new PostgresClient({ adapter: new PrismaPg({ connectionString: url }) }) as unknown as Client;
  return new SqliteClient({ adapter: new SingleConnectionLibSQL({ url }) });
}

/** The Database port on Prisma: one generic store per table plus the few special queries. */
export class PrismaDatabase implements Database {
  private readonly stores: Stores;
  readonly organizations;
  readonly users;
  readonly files;
  readonly projects;
  readonly applications;
  readonly pipelines;
  readonly datasets;
  readonly configs;
  readonly images;
  readonly imageBuilds;
  readonly models;
  readonly agents;
  readonly applicationAgentLinks;
  readonly inferenceTemplates;
  readonly rawData;
  readonly sessions;
  readonly tasks;
  readonly taskSteps;
  readonly taskEvents;
  readonly idempotency;

  constructor(private readonly client: Client) {
    this.stores = buildStores(client);
    ({
      organizations: this.organizations,
      users: this.users,
      files: this.files,
      projects: this.projects,
      applications: this.applications,
      pipelines: this.pipelines,
      datasets: this.datasets,
      configs: this.configs,
      images: this.images,
      imageBuilds: this.imageBuilds,
      models: this.models,
      agents: this.agents,
      applicationAgentLinks: this.applicationAgentLinks,
      inferenceTemplates: this.inferenceTemplates,
      rawData: this.rawData,
      sessions: this.sessions,
      tasks: this.tasks,
      taskSteps: this.taskSteps,
      taskEvents: this.taskEvents,
      idempotency: this.idempotency,
    } = this.stores);
  }

  transaction<T>(work: (stores: Stores) => Promise<T>): Promise<T> {
    return this.client
      .$transaction((tx) => work(buildStores(tx)), { timeout: 30_000 })
      .catch((error: unknown) => {
        throw translate(error);
      });
  }

  close(): Promise<void> {
    return this.client.$disconnect();
  }
}

/** The subset of a Prisma model delegate the generic store uses. */
interface Delegate {
  findUnique(args: unknown): Promise<unknown>;
  findMany(args: unknown): Promise<unknown[]>;
  count(args: unknown): Promise<number>;
  create(args: unknown): Promise<unknown>;
  update(args: unknown): Promise<unknown>;
  delete(args: unknown): Promise<unknown>;
  deleteMany(args: unknown): Promise<{ count: number }>;
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

class PrismaEntityStore<R extends { uid: string; createdAt: Date }> implements EntityStore<R> {
  constructor(
    protected readonly delegate: Delegate,
    private readonly mapping: RowMapping<R> = identity as unknown as RowMapping<R>,
  ) {}

  async find(uid: string): Promise<R | null> {
    const row = await this.run(() => this.delegate.findUnique({ where: { uid } }));
    return row ? this.mapping.fromRow(row) : null;
  }

  async list(filter: Filter<R>, page?: PageRequest): Promise<R[]> {
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
    return this.run(() => this.delegate.count({ where: this.mapping.toRow(filter as Partial<R>) }));
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

async function guard<T>(query: () => Promise<T>): Promise<T> {
  try {
    return await query();
  } catch (error) {
    throw translate(error);
  }
}

function buildStores(client: TxClient): Stores {
  const d = (delegate: unknown) => delegate as Delegate;
  return {
    organizations: new PrismaEntityStore(d(client.organization)),
    users: new PrismaUserStore(d(client.user)),
    files: new PrismaEntityStore(d(client.storedFile), fileMapping),
    projects: new PrismaEntityStore(d(client.project)),
    applications: new PrismaEntityStore(d(client.application)),
    pipelines: new PrismaEntityStore(d(client.pipeline)),
    datasets: new PrismaEntityStore(d(client.dataset)),
    configs: new PrismaEntityStore(d(client.config)),
    images: new PrismaEntityStore(d(client.image)),
    imageBuilds: new PrismaEntityStore(d(client.imageBuild)),
    models: new PrismaEntityStore(d(client.model)),
    agents: new PrismaEntityStore(d(client.agent)),
    applicationAgentLinks: new PrismaEntityStore(d(client.applicationAgentLink)),
    inferenceTemplates: new PrismaEntityStore(d(client.inferenceTemplate)),
    rawData: new PrismaEntityStore(d(client.rawData)),
    sessions: new PrismaSessionStore(d(client.session)),
    tasks: new PrismaTaskStore(d(client.task)),
    taskSteps: new PrismaTaskStepStore(client),
    taskEvents: new PrismaTaskEventStore(client),
    idempotency: new PrismaIdempotencyStore(client),
  };
}

/** Prisma's error codes become domain errors here, once, keeping the original as `cause`. */
function translate(error: unknown): unknown {
  if (error instanceof ConflictError || error instanceof NotFoundError || error instanceof UpstreamError) return error;
  const code = (error as { code?: unknown }).code;
  switch (code) {
    case "P2002":
      return new ConflictError("a record with the same unique value already exists", { cause: error });
    case "P2003":
    case "P2014":
      return new ConflictError("other records still refer to this one; delete them first", { cause: error });
    case "P2025":
      return new NotFoundError("record not found", { cause: error });
    default:
      return error instanceof Error && (error as { name?: string }).name?.startsWith("PrismaClient")
        ? new UpstreamError("the database is unavailable", { cause: error })
        : error;
  }
}
