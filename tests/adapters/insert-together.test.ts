/** A submission's rows are written together: on SQLite one batch, on PostgreSQL one statement of chained INSERTs. */
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { startTestService, type TestService } from "../support/test-service.js";

describe("Writing a submission's rows together", () => {
  let service: TestService;

  beforeAll(async () => {
    service = await startTestService();
  });
  afterAll(async () => {
    await service.close();
  });

  const audit = (uid: string) => ({
    uid,
    action: "test.insert",
    actorUid: "actor",
    actorAccessKey: "actor-key",
    subjectUid: "subject",
    organizationUid: null,
    details: "{}",
    createdAt: new Date(),
  });

  test("When every row is valid, then all of them are written in one statement", async () => {
    const db = service.container.db;
    const before = service.container.sqlStatements();
    await db.insertTogether({ auditEvents: [audit("together-1"), audit("together-2")] });
    expect(service.container.sqlStatements() - before).toBe(1);
    expect(await db.auditEvents.find("together-1")).not.toBeNull();
    expect(await db.auditEvents.find("together-2")).not.toBeNull();
  });

  test("When one row breaks a constraint, then none of the others is written", async () => {
    const db = service.container.db;
    const orphan = { taskUid: "no-such-task", status: "init" as const, executeStep: "prepare_file" as const, message: "", at: new Date() };
    await expect(db.insertTogether({ taskEvents: [orphan], auditEvents: [audit("together-3")] })).rejects.toThrow();
    expect(await db.auditEvents.find("together-3")).toBeNull();
  });
});
