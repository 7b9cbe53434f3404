import { describe, expect, test } from "@jest/globals";
import { TaskService } from "../../src/domain/tasks/task-service.js";
import type { TaskProgress } from "../../src/domain/tasks/task-engine.js";

describe("TaskService.report", () => {
  test("When reports of one task arrive back to back, then they are applied one at a time in arrival order", async () => {
    const applied: string[] = [];
    let inFlight = 0;
    // Only the ordering is under test: the real report() over a stand-in for applying one report.
    const service = Object.create(TaskService.prototype) as unknown as { report: TaskService["report"]; apply(p: TaskProgress): Promise<void> };
    Object.assign(service, { reporting: new Map() });
    // The first report is the slowest: without ordering it would finish last and win.
    service.apply = async (progress: TaskProgress) => {
      inFlight += 1;
      expect(inFlight).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, progress.message === "older" ? 30 : 1));
      applied.push(progress.message);
      inFlight -= 1;
    };
    const report = (message: string) => service.report({ taskUid: "t1", phase: "Running", message, finishedAt: null, steps: [] });
    await Promise.all([report("older"), report("newer"), report("newest")]);
    expect(applied).toEqual(["older", "newer", "newest"]);
  });
});
