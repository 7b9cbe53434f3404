/**
 * A task's log, followed live: every step in order (each under a heading row) or one step. Lines
 * are kept in a bounded buffer (the newest `MAX_LINES`; the download has the whole log) and only
 * the rows in sight are in the DOM, so a log of any size scrolls and searches without the page
 * slowing down.
 */
import { stream } from "./api.js";
import { ACTIVE_STATUSES, h } from "./dom.js";

const MAX_LINES = 200_000;
const ROW_HEIGHT = 18;
const OVERSCAN = 20;

/** A log line, or the heading that starts a step's lines when every step is followed. */
type Row = string | { step: string };

export class LogView {
  readonly element: HTMLElement;
  private readonly viewport: HTMLElement;
  private readonly spacer: HTMLElement;
  private readonly rows: HTMLElement;
  private readonly status: HTMLElement;
  private lines: Row[] = [];
  /** Log lines received and, of those, dropped from the front of the buffer (headings not counted). */
  private received = 0;
  private dropped = 0;
  /** The step of the last line received, when following every step. */
  private lastStep: string | undefined;
  /** Indices of the lines shown (all, or those matching the search). */
  private shown: number[] | null = null;
  private query = "";
  private source: EventSource | undefined;
  /** What the status line says once the stream has ended. */
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

  /** Follows one step, or every step in order when `step` is undefined (`tail` lines of each). */
  follow(taskUid: string, step: string | undefined, tail: number | undefined): void {
    this.close();
    this.lines = [];
    this.received = 0;
    this.dropped = 0;
    this.lastStep = undefined;
    this.shown = this.query ? [] : null;
    this.ended = undefined;
    this.status.textContent = "Following…";
    const query = new URLSearchParams({ follow: "true" });
    if (step) query.set("step", step);
    if (tail) query.set("tail", String(tail));
    this.source = stream(`/tasks/${taskUid}/logs?${query}`, {
      log: (data) => {
        const event = data as { step: string; line: string };
        if (!step && event.step !== this.lastStep) this.add({ step: event.step });
        this.lastStep = event.step;
        this.received += 1;
        this.add(event.line);
      },
      unavailable: (data) => {
        const event = data as { step: string; reason: string };
        if (step) this.status.textContent = `Not available: ${event.reason}`;
        else this.add({ step: `${event.step}: no log (${event.reason})` });
      },
      // Following one step ends with that step, while the task may still run.
      end: (data) => {
        const { status } = data as { status: string };
        this.ended = step && ACTIVE_STATUSES.has(status) ? `The step ${step} ended; the task is ${status}.` : `The task ended: ${status}.`;
        this.close();
        this.schedule();
      },
      // A browser would reconnect and replay the log from its start under the lines already shown: stop instead.
      error: (data) => {
        this.close();
        const reason = (data as { detail?: string } | undefined)?.detail ?? "the connection was lost";
        this.status.replaceChildren(
          `The log stopped after ${this.received} lines: ${reason}. `,
          h("button", { type: "button", onclick: () => this.follow(taskUid, step, tail) }, "Follow again"),
        );
      },
    });
  }

  search(query: string): void {
    this.query = query.toLowerCase();
    this.shown = this.query ? this.lines.flatMap((row, index) => (this.matches(row) ? [index] : [])) : null;
    this.viewport.scrollTop = 0;
    this.schedule();
  }

  close(): void {
    this.source?.close();
    this.source = undefined;
  }

  private add(row: Row): void {
    this.lines.push(row);
    if (this.lines.length > MAX_LINES) {
      const excess = this.lines.length - MAX_LINES;
      this.dropped += this.lines.splice(0, excess).filter((gone) => typeof gone === "string").length;
      if (this.shown) this.shown = this.shown.flatMap((index) => (index >= excess ? [index - excess] : []));
    }
    if (this.shown && this.matches(row)) this.shown.push(this.lines.length - 1);
    this.schedule();
  }

  /** Search finds lines; headings stay out of the results. */
  private matches(row: Row): boolean {
    return typeof row === "string" && row.toLowerCase().includes(this.query);
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
      const line = this.lines[this.shown ? this.shown[position]! : position] ?? "";
      const row = typeof line === "string" ? h("div", { class: "log-line" }, line) : h("div", { class: "log-step" }, line.step);
      row.style.top = `${position * ROW_HEIGHT}px`;
      rows.push(row);
    }
    this.rows.replaceChildren(...rows);
    const kept = this.dropped ? ` Showing the newest ${this.received - this.dropped} lines (${this.dropped} earlier ones: use the download).` : "";
    if (this.ended) this.status.textContent = `${this.ended} ${this.received} lines.${kept}`;
    else if (kept) this.status.textContent = kept.trim();
  }
}
