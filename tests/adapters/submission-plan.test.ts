/** The submission's one read uses an index for every table it touches, so it costs the same at any size (SQLite's plan). */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { createClient, type Client } from "@libsql/client";
import { applyMigrations } from "../../src/adapters/db/migrator.js";
import { modelShapes, TableCodec } from "../../src/adapters/db/sql-reads.js";
import type { SqlClient } from "../../src/adapters/db/sql-client.js";
import { submissionReader } from "../../src/adapters/db/submission-reads.js";
import { Prisma } from "../../generated/sqlite/index.js";

describe("The submission's read on SQLite", () => {
  let directory: string;
  let client: Client;

  beforeAll(async () => {
    directory = mkdtempSync(path.join(os.tmpdir(), "argo-entrypoint-plan-"));
    const url = `file:${path.join(directory, "plan.db")}`;
    await applyMigrations({ url, provider: "sqlite" });
    client = createClient({ url });
  });
  afterAll(() => {
    client.close();
    rmSync(directory, { recursive: true, force: true });
  });

  test("When its query plan is read, then every table is reached through an index, none scanned", async () => {
    const shapes = modelShapes(Prisma.dmmf.datamodel.models);
    const codecs = new Map([...shapes].map(([name, shape]) => [name, new TableCodec(shape, "sqlite")]));
    const statements: Array<{ sql: string; args: unknown[] }> = [];
    const capture = { dialect: "sqlite", query: async (sql: string, args: unknown[] = []) => (statements.push({ sql, args }), [{}]) };
    await submissionReader((model) => codecs.get(model)!)(capture as unknown as SqlClient, {
      pipelineUid: "p",
      imageUids: { download: "d", running: "r", upload: "u" },
      configUid: "c",
      datasetUid: "s",
      baseModelUid: "m",
    }).catch(() => undefined); // the captured row is empty: only the statement matters
    const { sql, args } = statements[0]!;
    const plan = (await client.execute({ sql: `EXPLAIN QUERY PLAN ${sql}`, args: args as string[] })).rows.map((row) => String(row.detail));
    const tableSteps = plan.filter((step) => /^(SEARCH|SCAN) /.test(step) && !/^SCAN (x|CONSTANT ROW)$/.test(step));
    expect(tableSteps.length).toBeGreaterThanOrEqual(9);
    for (const step of tableSteps)
      expect({ step, indexed: /USING (COVERING )?INDEX|USING INTEGER PRIMARY KEY/.test(step) }).toEqual({ step, indexed: true });
  });
});
