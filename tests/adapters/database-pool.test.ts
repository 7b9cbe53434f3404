/** PostgreSQL connections are bounded by DATABASE_POOL_SIZE: queries beyond it wait for one rather than open more or fail. */
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { createPrismaClient, type DatabaseConnection } from "../../src/adapters/db/prisma-database.js";
import { createTestDatabase } from "../support/test-database.js";

const onPostgres = Boolean(process.env.TEST_DATABASE_URL);

describe("The PostgreSQL connection pool", () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let connection: DatabaseConnection;

  beforeAll(async () => {
    database = await createTestDatabase();
    if (onPostgres) connection = createPrismaClient({ url: database.url, provider: "postgresql", poolSize: 2 });
  });
  afterAll(async () => {
    await connection?.end();
    await database.drop();
  });

  (onPostgres ? test : test.skip)("When six slow queries run at once on a pool of two, then all answer over two connections", async () => {
    const rows = await Promise.all(
      Array.from({ length: 6 }, () => connection.sql.query("SELECT pg_backend_pid() AS pid, pg_sleep(0.05) AS slept")),
    );
    const backends = new Set(rows.map(([row]) => row!.pid));
    expect(rows).toHaveLength(6);
    expect(backends.size).toBe(2);
  });
});
