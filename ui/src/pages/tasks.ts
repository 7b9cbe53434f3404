/** The organization's tasks, newest first, filtered by status and kind, updated live from the status stream. */
import { rest, session, stream } from "../api.js";
import { field, h, replace, select, statusBadge, time } from "../dom.js";
import type { Cleanup } from "../main.js";

export interface TaskInfo {
  uid: string;
  name: string;
  type: string;
  status: string;
  execute_step: string;
  status_message: string;
  created_time: string;
  finished_time: string | null;
}

const STATUSES = ["init", "pending", "running", "success", "fail", "init error"];
const KINDS = ["preprocessing", "training", "optimization", "evaluation"];

export async function tasksPage(view: HTMLElement, _params: string[], query: URLSearchParams): Promise<Cleanup> {
  const status = select("status", [["", "any status"], ...STATUSES.map((s): [string, string] => [s, s])], query.get("status") ?? "");
  const kind = select("kind", [["", "any kind"], ...KINDS.map((k): [string, string] => [k, k])], query.get("kind") ?? "");
  const filter = () => {
    const next = new URLSearchParams();
    if (status.value) next.set("status", status.value);
    if (kind.value) next.set("kind", kind.value);
    location.hash = `#/tasks?${next}`;
  };
  status.addEventListener("change", filter);
  kind.addEventListener("change", filter);
  const rows = h("tbody");
  const compare = h("button", { type: "button", disabled: true }, "Compare selected");
  const chosen = new Set<string>();
  compare.addEventListener("click", () => (location.hash = `#/compare?tasks=${[...chosen].join(",")}`));
  const live = h("p", { class: "muted", role: "status" }, "Connecting to live updates…");

  const search = new URLSearchParams({ limit: "50" });
  if (status.value) search.set("status", status.value);
  if (kind.value) search.set("type", kind.value);
  const tasks = (await rest<TaskInfo[]>("GET", `/tasks?${search}`)).data;
  const byUid = new Map<string, HTMLTableRowElement>();
  const row = (task: TaskInfo) => {
    const box = h("input", {
      type: "checkbox",
      "aria-label": `compare ${task.name}`,
      onchange: (event: Event) => {
        if ((event.target as HTMLInputElement).checked) chosen.add(task.uid);
        else chosen.delete(task.uid);
        compare.disabled = chosen.size < 2;
      },
    });
    const tr = h(
      "tr",
      { "data-uid": task.uid },
      h("td", {}, box),
      h("td", {}, h("a", { href: `#/tasks/${task.uid}` }, task.name)),
      h("td", {}, task.type),
      h("td", { class: "status" }, statusBadge(task.status)),
      h("td", { class: "step" }, task.execute_step),
      h("td", {}, time(task.created_time)),
    );
    byUid.set(task.uid, tr);
    return tr;
  };
  rows.append(...tasks.map(row));

  replace(
    view,
    h("h1", {}, "Tasks"),
    h("div", { class: "toolbar" }, field("Status", status), field("Kind", kind), compare, h("a", { href: "#/registry", class: "button" }, "Run a task…")),
    live,
    tasks.length
      ? h(
          "div",
          { class: "scroll-x" },
          h(
            "table",
            {},
            h("caption", { class: "visually-hidden" }, "Tasks, newest first"),
            h("thead", {}, h("tr", {}, ...["", "Name", "Kind", "Status", "Step", "Created"].map((c) => h("th", { scope: "col" }, c)))),
            rows,
          ),
        )
      : h("p", {}, "No tasks yet. Open the registry to run one."),
  );

  // Live: every status change of the organization; a task new to this list is fetched and put first.
  const source = stream(`/organizations/${session.get()!.organizationUid}/task-events`, {
    status: async (data) => {
      const event = data as { task_uid: string; status: string; execute_step: string; type: string };
      const existing = byUid.get(event.task_uid);
      if (existing) {
        replace(existing.querySelector("td.status")!, statusBadge(event.status));
        existing.querySelector("td.step")!.textContent = event.execute_step;
        return;
      }
      if ((status.value && status.value !== event.status) || (kind.value && kind.value !== event.type)) return;
      const task = (await rest<TaskInfo>("GET", `/tasks/${event.task_uid}`)).data;
      if (!byUid.has(task.uid)) rows.prepend(row(task));
    },
  });
  source.addEventListener("open", () => (live.textContent = "Live: changes appear as they happen."));
  source.addEventListener("error", () => (live.textContent = "Live updates interrupted; reconnecting…"));
  return () => source.close();
}
