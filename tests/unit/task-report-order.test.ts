import { Writable } from "node:stream";
import { describe, expect, test } from "@jest/globals";
import { systemClock } from "../../src/domain/clock.js";
import type { Database } from "../../src/domain/ports.js";
import type { TaskRecord, TaskStepRecord } from "../../src/domain/records.js";
import { ProgressRecorder } from "../../src/domain/tasks/progress-recorder.js";
import type { TaskProgress } from "../../src/domain/tasks/task-engine.js";
import { TaskLifecycle } from "../../src/domain/tasks/task-lifecycle.js";
import { createLogger } from "../../src/logging/logger.js";

/** Just the part of the database a progress report touches; the first read of the task is the slowest. */
function stores() {
  const task = {
    uid: "t1",
    kind: "training",
    status: "running",
    executeStep: "run_task",
    workflowName: "run-t1",
    outputDatasetUid: null,
    outputModelUid: null,
  } as TaskRecord;
  const saved: string[] = [];
  let reads = 0;
  let inFlight = 0;
  const db = {
    tasks: {
      find: async () => {
        inFlight += 1;
        expect(inFlight).toBe(1); // one report at a time
        await new Promise((resolve) => setTimeout(resolve, reads++ === 0 ? 30 : 1));
        return { ...task };
      },
      update: async (_uid: string, patch: Partial<TaskRecord>) => ({ ...task, ...patch }),
    },
    taskSteps: {
      save: async (step: TaskStepRecord) => {
        saved.push(step.message);
        inFlight -= 1;
      },
      listFor: async () => [],
    },
    taskEvents: { append: async () => undefined },
  } as unknown as Database;
  return { db, saved };
}

describe("ProgressRecorder.report", () => {
  test("When reports of one task arrive back to back, then they are applied one at a time in arrival order", async () => {
    const { db, saved } = stores();
    const lifecycle = new TaskLifecycle({
      db,
      clock: systemClock,
      logger: createLogger("silent", new Writable({ write: (_c, _e, done) => done() })),
    });
    const recorder = new ProgressRecorder({ db, lifecycle });
    const step = (message: string) => ({
      name: "training",
      phase: "Running",
      startedAt: new Date(),
      finishedAt: null,
      exitCode: null,
      message,
      resources: {},
    });
    const report = (message: string): Promise<unknown> =>
      recorder.report({ taskUid: "t1", phase: "Running", message: "", finishedAt: null, steps: [step(message)] } as TaskProgress);
    await Promise.all([report("older"), report("newer"), report("newest")]);
    expect(saved).toEqual(["older", "newer", "newest"]);
  });
});
