/** Two or more runs' curves overlaid, one chart per metric. */
import { rest } from "../api.js";
import { h, replace } from "../dom.js";
import { chartsOf, type MetricPoint } from "./task.js";
import type { TaskInfo } from "./tasks.js";

export async function comparePage(view: HTMLElement, _params: string[], query: URLSearchParams): Promise<void> {
  const uids = (query.get("tasks") ?? "").split(",").filter((uid) => /^[0-9a-f-]{36}$/.test(uid));
  if (uids.length < 2) {
    replace(view, h("h1", {}, "Compare runs"), h("p", {}, "Choose two or more tasks in the task list."));
    return;
  }
  const runs = await Promise.all(
    uids.map(async (uid) => {
      const [task, points] = await Promise.all([
        rest<TaskInfo>("GET", `/tasks/${uid}`),
        rest<MetricPoint[]>("GET", `/tasks/${uid}/metrics?max_points=500`),
      ]);
      return { label: task.data.name === "" ? uid : `${task.data.name} (${uid.slice(0, 8)})`, points: points.data };
    }),
  );
  const charts = chartsOf(runs);
  replace(
    view,
    h("h1", {}, "Compare runs"),
    h("ul", {}, runs.map((run, index) => h("li", {}, h("a", { href: `#/tasks/${uids[index]}` }, run.label)))),
    charts.length ? h("div", { class: "charts" }, charts) : h("p", {}, "These runs reported no metrics."),
  );
}
