/**
 * A step's log, followed live: lines are kept in a bounded buffer (the newest `MAX_LINES`; the
 * download has the whole log) and only the rows in sight are in the DOM, so a log of any size
 * scrolls and searches without the page slowing down.
 */
import { stream } from "./api.js";
import { h } from "./dom.js";

const MAX_LINES = 200_000;
const ROW_HEIGHT = 18;
const OVERSCAN = 20;

export class LogView {
  readonly element: HTMLElement;
  private readonly viewport: HTMLElement;
  private readonly spacer: HTMLElement;
  private readonly rows: HTMLElement;
  private readonly status: HTMLElement;
  private lines: string[] = [];
  private dropped = 0;
  /** Indices of the lines shown (all, or those matching the search). */
  private shown: number[] | null = null;
  private query = "";
  private source: EventSource | undefined;
  private ended: string | undefined;
  private scheduled = false;
  autoscroll = true;

  constructor(label: string) {
    this.spacer = h("div", { class: "log-spacer" });
    this.rows = h("div", { class: "log-rows" });
    this.viewport = h("div", { class: "log-viewport", tabindex: 0, role: "log", "aria-label": label }, this.spacer, this.rows);
    this.status = h("p", { class: "muted", role: "status" });
    this.element = h("div", { class: "log-view" }, this.viewport, this.status);
    this.viewport.addEventListener("scroll", () => {
      const atBottom = this.viewport.scrollTop + this.viewport.clientHeight >= this.viewport.scrollHeight - ROW_HEIGHT;
      this.autoscroll = atBottom;
      this.schedule();
    });
  }

  follow(taskUid: string, step: string, tail: number | undefined): void {
    this.close();
    this.lines = [];
    this.dropped = 0;
    this.shown = this.query ? [] : null;
    this.ended = undefined;
    this.status.textContent = "Following…";
    const query = new URLSearchParams({ follow: "true", step });
    if (tail) query.set("tail", String(tail));
    this.source = stream(`/tasks/${taskUid}/logs?${query}`, {
      log: (data) => this.add((data as { line: string }).line),
      unavailable: (data) => (this.status.textContent = `Not available: ${(data as { reason: string }).reason}`),
      end: (data) => {
        this.ended = (data as { status: string }).status;
        this.close();
        this.schedule();
      },
      // A browser would reconnect and replay the log from its start under the lines already shown: stop instead.
      error: (data) => {
        this.close();
        const reason = (data as { detail?: string } | undefined)?.detail ?? "the connection was lost";
        this.status.replaceChildren(
          `The log stopped after ${this.lines.length + this.dropped} lines: ${reason}. `,
          h("button", { type: "button", onclick: () => this.follow(taskUid, step, tail) }, "Follow again"),
        );
      },
    });
  }

  search(query: string): void {
    this.query = query.toLowerCase();
    this.shown = this.query ? this.lines.flatMap((line, index) => (line.toLowerCase().includes(this.query) ? [index] : [])) : null;
    this.viewport.scrollTop = 0;
    this.schedule();
  }

  close(): void {
    this.source?.close();
    this.source = undefined;
  }

  private add(line: string): void {
    this.lines.push(line);
    if (this.lines.length > MAX_LINES) {
      const excess = this.lines.length - MAX_LINES;
      this.lines.splice(0, excess);
      this.dropped += excess;
      if (this.shown) this.shown = this.shown.flatMap((index) => (index >= excess ? [index - excess] : []));
    }
    if (this.shown && line.toLowerCase().includes(this.query)) this.shown.push(this.lines.length - 1);
    this.schedule();
  }

  /** One render per frame, however fast lines arrive. */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      this.render();
    });
  }

  private render(): void {
    const count = this.shown ? this.shown.length : this.lines.length;
    this.spacer.style.height = `${count * ROW_HEIGHT}px`;
    if (this.autoscroll) this.viewport.scrollTop = this.viewport.scrollHeight;
    const first = Math.max(0, Math.floor(this.viewport.scrollTop / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(count, Math.ceil((this.viewport.scrollTop + this.viewport.clientHeight) / ROW_HEIGHT) + OVERSCAN);
    const rows: HTMLElement[] = [];
    for (let position = first; position < last; position++) {
      const index = this.shown ? this.shown[position]! : position;
      const row = h("div", { class: "log-line" }, this.lines[index] ?? "");
      row.style.top = `${position * ROW_HEIGHT}px`;
      rows.push(row);
    }
    this.rows.replaceChildren(...rows);
    const kept = this.dropped ? ` Showing the newest ${this.lines.length} lines (${this.dropped} earlier ones: use the download).` : "";
    if (this.ended) this.status.textContent = `The task ended: ${this.ended}. ${this.lines.length + this.dropped} lines.${kept}`;
    else if (kept) this.status.textContent = kept.trim();
  }
}
