import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { SingleConnectionLibSQL, type StatementCounter } from "./single-connection-libsql.js";
import {
  countedPool,
  parseStoredTime,
  postgresSqlClient,
  sqliteSqlClient,
  type SqlClient,
  type SqlStatement,
  type SqlValue,
} from "./sql-client.js";
import { modelShapes, SqlReads, TableCodec } from "./sql-reads.js";
import { submissionReader } from "./submission-reads.js";
import { groupCommits } from "./group-commit.js";
import { guard, translate } from "./prisma-errors.js";
import { buildStores, type Client } from "./prisma-stores.js";
import { Prisma as SqliteModels, PrismaClient as SqliteClient } from "../../../generated/sqlite/index.js";
import { PrismaClient as PostgresClient } from "../../../generated/postgresql/index.js";
import type { Database, NewRows, Stores, TaskFeedEvent, TaskFeedQuery, SubmissionRows, SubmissionUids } from "../../domain/ports.js";
import { type TaskStatusEventRecord } from "../../domain/records.js";

export interface DatabaseSettings {
  url: string;
  provider: "sqlite" | "postgresql";
  /** The most connections to PostgreSQL: more concurrent queries queue for one rather than fail. */
  poolSize: number;
}

/** Timestamps without a zone are written as UTC by Prisma: read them so. */
const UTC_TIMESTAMPS = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === 1114 ? parseStoredTime : pg.types.getTypeParser(oid, format as "text")) as typeof pg.types.getTypeParser,
};

export interface DatabaseConnection {
  client: Client;
  /** Prepared statements on Prisma's own connection(s). */
  sql: SqlClient;
  counter: StatementCounter;
  /** Ends what Prisma does not own (the PostgreSQL pool given to its adapter). */
  end(): Promise<void>;
}

export function createPrismaClient({ url, provider, poolSize }: DatabaseSettings): DatabaseConnection {
  const counter: StatementCounter = { statements: 0 };
  if (provider === "postgresql") {
    // Connections, once opened, are kept (`min`): each holds its prepared statements, and a burst
    // after a quiet spell would otherwise wait for new connections and prepare everything again.
    const pool = countedPool(
      new pg.Pool({ connectionString: url, max: poolSize, min: poolSize, connectionTimeoutMillis: 30_000, types: UTC_TIMESTAMPS }),
      counter,
    );
    // An idle connection the server ended (a restart, an administrator) is dropped by the pool; the next query opens another.
    pool.on("error", () => undefined);
    const client = new PostgresClient({ adapter: new PrismaPg(pool) }) as unknown as Client;
    return { client, sql: postgresSqlClient(pool), counter, end: async () => void (pool.ended ? undefined : await pool.end()) };
  }
  const adapter = new SingleConnectionLibSQL({ url }, counter);
  return { client: new SqliteClient({ adapter }), sql: sqliteSqlClient(() => adapter.connection()), counter, end: () => adapter.end() };
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
  readonly webhooks;
  readonly webhookDeliveries;
  readonly auditEvents;
  readonly apiKeys;
  readonly projectProfiles;
  readonly retrainJobs;
  readonly metricPoints;
  readonly modelAliases;

  private readonly client: Client;
  private readonly connection: DatabaseConnection;
  private readonly sql: SqlClient;
  private readonly codecs: Map<string, TableCodec>;
  private readonly submissionRead: ReturnType<typeof submissionReader>;
  /** SQL statements sent since start (tests keep hot paths short with it). */
  readonly counter: StatementCounter;

  constructor(connection: DatabaseConnection) {
    this.client = connection.client;
    this.connection = connection;
    this.sql = connection.sql;
    this.counter = connection.counter;
    const shapes = modelShapes(SqliteModels.dmmf.datamodel.models);
    this.codecs = new Map([...shapes].map(([name, shape]) => [name, new TableCodec(shape, connection.sql.dialect)]));
    this.submissionRead = submissionReader((model) => this.codecs.get(model)!);
    // Reads outside transactions are prepared statements; writes and transactions are Prisma's, but for insertTogether.
    const reads = <R>(model: string) => new SqlReads<R>(connection.sql, shapes.get(model)!);
    this.stores = buildStores(this.client, reads);
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
      webhooks: this.webhooks,
      webhookDeliveries: this.webhookDeliveries,
      auditEvents: this.auditEvents,
      apiKeys: this.apiKeys,
      projectProfiles: this.projectProfiles,
      retrainJobs: this.retrainJobs,
      metricPoints: this.metricPoints,
      modelAliases: this.modelAliases,
    } = this.stores);
  }

  transaction<T>(work: (stores: Stores) => Promise<T>): Promise<T> {
    return this.client
      .$transaction((tx) => work(buildStores(tx)), { timeout: 30_000, maxWait: 30_000 })
      .catch((error: unknown) => {
        throw translate(error);
      });
  }

  readSubmission(uids: SubmissionUids): Promise<SubmissionRows> {
    return guard(() => this.submissionRead(this.sql, uids));
  }

  async taskFeed(query: TaskFeedQuery): Promise<TaskFeedEvent[]> {
    const events = this.codecs.get("TaskStatusEvent")!;
    const where = [`"e"."id" > ?`];
    const args: SqlValue[] = [query.afterId];
    if (query.organizationUid !== undefined) {
      where.push(`"t"."organizationUid" = ?`);
      args.push(query.organizationUid);
    }
    if (query.taskUid !== undefined) {
      where.push(`"e"."taskUid" = ?`);
      args.push(query.taskUid);
    }
    const columns = Object.keys(events.shape.columns).map((c) => `"e"."${c}" AS "${c}"`);
    const rows = await guard(() =>
      this.sql.query(
        `SELECT ${columns.join(", ")}, "t"."organizationUid" AS "organizationUid", "t"."kind" AS "kind"
         FROM "TaskStatusEvent" AS "e" JOIN "Task" AS "t" ON "t"."uid" = "e"."taskUid"
         WHERE ${where.join(" AND ")} ORDER BY "e"."id" LIMIT ${Math.max(1, Math.floor(query.limit))}`,
        args,
      ),
    );
    return rows.map((row) => ({
      ...events.record<TaskStatusEventRecord>(row),
      organizationUid: String(row.organizationUid),
      kind: row.kind as TaskFeedEvent["kind"],
    }));
  }

  async latestTaskEventId(): Promise<number> {
    const [row] = await guard(() => this.sql.query(`SELECT max("id") AS "id" FROM "TaskStatusEvent"`));
    return Number(row?.id ?? 0);
  }

  insertTogether(rows: NewRows): Promise<void> {
    return guard(() => this.insertGrouped(rows));
  }

  /** Writes handed in during one turn of the event loop: their rows merged per table, parents first, as one write. */
  private readonly insertGrouped = groupCommits<NewRows>((writes) => {
    const now = new Date();
    const statements: SqlStatement[] = [];
    for (const [store, model] of INSERT_ORDER) {
      const records = writes.flatMap((rows): object[] => rows[store] ?? []);
      if (!records.length) continue;
      const codec = this.codecs.get(model)!;
      statements.push(...codec.inserts("createdAt" in codec.shape.columns ? records.map((r) => ({ createdAt: now, ...r })) : records));
    }
    return this.sql.insertAll(statements);
  });

  async close(): Promise<void> {
    await this.client.$disconnect();
    await this.connection.end();
  }
}

/** Parents before children. */
const INSERT_ORDER: Array<[keyof NewRows, string]> = [
  ["datasets", "Dataset"],
  ["models", "Model"],
  ["tasks", "Task"],
  ["taskSteps", "TaskStep"],
  ["taskEvents", "TaskStatusEvent"],
  ["idempotency", "IdempotencyRecord"],
  ["auditEvents", "AuditEvent"],
];
