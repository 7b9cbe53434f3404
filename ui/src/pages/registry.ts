/** Browse projects, applications, pipelines, datasets, configs and build files; upload datasets with progress. */
import { ApiError, rest, session, upload } from "../api.js";
import { field, h, replace, select, statusBadge, time } from "../dom.js";

interface Named {
  uid: string;
  name: string;
  description?: string;
  created_time: string;
}

const DATASET_KEYS = {
  project: { upload: "OFbaCJE62lcPVbZj", parent: "f_project_uid", types: ["original", "training"] },
  application: { upload: "5fk1gVLi8q0mcHf4", parent: "f_application_uid", types: ["original", "optimization"] },
} as const;

export async function registryPage(view: HTMLElement, [level, uid]: string[], query: URLSearchParams): Promise<void> {
  const project = query.get("project") ?? "";
  if (level === "projects") return projectView(view, uid!);
  if (level === "applications") return applicationView(view, uid!, project);
  if (level === "pipelines") return pipelineView(view, uid!, project, query.get("application") ?? "");
  const organization = session.get()!.organizationUid;
  const projects = (await rest<Named[]>("GET", `/organizations/${organization}/projects`)).data;
  const name = h("input", { name: "name", required: true });
  const notice = h("p", { role: "alert", class: "error" });
  replace(
    view,
    h("h1", {}, "Registry"),
    list("Projects", projects, (p) => `#/registry/projects/${p.uid}`),
    h(
      "form",
      {
        class: "card inline",
        onsubmit: async (event: Event) => {
          event.preventDefault();
          try {
            const created = await rest<Named>("POST", "/projects", { name: name.value, description: "" });
            location.hash = `#/registry/projects/${created.data.uid}`;
          } catch (error) {
            notice.textContent = (error as Error).message;
          }
        },
      },
      field("New project", name),
      h("button", { type: "submit" }, "Create"),
      notice,
    ),
  );
}

async function projectView(view: HTMLElement, projectUid: string): Promise<void> {
  const [applications, datasets] = await Promise.all([
    rest<Named[]>("GET", `/projects/${projectUid}/applications`),
    rest<Array<Named & { type: string; status: string }>>("GET", `/projects/${projectUid}/datasets`),
  ]);
  replace(
    view,
    h("h1", {}, "Project"),
    h("p", {}, h("a", { href: "#/registry" }, "← all projects")),
    list("Applications", applications.data, (a) => `#/registry/applications/${a.uid}?project=${projectUid}`),
    datasetSection("project", projectUid, datasets.data),
  );
}

async function applicationView(view: HTMLElement, applicationUid: string, projectUid: string): Promise<void> {
  const [pipelines, datasets] = await Promise.all([
    rest<Array<Named & { type: string }>>("GET", `/applications/${applicationUid}/pipelines`),
    rest<Array<Named & { type: string; status: string }>>("GET", `/applications/${applicationUid}/datasets`),
  ]);
  replace(
    view,
    h("h1", {}, "Application"),
    h("p", {}, h("a", { href: `#/registry/projects/${projectUid}` }, "← project"), " · ", h("a", { href: `#/models/${applicationUid}` }, "its models")),
    h(
      "section",
      { class: "card" },
      h("h2", {}, "Pipelines"),
      pipelines.data.length
        ? h(
            "ul",
            {},
            pipelines.data.map((p) =>
              h(
                "li",
                {},
                h("a", { href: `#/registry/pipelines/${p.uid}?project=${projectUid}&application=${applicationUid}` }, p.name),
                ` (${p.type}) `,
                h("a", { href: `#/run/${projectUid}/${applicationUid}/${p.uid}`, class: "button" }, `Run ${p.name}`),
              ),
            ),
          )
        : h("p", { class: "muted" }, "None yet."),
    ),
    datasetSection("application", applicationUid, datasets.data),
  );
}

async function pipelineView(view: HTMLElement, pipelineUid: string, projectUid: string, applicationUid: string): Promise<void> {
  const [pipeline, configs, buildFiles] = await Promise.all([
    rest<Named & { type: string }>("GET", `/pipelines/${pipelineUid}`),
    rest<Array<Named & { data: unknown }>>("GET", `/pipelines/${pipelineUid}/configs`),
    rest<Array<Named & { sequence: string; image_state: string }>>("GET", `/pipelines/${pipelineUid}/build-files`),
  ]);
  replace(
    view,
    h("h1", {}, `Pipeline ${pipeline.data.name}`),
    h("p", {}, h("a", { href: `#/registry/applications/${applicationUid}?project=${projectUid}` }, "← application"), " · ", h("a", { href: `#/run/${projectUid}/${applicationUid}/${pipelineUid}`, class: "button" }, "Run it")),
    h(
      "section",
      { class: "card" },
      h("h2", {}, "Configs"),
      h("ul", {}, configs.data.map((c) => h("li", {}, h("strong", {}, c.name), " ", h("code", {}, JSON.stringify(c.data))))),
    ),
    h(
      "section",
      { class: "card" },
      h("h2", {}, "Build files"),
      h("ul", {}, buildFiles.data.map((b) => h("li", {}, `${b.sequence}: ${b.name} `, statusBadge(b.image_state)))),
    ),
  );
}

function list<T extends Named>(title: string, items: T[], href: (item: T) => string): HTMLElement {
  return h(
    "section",
    { class: "card" },
    h("h2", {}, title),
    items.length
      ? h("ul", {}, items.map((item) => h("li", {}, h("a", { href: href(item) }, item.name), h("span", { class: "muted" }, ` · ${time(item.created_time)}`))))
      : h("p", { class: "muted" }, "None yet."),
  );
}

type Dataset = Named & { type: string; status: string };

/** A scope's datasets and an upload form with a progress bar; the list is read again after an upload. */
function datasetSection(scope: "project" | "application", parentUid: string, datasets: Dataset[]): HTMLElement {
  const keys = DATASET_KEYS[scope];
  const listing = h("div");
  const show = (items: Dataset[]) =>
    replace(
      listing,
      items.length
        ? h(
            "ul",
            {},
            items.map((d) => h("li", {}, h("a", { href: `/api/v1/datasets/${d.uid}/file`, download: "" }, d.name), ` (${d.type}) `, statusBadge(d.status))),
          )
        : h("p", { class: "muted" }, "None yet."),
    );
  show(datasets);
  const name = h("input", { name: "name", required: true });
  const type = select("type", keys.types.map((t): [string, string] => [t, t]), keys.types[1]);
  const file = h("input", { type: "file", name: "file", required: true });
  const progress = h("progress", { max: 1, value: 0, "aria-label": "upload progress" });
  const message = h("p", { role: "status" });
  const form = h(
    "form",
    {
      class: "upload",
      onsubmit: async (event: Event) => {
        event.preventDefault();
        const chosen = file.files?.[0];
        if (!chosen) return;
        const body = new FormData();
        body.set("name", name.value);
        body.set("type", type.value);
        body.set(keys.parent, parentUid);
        body.set("extension", chosen.name.includes(".") ? chosen.name.split(".").pop()! : "null");
        body.set("file", chosen);
        message.textContent = "Uploading…";
        try {
          await upload(keys.upload, body, (fraction) => (progress.value = fraction));
          message.textContent = `Uploaded ${chosen.name}.`;
          show((await rest<Dataset[]>("GET", `/${scope}s/${parentUid}/datasets`)).data);
        } catch (error) {
          message.textContent = `Upload failed: ${error instanceof ApiError ? error.message : String(error)}`;
        }
      },
    },
    field("Name", name),
    field("Type", type),
    field("File", file),
    h("button", { type: "submit" }, "Upload"),
    progress,
    message,
  );
  return h(
    "section",
    { class: "card" },
    h("h2", {}, `${scope === "project" ? "Project" : "Application"} datasets`),
    listing,
    form,
  );
}
