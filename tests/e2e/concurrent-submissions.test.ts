/**
 * Writes that arrive together: on SQLite they commit as one group, and each must still be
 * written whole or refused alone. Dispatch is held, so only the accept path runs.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { ConflictError } from "../../src/domain/errors.js";
import type { AuditEventRecord } from "../../src/domain/records.js";
import { API, startTestService } from "../support/test-service.js";
import { endActiveTasks, startTrainingWorld, trainingBody } from "../support/task-fixture.js";

describe("Submissions that arrive at once", () => {
  let world: Awaited<ReturnType<typeof startTrainingWorld>>;

  beforeAll(async () => {
    world = await startTrainingWorld();
    world.service.container.dispatcher.pauseDispatch();
  });

  afterAll(async () => {
    await endActiveTasks(world.service, world.user); // terminated before they run
    await world.running.close();
  }, 60_000);

  const event = (uid: string, details = "{}"): AuditEventRecord => ({
    uid,
    action: "task.submit",
    actorUid: world.user.userUid,
    actorAccessKey: world.user.accessKey,
    subjectUid: randomUUID(),
    organizationUid: world.user.organizationUid,
    details,
    createdAt: new Date(),
  });

  const submit = (key?: string) => {
    const request = world.service.http.post(`${API}/q8uzMBcM5YJH6dPf`);
    if (key) request.set("Idempotency-Key", key);
    return request.send(trainingBody(world.user, world.training, world.dataset));
  };

  test("When 16 distinct submissions and 8 with one Idempotency-Key arrive together, then 17 tasks are written whole and the 8 answer with one task", async () => {
    const { db } = world.service.container;
    const before = (await db.tasks.list({ pipelineUid: world.training.pipeline })).length;
    const responses = await Promise.all([
      ...Array.from({ length: 16 }, () => submit()),
      ...Array.from({ length: 8 }, () => submit("one-run-at-once")),
    ]);
    expect(responses.map((r) => r.status)).toEqual(Array(24).fill(200));
    const distinct = responses.slice(0, 16).map((r) => r.body.data.uid as string);
    const keyed = new Set(responses.slice(16).map((r) => r.body.data.uid as string));
    expect(new Set(distinct).size).toBe(16);
    expect(keyed.size).toBe(1);

    const tasks = await db.tasks.list({ pipelineUid: world.training.pipeline });
    expect(tasks).toHaveLength(before + 17);
    for (const uid of [...distinct, ...keyed]) {
      const task = tasks.find((t) => t.uid === uid)!;
      expect((await db.taskEvents.listFor(uid)).map((e) => e.message)).toEqual(["task created"]);
      expect(await db.models.find(task.outputModelUid!)).not.toBeNull();
    }
  });

  test("When writes handed in together include one that breaks a unique key, then exactly one of the two that repeat a key is refused, whole, and the others are stored", async () => {
    const { db } = world.service.container;
    const [first, repeated, other] = [randomUUID(), randomUUID(), randomUUID()];
    const outcomes = await Promise.allSettled([
      db.insertTogether({ auditEvents: [event(first)] }),
      db.insertTogether({ auditEvents: [event(repeated)] }),
      db.insertTogether({ auditEvents: [event(other), event(repeated)] }), // the batch at fault, all or nothing
      db.insertTogether({ auditEvents: [event(randomUUID())] }),
    ]);
    // Which of the two writes naming `repeated` commits first is the database's choice (PostgreSQL runs
    // them side by side); exactly one of them is refused, whole, and nothing else is.
    const statuses = outcomes.map((o) => o.status);
    expect([statuses[0], statuses[3]]).toEqual(["fulfilled", "fulfilled"]);
    expect([statuses[1], statuses[2]].sort()).toEqual(["fulfilled", "rejected"]);
    const refused = outcomes.find((o): o is PromiseRejectedResult => o.status === "rejected")!;
    expect(refused.reason).toBeInstanceOf(ConflictError);
    expect(await db.auditEvents.find(first)).not.toBeNull();
    expect(await db.auditEvents.find(repeated)).not.toBeNull();
    const batchAtFaultStored = statuses[2] === "fulfilled";
    expect((await db.auditEvents.find(other)) !== null).toBe(batchAtFaultStored);
  });

  test("When rows of one table handed in together give different columns, then each is stored with its own values and the defaults of the columns it left out", async () => {
    // A service never started: no engine, relay or dispatch writes beside these, so every statement counted is theirs.
    const quiet = await startTestService();
    try {
      const member = await quiet.user();
      const own = (uid: string, details?: string): AuditEventRecord => ({
        ...event(uid, details),
        actorUid: member.userUid,
        actorAccessKey: member.accessKey,
        organizationUid: member.organizationUid,
      });
      const { db } = quiet.container;
      const [full, alsoFull, partial] = [randomUUID(), randomUUID(), randomUUID()];
      const { details: _left, ...withoutDetails } = own(partial);
      const before = quiet.container.sqlStatements();
      await Promise.all([
        db.insertTogether({ auditEvents: [own(full, '{"kind":"training"}')] }),
        db.insertTogether({ auditEvents: [withoutDetails as AuditEventRecord] }),
        db.insertTogether({ auditEvents: [own(alsoFull, '{"kind":"training"}')] }),
      ]);
      // Merged per set of columns: on SQLite one INSERT for the two full rows and one for the other, in one
      // transaction; on PostgreSQL those two as one statement.
      expect(quiet.container.sqlStatements() - before).toBe(process.env.TEST_DATABASE_URL ? 1 : 2);
      expect((await db.auditEvents.find(full))!.details).toBe('{"kind":"training"}');
      expect((await db.auditEvents.find(alsoFull))!.details).toBe('{"kind":"training"}');
      expect((await db.auditEvents.find(partial))!.details).toBe("{}");
    } finally {
      await quiet.close();
    }
  });
});
