/** How the client CLI shows answers to people: aligned columns, sizes, a progress bar. */

/** Rows as aligned columns (the first row is the header). */
export function table(rows: unknown[][]): string {
  const cells = rows.map((row) => row.map((cell) => (cell === null || cell === undefined ? "" : String(cell))));
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? "").length)));
  return cells
    .map(
      (row) =>
        `${row
          .map((cell, i) => cell.padEnd(widths[i]!))
          .join("  ")
          .trimEnd()}\n`,
    )
    .join("");
}

function bytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${n} B` : `${value.toFixed(1)} ${units[unit]}`;
}

const BAR_WIDTH = 30;
const REDRAW_MS = 100;

/** A one-line progress bar redrawn in place on a terminal; elsewhere (CI logs) silent until the end. */
export class Progress {
  private received = 0;
  private drawnAt = 0;

  constructor(
    private readonly write: (text: string) => void,
    private readonly terminal: boolean,
    private readonly name: string,
    private readonly total: number | undefined,
  ) {}

  add(count: number): void {
    this.received += count;
    const now = Date.now();
    if (this.terminal && now - this.drawnAt >= REDRAW_MS) {
      this.drawnAt = now;
      this.write(`\r${this.line()}`);
    }
  }

  done(destination: string): void {
    if (this.terminal) this.write(`\r${this.line()}\n`);
    this.write(`saved ${destination} (${bytes(this.received)})\n`);
  }

  /** Clears the bar before an error is printed. */
  abandon(): void {
    if (this.terminal && this.drawnAt > 0) this.write("\n");
  }

  private line(): string {
    if (!this.total) return `${this.name} ${bytes(this.received)}`;
    const share = Math.min(1, this.received / this.total);
    const filled = Math.round(share * BAR_WIDTH);
    return `${this.name} [${"#".repeat(filled)}${".".repeat(BAR_WIDTH - filled)}] ${Math.floor(share * 100)}% ${bytes(this.received)} / ${bytes(this.total)}`;
  }
}
