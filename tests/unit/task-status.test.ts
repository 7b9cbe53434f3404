import { describe, expect, test } from "@jest/globals";
import type { StepProgress } from "../../src/domain/tasks/task-engine.js";
import { deriveStatus } from "../../src/domain/tasks/task-status.js";

const step = (name: string, phase: string, extra: Partial<StepProgress> = {}): StepProgress => ({
  name,
  phase,
  startedAt: phase === "Pending" ? null : new Date(0),
  finishedAt: null,
  exitCode: null,
  message: "",
  resources: {},
  ...extra,
});

describe("deriveStatus: a run's phase in the original's terms", () => {
  test.each([
    ["", [step("a", "Pending")], { status: "pending", executeStep: "execute_pipeline" }],
    ["Pending", [step("a", "Pending")], { status: "pending", executeStep: "execute_pipeline" }],
    ["Running", [step("a", "Pending")], { status: "pending", executeStep: "execute_pipeline" }],
    ["Running", [step("a", "Running")], { status: "running", executeStep: "run_task" }],
    ["Succeeded", [step("a", "Succeeded")], { status: "success", executeStep: "run_task" }],
  ] as const)("When the phase is %j with steps %j, then the status is %j", (phase, steps, expected) => {
    expect(deriveStatus(phase, "", [...steps])).toMatchObject(expected);
  });

  test("When a step failed, then the failure names the step and its message rather than Argo's child id", () => {
    const derived = deriveStatus("Failed", "child 'wf-1' failed", [
      step("download", "Succeeded"),
      step("training", "Failed", { message: "main: Error (exit code 3)" }),
    ]);
    expect(derived).toEqual({ status: "fail", executeStep: "run_task", message: "training: main: Error (exit code 3)" });
  });

  test("When a failed step has no message, then its exit code is given", () => {
    expect(deriveStatus("Error", "", [step("training", "Error", { exitCode: 137 })]).message).toBe("training: exit code 137");
  });

  test("When the run was stopped, then Argo's shutdown message is kept", () => {
    expect(deriveStatus("Failed", "Stopped with strategy 'Stop'", [step("training", "Failed", { message: "x" })]).message).toBe(
      "Stopped with strategy 'Stop'",
    );
  });

  test("When the run failed before any step started, then the step is still execute_pipeline", () => {
    expect(deriveStatus("Error", "workflow templates not found", [step("a", "Pending")])).toEqual({
      status: "fail",
      executeStep: "execute_pipeline",
      message: "workflow templates not found",
    });
  });
});
