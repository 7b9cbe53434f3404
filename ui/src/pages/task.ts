/** One task: its state live from the status stream, its steps as a timeline, history, inputs and outputs, controls, logs and curves. */
import { ApiError, rest, stream } from "../api.js";
import { lineChart, type Series } from "../chart.js";
import { ACTIVE_STATUSES, field, h, replace, select, statusBadge, time } from "../dom.js";
import { LogView } from "../log-view.js";
import type { Cleanup } from "../main.js";
import type { TaskInfo } from "./tasks.js";

interface Step {
  name: string;
  phase: string;
  started_time: string | null;
  finished_time: string | null;
  exit_code: number | null;
  message: string;
}

interface TaskView extends TaskInfo {
  description: string;
  f_pipeline_uid: string;
  f_dataset_uid: string;
  f_config_uid: string;
  f_base_model_uid: string | null;
  f_output_model_uid: string | null;
  f_output_dataset_uid: string | null;
  steps: Step[];
  history: Array<{ status: string; execute_step: string; message: string; time: string }>;
  early_stop: { fired: { message: string } | null } | null;
}

export interface MetricPoint {
  key: string;
  value: number;
  step: number;
}

const CONTROLS: Array<{ action: string; label: string; when: (status: string) => boolean; confirm: string }> = [
  { action: "stop", label: "Stop", when: (s) => ACTIVE_STATUSES.has(s), confirm: "Stop this task? Its running step gets the engine's stop." },
  { action: "terminate", label: "Terminate", when: (s) => ACTIVE_STATUSES.has(s), confirm: "Terminate this task now, without cleanup?" },
  { action: "retry", label: "Retry", when: (s) => s === "fail" || s === "init error", confirm: "Retry the failed steps?" },
  { action: "resubmit", label: "Resubmit", when: (s) => !ACTIVE_STATUSES.has(s), confirm: "Run a new task with the same inputs?" },
];

export async function taskPage(view: HTMLElement, [uid]: string[]): Promise<Cleanup> {
  const header = h("header", { class: "task-header" });
  const controls = h("div", { class: "toolbar", role: "group", "aria-label": "task controls" });
  const notice = h("p", { role: "alert", class: "error" });
  const timeline = h("ol", { class: "timeline" });
  const links = h("dl", { class: "links" });
  const history = h("ol", { class: "history" });
  const charts = h("div", { class: "charts" });
  const logs = new LogView("step log");
  const stepChoice = select("step", []);
  const tail = select("tail", [["100", "last 100 lines"], ["1000", "last 1,000 lines"], ["10000", "last 10,000 lines"], ["", "everything"]], "1000");
  const search = h("input", { type: "search", name: "search", placeholder: "text in the log" });
  const download = h("a", { href: `/api/v1/tasks/${uid}/logs/archive?format=txt`, download: "", class: "button" }, "Download log");
  let task: TaskView | undefined;
  let metricTimer: number | undefined;

  const follow = () => logs.follow(uid!, stepChoice.value || undefined, tail.value ? Number(tail.value) : undefined);
  stepChoice.addEventListener("change", follow);
  tail.addEventListener("change", follow);
  search.addEventListener("input", () => logs.search(search.value));

  const render = (current: TaskView) => {
    replace(
      header,
      h("h1", {}, current.name, " ", statusBadge(current.status)),
      h("p", { class: "muted" }, `${current.type} · created ${time(current.created_time)} · finished ${time(current.finished_time)}`),
      current.status_message ? h("p", { class: "message" }, current.status_message) : null,
      current.early_stop?.fired ? h("p", { class: "message" }, current.early_stop.fired.message) : null,
    );
    replace(
      controls,
      CONTROLS.filter((c) => c.when(current.status)).map((c) =>
        h("button", { type: "button", "data-action": c.action, onclick: () => void act(c.action, c.confirm) }, c.label),
      ),
    );
    replace(timeline, current.steps.map((step) => stepItem(step)));
    replace(
      links,
      linkRow("Pipeline", current.f_pipeline_uid, null),
      linkRow("Input dataset", current.f_dataset_uid, `/api/v1/datasets/${current.f_dataset_uid}/file`),
      linkRow("Config", current.f_config_uid, null),
      current.f_base_model_uid ? linkRow("Base model", current.f_base_model_uid, `#/models?model=${current.f_base_model_uid}`) : null,
      current.f_output_model_uid ? linkRow("Output model", current.f_output_model_uid, `#/models?model=${current.f_output_model_uid}`) : null,
      current.f_output_model_uid && current.status === "success"
        ? h("dd", {}, h("a", { href: `/api/v1/models/${current.f_output_model_uid}/file`, download: "" }, "Download the model"))
        : null,
      current.f_output_dataset_uid ? linkRow("Output dataset", current.f_output_dataset_uid, `/api/v1/datasets/${current.f_output_dataset_uid}/file`) : null,
    );
    replace(history, current.history.map((e) => h("li", {}, h("time", {}, time(e.time)), " ", statusBadge(e.status), ` ${e.execute_step}: ${e.message}`)));
    // Every step in order by default: the log goes on from one step to the next as the task runs.
    if (stepChoice.options.length === 0) {
      replace(stepChoice, h("option", { value: "" }, "every step"), ...current.steps.map((s) => h("option", { value: s.name }, s.name)));
      follow();
    }
  };

  const refresh = async () => {
    task = (await rest<TaskView>("GET", `/tasks/${uid}`)).data;
    render(task);
    await drawMetrics();
    if (!ACTIVE_STATUSES.has(task.status) && metricTimer !== undefined) {
      clearInterval(metricTimer);
      metricTimer = undefined;
    }
  };

  const drawMetrics = async () => {
    const points = (await rest<MetricPoint[]>("GET", `/tasks/${uid}/metrics?max_points=500`)).data;
    replace(charts, ...chartsOf([{ label: task?.name ?? uid!, points }]));
    if (!points.length) replace(charts, h("p", { class: "muted" }, "No metrics reported yet."));
  };

  const act = async (action: string, question: string) => {
    if (!confirm(question)) return;
    notice.textContent = "";
    try {
      const answer = await rest<{ uid?: string }>("POST", `/tasks/${uid}/${action}`);
      if (action === "resubmit" && answer.data.uid) location.hash = `#/tasks/${answer.data.uid}`;
      else await refresh();
    } catch (error) {
      notice.textContent = error instanceof ApiError ? error.message : String(error);
    }
  };

  await refresh();
  replace(
    view,
    header,
    controls,
    notice,
    h("section", { "aria-labelledby": "steps-title" }, h("h2", { id: "steps-title" }, "Steps"), timeline),
    h(
      "section",
      { "aria-labelledby": "logs-title" },
      h("h2", { id: "logs-title" }, "Logs"),
      h("div", { class: "toolbar" }, field("Step", stepChoice), field("Show", tail), field("Search", search), download),
      logs.element,
    ),
    h("section", { "aria-labelledby": "metrics-title" }, h("h2", { id: "metrics-title" }, "Metrics"), charts),
    h("section", { "aria-labelledby": "io-title" }, h("h2", { id: "io-title" }, "Inputs and outputs"), links),
    h("section", { "aria-labelledby": "history-title" }, h("h2", { id: "history-title" }, "History"), history),
  );
  if (task && ACTIVE_STATUSES.has(task.status)) metricTimer = window.setInterval(() => void drawMetrics(), 3000);
  const source = stream(`/tasks/${uid}/events`, { status: () => void refresh(), end: () => void refresh().then(() => source.close()) });
  return () => {
    source.close();
    logs.close();
    if (metricTimer !== undefined) clearInterval(metricTimer);
  };
}

/** One chart per metric key, each run a line. */
export function chartsOf(runs: Array<{ label: string; points: MetricPoint[] }>): HTMLElement[] {
  const keys = [...new Set(runs.flatMap((run) => run.points.map((p) => p.key)))].sort(byImportance);
  return keys.map((key) =>
    lineChart(
      key,
      runs
        .map((run): Series => ({ label: run.label, points: run.points.filter((p) => p.key === key) }))
        .filter((series) => series.points.length > 0),
    ),
  );
}

const FIRST = ["loss", "val_loss", "accuracy", "val_accuracy", "eps"];
function byImportance(a: string, b: string): number {
  const rank = (key: string) => (FIRST.includes(key) ? FIRST.indexOf(key) : FIRST.length);
  return rank(a) - rank(b) || a.localeCompare(b);
}

function stepItem(step: Step): HTMLElement {
  const started = step.started_time ? Date.parse(step.started_time) : NaN;
  const finished = step.finished_time ? Date.parse(step.finished_time) : NaN;
  const seconds = Number.isFinite(started) && Number.isFinite(finished) ? Math.max(0, (finished - started) / 1000) : null;
  return h(
    "li",
    { class: `step phase-${step.phase.toLowerCase()}`, "data-step": step.name },
    h("strong", {}, step.name),
    " ",
    h("span", { class: "badge" }, step.phase),
    h(
      "div",
      { class: "muted" },
      `${time(step.started_time)} → ${time(step.finished_time)}`,
      seconds !== null ? ` (${seconds.toFixed(1)} s)` : "",
      step.exit_code !== null ? ` · exit code ${step.exit_code}` : "",
    ),
    step.message ? h("div", { class: "message" }, step.message) : null,
  );
}

function linkRow(label: string, uid: string, href: string | null): HTMLElement[] {
  return [h("dt", {}, label), h("dd", {}, href ? h("a", { href, ...(href.startsWith("/api") ? { download: "" } : {}) }, uid) : h("code", {}, uid))];
}
