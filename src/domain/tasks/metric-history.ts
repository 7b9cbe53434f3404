import type { Clock } from "../clock.js";
import { NotFoundError, PayloadTooLargeError, ValidationError } from "../errors.js";
import type { Database, Logger } from "../ports.js";
import { canAccess, type Principal } from "../principal.js";
import { ACTIVE_TASK_STATUSES, type MetricPointRecord, type TaskRecord } from "../records.js";

/** MRMS early_stop_param: `min` fires when the key falls to the value, `max` when it rises to it, `variance` on a plateau. */
export interface EarlyStopRule {
  type: "min" | "max" | "variance";
  key: string;
  value: number;
  /** Nothing fires before this step (for `variance`: the plateau's length in points). */
  minSteps: number;
}

export interface MetricPointInput {
  key: string;
  value: number;
  step: number;
}

interface KeySummary {
  count: number;
  latest: { value: number; step: number };
  best: { value: number; step: number };
}

interface Summary {
  keys?: Record<string, KeySummary>;
  total?: number;
  early_stop?: { rule: EarlyStopRule; step: number; value: number; message: string };
}

export interface MetricHistorySettings {
  /** Points one task may hold (a report past it is a 413). */
  maxPointsPerTask: number;
  /** Points one report may carry. */
  maxPointsPerReport: number;
}

const KEY = /^[A-Za-z][A-Za-z0-9_.\-/]{0,63}$/;
/** Keys where smaller is better (the rest: larger is). */
const LOWER_IS_BETTER = /loss|error|mse|mae|rmse/i;

/**
 * A task's metric history: points a running step reports in batches (loss, accuracy, eps per
 * step), kept in step order, summarised (latest and best per key) on the task in the same
 * transaction, and checked against the task's early-stop rule: when it fires, the run is stopped
 * and task info says which rule fired.
 */
export class MetricHistory {
  constructor(
    private readonly deps: {
      db: Database;
      clock: Clock;
      logger: Logger;
      settings: MetricHistorySettings;
      /** Stops the task's run (the engine's stop), with the reason in its history. */
      stop(task: TaskRecord, message: string): Promise<void>;
    },
  ) {}

  async report(task: TaskRecord, stepName: string, points: MetricPointInput[]): Promise<{ stored: number; earlyStop?: string }> {
    const { settings } = this.deps;
    if (points.length === 0) throw ValidationError.field("points", "must hold at least one point");
    if (points.length > settings.maxPointsPerReport)
      throw new PayloadTooLargeError(`a report may carry at most ${settings.maxPointsPerReport} points`);
    for (const [index, point] of points.entries()) {
      if (typeof point !== "object" || point === null || Array.isArray(point))
        throw ValidationError.field(`points.${index}`, "must be an object {key, value, step}");
      if (typeof point.key !== "string" || !KEY.test(point.key))
        throw ValidationError.field(`points.${index}.key`, "must be 1-64 letters, digits, '_', '.', '-' or '/', starting with a letter");
      if (typeof point.value !== "number" || !Number.isFinite(point.value))
        throw ValidationError.field(`points.${index}.value`, "must be a finite number");
      if (!Number.isInteger(point.step) || point.step < 0 || point.step > 2 ** 31 - 1)
        throw ValidationError.field(`points.${index}.step`, "must be a whole number from 0");
    }
    const now = this.deps.clock.now();
    const fired = await this.deps.db.transaction(async (stores) => {
      const current = (await stores.tasks.lock(task.uid)) ?? task;
      const summary = JSON.parse(current.metricSummary) as Summary;
      const total = (summary.total ?? 0) + points.length;
      if (total > settings.maxPointsPerTask)
        throw new PayloadTooLargeError(
          `task ${task.uid} holds ${summary.total ?? 0} points; the most a task may hold is ${settings.maxPointsPerTask}`,
        );
      await stores.metricPoints.append(
        points.map((p) => ({ taskUid: task.uid, stepName, key: p.key, value: p.value, stepIndex: p.step, at: now })),
      );
      summary.total = total;
      summary.keys = summarise(summary.keys ?? {}, points);
      const rule = current.earlyStop ? (JSON.parse(current.earlyStop) as EarlyStopRule) : undefined;
      const firing =
        rule && !summary.early_stop
          ? await fires(rule, points, (count) => stores.metricPoints.lastValues(task.uid, rule.key, count))
          : undefined;
      if (firing && rule) summary.early_stop = { rule, ...firing };
      await stores.tasks.update(task.uid, { metricSummary: JSON.stringify(summary) });
      return firing?.message;
    });
    if (fired && ACTIVE_TASK_STATUSES.includes(task.status)) {
      this.deps.logger.info({ task: task.uid, rule: fired }, "action=early-stop");
      await this.deps.stop(task, fired);
    }
    return { stored: points.length, ...(fired ? { earlyStop: fired } : {}) };
  }

  /**
   * A step's final numbers (the flat metrics object, e.g. the built-in upload's metrics.json) as
   * points one step after each key's latest; other fields and keys that are not metric names stay
   * only in the flat object.
   */
  async recordResult(task: TaskRecord, stepName: string, values: Record<string, unknown>): Promise<void> {
    const keys = (JSON.parse(task.metricSummary) as Summary).keys ?? {};
    const points = Object.entries(values)
      .filter((entry): entry is [string, number] => KEY.test(entry[0]) && typeof entry[1] === "number" && Number.isFinite(entry[1]))
      .map(([key, value]) => ({ key, value, step: (keys[key]?.latest.step ?? -1) + 1 }));
    if (points.length === 0) return;
    try {
      await this.report(task, stepName, points.slice(0, this.deps.settings.maxPointsPerReport));
    } catch (error) {
      // A history at its cap must not fail the step: the flat metrics are already recorded.
      if (!(error instanceof PayloadTooLargeError)) throw error;
      this.deps.logger.warn({ task: task.uid }, "action=metric-history outcome=full");
    }
  }

  /** A task's points for one key or all, in step order, after `afterStep`; thinned to `maxPoints` evenly when asked. */
  async history(
    principal: Principal,
    taskUid: string,
    query: { key?: string | undefined; afterStep?: number | undefined; limit: number; maxPoints?: number | undefined },
  ): Promise<MetricPointRecord[]> {
    const task = await this.deps.db.tasks.find(taskUid);
    if (!task || !canAccess(principal, task.organizationUid)) throw NotFoundError.entity("task", "taskUid", taskUid);
    const points = await this.deps.db.metricPoints.list({
      taskUid,
      ...(query.key !== undefined ? { key: query.key } : {}),
      ...(query.afterStep !== undefined ? { afterStep: query.afterStep } : {}),
      limit: query.limit,
    });
    if (!query.maxPoints || points.length <= query.maxPoints) return points;
    // Every n-th point, always keeping the last (the curve's end matters most).
    const stride = points.length / query.maxPoints;
    return Array.from({ length: query.maxPoints }, (_, i) => points[Math.min(points.length - 1, Math.round((i + 1) * stride) - 1)]!);
  }
}

function summarise(keys: Record<string, KeySummary>, points: MetricPointInput[]): Record<string, KeySummary> {
  for (const point of points) {
    const entry = keys[point.key];
    const at = { value: point.value, step: point.step };
    if (!entry) {
      keys[point.key] = { count: 1, latest: at, best: at };
      continue;
    }
    entry.count += 1;
    if (point.step >= entry.latest.step) entry.latest = at;
    const better = LOWER_IS_BETTER.test(point.key) ? point.value < entry.best.value : point.value > entry.best.value;
    if (better) entry.best = at;
  }
  return keys;
}

async function fires(
  rule: EarlyStopRule,
  points: MetricPointInput[],
  lastValues: (count: number) => Promise<number[]>,
): Promise<{ step: number; value: number; message: string } | undefined> {
  const reported = points.filter((p) => p.key === rule.key).sort((a, b) => a.step - b.step);
  if (rule.type === "variance") {
    const last = reported.at(-1);
    if (!last) return undefined;
    const window = await lastValues(Math.max(2, rule.minSteps));
    if (window.length < Math.max(2, rule.minSteps)) return undefined;
    const mean = window.reduce((a, b) => a + b, 0) / window.length;
    const variance = window.reduce((a, b) => a + (b - mean) ** 2, 0) / window.length;
    if (variance >= rule.value) return undefined;
    return {
      step: last.step,
      value: variance,
      message: `early stop: the variance of ${rule.key} over its last ${window.length} points is ${round(variance)}, below ${rule.value} (step ${last.step})`,
    };
  }
  for (const point of reported) {
    if (point.step < rule.minSteps) continue;
    const met = rule.type === "min" ? point.value <= rule.value : point.value >= rule.value;
    if (met)
      return {
        step: point.step,
        value: point.value,
        message: `early stop: ${rule.key} reached ${round(point.value)} at step ${point.step} (${rule.type === "min" ? "at or below" : "at or above"} ${rule.value}, after at least ${rule.minSteps} steps)`,
      };
  }
  return undefined;
}

const round = (value: number) => Math.round(value * 1e6) / 1e6;
