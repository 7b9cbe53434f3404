/** Line charts in SVG: one metric, one line per run; with a text summary for screen readers. */
import { h, svg } from "./dom.js";

export interface Series {
  label: string;
  points: Array<{ step: number; value: number }>;
}

const WIDTH = 560;
const HEIGHT = 220;
const PAD = { left: 56, right: 12, top: 12, bottom: 28 };
/** Distinguishable for common colour blindness; the legend names each line too. */
const COLOURS = ["#1f77b4", "#d95f02", "#1b9e77", "#7570b3", "#e7298a", "#66a61e"];

export function lineChart(title: string, series: Series[]): HTMLElement {
  const all = series.flatMap((s) => s.points);
  const steps = all.map((p) => p.step);
  const values = all.map((p) => p.value);
  const [minX, maxX] = [Math.min(...steps), Math.max(...steps)];
  let [minY, maxY] = [Math.min(...values), Math.max(...values)];
  if (minY === maxY) [minY, maxY] = [minY - 1, maxY + 1];
  const x = (step: number) => PAD.left + ((step - minX) / Math.max(1, maxX - minX)) * (WIDTH - PAD.left - PAD.right);
  const y = (value: number) => HEIGHT - PAD.bottom - ((value - minY) / (maxY - minY)) * (HEIGHT - PAD.top - PAD.bottom);
  const label = (text: string, attributes: Record<string, string | number>) => {
    const node = svg("text", { "font-size": 11, fill: "currentColor", ...attributes });
    node.textContent = text;
    return node;
  };
  const lines = series.map((s, index) =>
    svg("polyline", {
      points: s.points.map((p) => `${x(p.step).toFixed(1)},${y(p.value).toFixed(1)}`).join(" "),
      fill: "none",
      stroke: COLOURS[index % COLOURS.length]!,
      "stroke-width": 2,
      "data-series": s.label,
    }),
  );
  const chart = svg(
    "svg",
    { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img", "aria-label": summary(title, series), class: "chart" },
    svg("line", { x1: PAD.left, y1: HEIGHT - PAD.bottom, x2: WIDTH - PAD.right, y2: HEIGHT - PAD.bottom, stroke: "currentColor", "stroke-opacity": 0.4 }),
    svg("line", { x1: PAD.left, y1: PAD.top, x2: PAD.left, y2: HEIGHT - PAD.bottom, stroke: "currentColor", "stroke-opacity": 0.4 }),
    label(format(maxY), { x: 4, y: PAD.top + 8 }),
    label(format(minY), { x: 4, y: HEIGHT - PAD.bottom }),
    label(`step ${minX}`, { x: PAD.left, y: HEIGHT - 8 }),
    label(`step ${maxX}`, { x: WIDTH - PAD.right - 60, y: HEIGHT - 8 }),
    ...lines,
  );
  return h(
    "figure",
    { class: "chart-figure", "data-metric": title },
    h("figcaption", {}, title),
    chart,
    series.length > 1
      ? h(
          "ul",
          { class: "legend" },
          series.map((s, index) => h("li", {}, swatch(COLOURS[index % COLOURS.length]!), s.label)),
        )
      : null,
  );
}

/** Set through the CSSOM: the page's Content-Security-Policy refuses style attributes. */
function swatch(colour: string): HTMLElement {
  const element = h("span", { class: "swatch", "aria-hidden": "true" });
  element.style.background = colour;
  return element;
}

function summary(title: string, series: Series[]): string {
  return `${title}: ${series
    .map((s) => {
      const last = s.points.at(-1);
      return `${s.label} ${s.points.length} points${last ? `, last ${format(last.value)} at step ${last.step}` : ""}`;
    })
    .join("; ")}`;
}

function format(value: number): string {
  return Math.abs(value) >= 1000 || (Math.abs(value) < 0.01 && value !== 0) ? value.toExponential(2) : String(Math.round(value * 1000) / 1000);
}
