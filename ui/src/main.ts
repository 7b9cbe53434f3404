/** The dashboard: a hash-routed page per view; each page's streams close when it is left. */
import { discover, session, signOut } from "./api.js";
import { h, replace } from "./dom.js";
import { comparePage } from "./pages/compare.js";
import { modelsPage } from "./pages/models.js";
import { registryPage } from "./pages/registry.js";
import { runPage } from "./pages/run.js";
import { signInPage } from "./pages/sign-in.js";
import { taskPage } from "./pages/task.js";
import { tasksPage } from "./pages/tasks.js";

export type Cleanup = () => void;
export type Page = (view: HTMLElement, params: string[], query: URLSearchParams) => Promise<Cleanup | void>;

const ROUTES: Array<[RegExp, Page, string]> = [
  [/^\/sign-in$/, signInPage, "Sign in"],
  [/^\/tasks$/, tasksPage, "Tasks"],
  [/^\/tasks\/([0-9a-f-]{36})$/, taskPage, "Task"],
  [/^\/compare$/, comparePage, "Compare runs"],
  [/^\/models(?:\/([0-9a-f-]{36}))?$/, modelsPage, "Models"],
  [/^\/registry(?:\/(projects|applications|pipelines)\/([0-9a-f-]{36}))?$/, registryPage, "Registry"],
  [/^\/run\/([0-9a-f-]{36})\/([0-9a-f-]{36})\/([0-9a-f-]{36})$/, runPage, "Run a task"],
];

let cleanup: Cleanup | void;

async function route(): Promise<void> {
  cleanup?.();
  cleanup = undefined;
  const [path = "/tasks", search = ""] = location.hash.replace(/^#/, "").split("?");
  const view = document.getElementById("view")!;
  const signedIn = session.get();
  if (!signedIn && path !== "/sign-in") {
    location.hash = "#/sign-in";
    return;
  }
  renderNav(signedIn?.accountName);
  const match = ROUTES.map(([pattern, page, title]) => ({ found: pattern.exec(path), page, title })).find((r) => r.found);
  if (!match) {
    location.hash = "#/tasks";
    return;
  }
  document.title = `${match.title} · argo-entrypoint`;
  replace(view, h("p", { class: "muted" }, "Loading…"));
  try {
    cleanup = await match.page(view, match.found!.slice(1).filter((p): p is string => p !== undefined), new URLSearchParams(search));
  } catch (error) {
    replace(view, h("p", { class: "error", role: "alert" }, (error as Error).message));
  }
  view.focus({ preventScroll: true });
}

function renderNav(accountName: string | undefined): void {
  const nav = document.getElementById("nav")!;
  if (!accountName) return replace(nav);
  const current = location.hash.split("/")[1] ?? "tasks";
  const link = (hash: string, label: string) =>
    h("a", { href: `#/${hash}`, "aria-current": current === hash ? "page" : undefined }, label);
  replace(
    nav,
    link("tasks", "Tasks"),
    link("models", "Models"),
    link("registry", "Registry"),
    h("span", { class: "spacer" }),
    h("span", { class: "muted" }, accountName),
    h(
      "button",
      {
        type: "button",
        class: "link",
        onclick: async () => {
          await signOut();
          location.hash = "#/sign-in";
        },
      },
      "Sign out",
    ),
  );
}

await discover();
window.addEventListener("hashchange", () => void route());
void route();
