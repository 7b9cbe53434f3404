/** The local engine's step logs as followers see them, at the moment a step is reported. */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, test } from "@jest/globals";
import { LocalEngine } from "../../src/adapters/local-engine/local-engine.js";
import { systemClock } from "../../src/domain/clock.js";
import type { TaskRecord } from "../../src/domain/records.js";
import type { TaskPlan, TaskProgress } from "../../src/domain/tasks/task-engine.js";
import { silentLogger } from "../support/observers.js";

describe("The local engine's step logs", () => {
  const workRoot = mkdtempSync(path.join(os.tmpdir(), "argo-entrypoint-local-logs-"));
  afterAll(() => rmSync(workRoot, { recursive: true, force: true }));

  test("When a step is reported running, then its log file already exists (a follower may open it at once)", async () => {
    const seen: Array<{ step: string; logExists: boolean }> = [];
    let finished: (progress: TaskProgress) => void = () => undefined;
    const done = new Promise<TaskProgress>((resolve) => (finished = resolve));
    const engine: LocalEngine = await LocalEngine.open(
      {
        workRoot,
        concurrency: 1,
        serviceUrl: () => "http://127.0.0.1:1",
        downloadCommand: ["sh", "-c", "echo fetched"],
        uploadCommand: ["sh", "-c", "echo stored"],
        stopGraceSeconds: 1,
        sandbox: "off",
      },
      {
        logger: silentLogger,
        clock: systemClock,
        sink: {
          // Checked while the engine waits for the report, as a follower told of it would look.
          report: async (progress) => {
            for (const step of progress.steps.filter((s) => s.phase === "Running"))
              seen.push({ step: step.name, logExists: existsSync(engine.logFile(progress.taskUid, step.name)) });
            if (progress.finishedAt) finished(progress);
          },
        },
      },
    );
    const task = { uid: crypto.randomUUID(), kind: "training" } as TaskRecord;
    const plan = {
      task,
      steps: [
        { name: "download_training_dataset", sequence: "download" },
        { name: "upload_model", sequence: "upload" },
      ],
      config: {},
      outputFileName: null,
      datasetFilePath: null,
      outputFilePath: null,
      stepToken: "token",
      firstAttempt: true,
    } as unknown as TaskPlan;
    try {
      await engine.submit(plan);
      expect((await done).phase).toBe("Succeeded");
      expect(seen).toEqual([
        { step: "download_training_dataset", logExists: true },
        { step: "upload_model", logExists: true },
      ]);
      expect(readFileSync(engine.logFile(task.uid, "upload_model"), "utf8")).toBe("stored\n");
    } finally {
      await engine.close();
    }
  });
});
