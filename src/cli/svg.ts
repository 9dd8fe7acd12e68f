/**
 * Small SVG charts for the command-line tools: curves on linear or
 * logarithmic axes, with a legend. No dependencies.
 *
 * @module
 */

/** One named line of points. */
export interface Series {
  /** Legend text. */
  name: string;
  /** x values. */
  x: ArrayLike<number>;
  /** y values. */
  y: ArrayLike<number>;
  /** Draw points instead of a line. */
  points?: boolean;
}

const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Options of {@linkcode lineChart}. */
export interface ChartOptions {
  /** Title above the chart. */
  title: string;
  /** Label of the x axis. */
  xLabel: string;
  /** Label of the y axis. */
  yLabel: string;
  /**
   * Plot y on a log axis, with ticks at whole decades or at 1, 2 and 5 times
   * a power of ten, labelled `1e-3`, `2e-4`; non-positive values are dropped.
   */
  logY?: boolean;
  /**
   * A fixed y axis (in plotted units): lines leaving it are cut at its edges,
   * so that one runaway series does not flatten the others. Default: the
   * range of the data.
   */
  yRange?: [number, number];
  /** Width in pixels (default 640). */
  width?: number;
  /** Height in pixels (default 400). */
  height?: number;
}

/** Ticks of a log axis fewer than this many are too few; more than twice this many, too many. */
const LOG_TICKS = 4;

/**
 * Tick positions (log10 of the values) of a log axis spanning `lo` to `hi`
 * (log10 units): whole decades (every 1, 2, 5, 10... decades) when at least
 * two fit, else the values 1, 2 and 5 times a power of ten, else every digit
 * times a power of ten, else the two ends.
 *
 * @example
 * ```ts
 * import { logTicks } from "./svg.ts";
 * console.log(logTicks(-4, -1)); // [-4, -3, -2, -1]: 1e-4 ... 1e-1
 * ```
 */
export function logTicks(lo: number, hi: number): number[] {
  const eps = 1e-9 * Math.max(1, Math.abs(lo), Math.abs(hi));
  if (!(hi - lo > eps)) return [lo];
  const step = [1, 2, 5, 10, 20, 50, 100, 200, 500].find((s) => (hi - lo) / s <= 2 * LOG_TICKS) ?? 1000;
  const decades: number[] = [];
  for (let t = Math.ceil((lo - eps) / step) * step; t <= hi + eps; t += step) decades.push(t);
  if (decades.length >= 2) return decades;
  for (const mantissas of [[1, 2, 5], [1, 2, 3, 4, 5, 6, 7, 8, 9]]) {
    const ticks: number[] = [];
    for (let e = Math.floor(lo) - 1; e <= Math.ceil(hi); e++) {
      for (const m of mantissas) {
        const t = e + Math.log10(m);
        if (t >= lo - eps && t <= hi + eps) ticks.push(t);
      }
    }
    if (ticks.length >= 2) return ticks;
  }
  return [lo, hi];
}

/**
 * The label of the value `10^t`: `1e-3`, `2e-4`, `3.5e-4` (at most `digits`
 * significant digits, default 2).
 *
 * @example
 * ```ts
 * import { logLabel } from "./svg.ts";
 * console.log(logLabel(Math.log10(2e-4))); // "2e-4"
 * ```
 */
export function logLabel(t: number, digits = 2): string {
  let e = Math.floor(t + 1e-9);
  let m = Number((10 ** (t - e)).toPrecision(digits));
  if (m >= 10) {
    m /= 10;
    e += 1;
  }
  return `${m}e${e}`;
}

/** Clip paths need ids unique within a document that may hold several charts. */
let chartCount = 0;

/** An SVG chart of `series`; see {@linkcode ChartOptions}. */
export function lineChart(series: readonly Series[], options: ChartOptions): string {
  const width = options.width ?? 640;
  const height = options.height ?? 400;
  const pad = { left: 64, right: 16, top: 32, bottom: 44 };
  const ty = (v: number) => options.logY ? Math.log10(v) : v;
  const usable = series.map((s) => {
    const pts: [number, number][] = [];
    for (let i = 0; i < s.x.length; i++) {
      const y = ty(s.y[i]);
      if (Number.isFinite(y) && Number.isFinite(s.x[i])) pts.push([s.x[i], y]);
    }
    return pts;
  });
  const all = usable.flat();
  const [x0, x1] = all.length
    ? [Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0]))]
    : [0, 1];
  const [y0, y1] = options.yRange ??
    (all.length ? [Math.min(...all.map((p) => p[1])), Math.max(...all.map((p) => p[1]))] : [0, 1]);
  const clipId = `plot-area-${++chartCount}`;
  const sx = (v: number) => pad.left + (v - x0) / (x1 - x0 || 1) * (width - pad.left - pad.right);
  const sy = (v: number) => height - pad.bottom - (v - y0) / (y1 - y0 || 1) * (height - pad.top - pad.bottom);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<clipPath id="${clipId}"><rect x="${pad.left}" y="${pad.top}" width="${
      width - pad.left - pad.right
    }" height="${height - pad.top - pad.bottom}"/></clipPath>`,
    `<text x="${width / 2}" y="18" text-anchor="middle" font-size="14">${escape(options.title)}</text>`,
    `<line x1="${pad.left}" y1="${height - pad.bottom}" x2="${width - pad.right}" y2="${
      height - pad.bottom
    }" stroke="black"/>`,
    `<line x1="${pad.left}" y1="${pad.top}" x2="${pad.left}" y2="${height - pad.bottom}" stroke="black"/>`,
    `<text x="${width / 2}" y="${height - 8}" text-anchor="middle">${escape(options.xLabel)}</text>`,
    `<text x="14" y="${height / 2}" text-anchor="middle" transform="rotate(-90 14 ${height / 2})">${
      escape(options.yLabel)
    }</text>`,
  ];
  for (let k = 0; k <= 4; k++) {
    const xv = x0 + (x1 - x0) * k / 4;
    parts.push(
      `<text x="${sx(xv)}" y="${height - pad.bottom + 16}" text-anchor="middle">${
        Number(xv.toPrecision(3))
      }</text>`,
    );
  }
  const yTicks = options.logY
    ? logTicks(y0, y1).map((t, _, all) => [t, logLabel(t, all.length > 2 ? 2 : 3)] as const)
    : [0, 1, 2, 3, 4].map((k) => y0 + (y1 - y0) * k / 4).map((v) =>
      [v, Number(v.toPrecision(3)).toString()] as const
    );
  for (const [yv, label] of yTicks) {
    parts.push(`<text x="${pad.left - 6}" y="${sy(yv) + 4}" text-anchor="end">${label}</text>`);
  }
  // The legend sits top right, as wide as its longest name (about 7 px per character at 12 px).
  const legendX = width - pad.right - 20 - 7 * Math.max(0, ...series.map((s) => s.name.length));
  // The data are drawn inside the plot area only (what leaves a fixed yRange is cut at its edges).
  parts.push(`<g clip-path="url(#${clipId})">`);
  usable.forEach((pts, i) => {
    const color = COLORS[i % COLORS.length];
    if (series[i].points) {
      for (const [x, y] of pts) parts.push(`<circle cx="${sx(x)}" cy="${sy(y)}" r="2" fill="${color}"/>`);
    } else if (pts.length) {
      const d = pts.map(([x, y], k) => `${k ? "L" : "M"}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join("");
      parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.5"/>`);
    }
  });
  parts.push("</g>");
  series.forEach((s, i) => {
    parts.push(
      `<rect x="${legendX}" y="${pad.top + 4 + 16 * i}" width="10" height="10" fill="${
        COLORS[i % COLORS.length]
      }"/>`,
      `<text x="${legendX + 16}" y="${pad.top + 13 + 16 * i}">${escape(s.name)}</text>`,
    );
  });
  parts.push("</svg>");
  return parts.join("\n");
}
