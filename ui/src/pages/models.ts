/** An application's models by lineage, with aliases, bookmark and selection, and one model's lineage (dataset → task → model). */
import { ApiError, rest, session } from "../api.js";
import { h, replace, statusBadge } from "../dom.js";

interface Model {
  uid: string;
  name: string;
  version: number | null;
  status: string;
  accuracy: number | null;
  source: string | null;
  f_application_uid: string;
  created_time: string;
}

interface Lineage {
  model: Model & { bookmarked: boolean };
  aliases: string[];
  produced_by: {
    task: { uid: string; name: string; type: string; status: string };
    dataset: { uid: string; name: string; type: string } | null;
    config: { uid: string; name: string } | null;
    pipeline: { uid: string; name: string; type: string } | null;
  } | null;
  base_model: Model | null;
  used_by: Array<{ uid: string; name: string; type: string; status: string }>;
}

export async function modelsPage(view: HTMLElement, [applicationUid]: string[], query: URLSearchParams): Promise<void> {
  const focus = query.get("model");
  if (!applicationUid && focus) {
    const lineage = (await rest<Lineage>("GET", `/models/${focus}/lineage`)).data;
    location.replace(`#/models/${lineage.model.f_application_uid}?model=${focus}`);
    return;
  }
  if (!applicationUid) return pickApplication(view);

  const notice = h("p", { role: "alert", class: "error" });
  const body = h("div");
  const draw = async () => {
    const models = (await rest<Model[]>("GET", `/applications/${applicationUid}/models`)).data;
    const lineages = await Promise.all(models.map(async (m) => (await rest<Lineage>("GET", `/models/${m.uid}/lineage`)).data));
    const groups = new Map<string, Lineage[]>();
    for (const lineage of lineages) {
      const root = lineage.model.source ?? lineage.model.uid;
      groups.set(root, [...(groups.get(root) ?? []), lineage]);
    }
    const chosen = lineages.find((l) => l.model.uid === focus);
    replace(
      body,
      models.length === 0 ? h("p", {}, "No models in this application yet.") : null,
      [...groups.values()].map((group) => lineageTable(group, act)),
      chosen ? lineageGraph(chosen) : null,
    );
  };
  const act = async (work: () => Promise<unknown>) => {
    notice.textContent = "";
    try {
      await work();
      await draw();
    } catch (error) {
      notice.textContent = error instanceof ApiError ? error.message : String(error);
    }
  };
  await draw();
  replace(view, h("h1", {}, "Models"), notice, body);
}

type Act = (work: () => Promise<unknown>) => Promise<void>;

function lineageTable(group: Lineage[], act: Act): HTMLElement {
  const sorted = [...group].sort((a, b) => (a.model.version ?? 0) - (b.model.version ?? 0));
  return h(
    "section",
    { class: "card" },
    h("h2", {}, `Lineage of ${sorted[0]!.model.name}`),
    h(
      "div",
      { class: "scroll-x" },
      h(
        "table",
        {},
        h("thead", {}, h("tr", {}, ...["Version", "Name", "Status", "Accuracy", "Aliases", "Actions"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, sorted.map((lineage) => modelRow(lineage, act))),
      ),
    ),
  );
}

function modelRow({ model, aliases }: Lineage, act: Act): HTMLElement {
  const alias = h("input", { name: "alias", placeholder: "champion", "aria-label": `alias for version ${model.version ?? "?"}`, size: 10 });
  const selected = aliases.includes("selected");
  return h(
    "tr",
    { "data-model": model.uid },
    h("td", {}, `v${model.version ?? "?"}`),
    h("td", {}, h("a", { href: `#/models/${model.f_application_uid}?model=${model.uid}` }, model.name)),
    h("td", {}, statusBadge(model.status)),
    h("td", {}, model.accuracy === null ? "–" : String(model.accuracy)),
    h("td", { class: "aliases" }, aliases.map((a) => h("span", { class: a === "selected" ? "badge selected" : "badge" }, a)), model.bookmarked ? h("span", { class: "badge" }, "★ bookmarked") : null),
    h(
      "td",
      { class: "actions" },
      h(
        "form",
        {
          class: "inline",
          onsubmit: (event: Event) => {
            event.preventDefault();
            void act(() => rest("POST", `/models/${model.uid}/aliases`, { alias: alias.value }));
          },
        },
        alias,
        h("button", { type: "submit" }, "Set alias"),
      ),
      h("button", { type: "button", disabled: selected, onclick: () => void act(() => rest("POST", `/models/${model.uid}/select`)) }, selected ? "Selected" : "Select"),
      h(
        "button",
        { type: "button", "aria-pressed": model.bookmarked ? "true" : "false", onclick: () => void act(() => rest("POST", `/models/${model.uid}/bookmark`, { bookmarked: !model.bookmarked })) },
        model.bookmarked ? "Unbookmark" : "Bookmark",
      ),
      h("a", { href: `/api/v1/models/${model.uid}/file`, download: "", class: "button" }, "Download"),
    ),
  );
}

/** dataset → task → model, the base model it started from, and the tasks that started from it. */
function lineageGraph(lineage: Lineage): HTMLElement {
  const node = (kind: string, label: string, href?: string) =>
    h("li", { class: `node node-${kind}` }, h("small", {}, kind), href ? h("a", { href }, label) : h("span", {}, label));
  const produced = lineage.produced_by;
  return h(
    "section",
    { class: "card", "aria-labelledby": "lineage-title" },
    h("h2", { id: "lineage-title" }, `Lineage of v${lineage.model.version ?? "?"}`),
    h(
      "ol",
      { class: "graph", "aria-label": "dataset, task, model" },
      lineage.base_model ? node("base model", `${lineage.base_model.name} v${lineage.base_model.version ?? "?"}`, `#/models/${lineage.base_model.f_application_uid}?model=${lineage.base_model.uid}`) : null,
      produced?.dataset ? node("dataset", produced.dataset.name, `/api/v1/datasets/${produced.dataset.uid}/file`) : null,
      produced ? node("task", `${produced.task.name} (${produced.task.status})`, `#/tasks/${produced.task.uid}`) : null,
      node("model", `${lineage.model.name} v${lineage.model.version ?? "?"}`),
    ),
    produced?.pipeline ? h("p", { class: "muted" }, `pipeline ${produced.pipeline.name}, config ${produced.config?.name ?? "–"}`) : null,
    lineage.used_by.length
      ? h("p", {}, "Used by: ", lineage.used_by.map((t) => h("a", { href: `#/tasks/${t.uid}`, class: "chip" }, `${t.name} (${t.status})`)))
      : null,
  );
}

async function pickApplication(view: HTMLElement): Promise<void> {
  const projects = (await rest<Array<{ uid: string; name: string }>>("GET", `/organizations/${session.get()!.organizationUid}/projects`)).data;
  const sections = await Promise.all(
    projects.map(async (project) => {
      const applications = (await rest<Array<{ uid: string; name: string }>>("GET", `/projects/${project.uid}/applications`)).data;
      return h(
        "li",
        {},
        project.name,
        h("ul", {}, applications.map((a) => h("li", {}, h("a", { href: `#/models/${a.uid}` }, a.name)))),
      );
    }),
  );
  replace(view, h("h1", {}, "Models"), h("p", {}, "Choose an application:"), projects.length ? h("ul", {}, sections) : h("p", {}, "No projects yet."));
}
