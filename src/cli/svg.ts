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
  /** Plot log10(y); non-positive values are dropped. */
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
    const yv = y0 + (y1 - y0) * k / 4;
    const label = options.logY ? `1e${yv.toFixed(1)}` : Number(yv.toPrecision(3)).toString();
    parts.push(
      `<text x="${sx(xv)}" y="${height - pad.bottom + 16}" text-anchor="middle">${
        Number(xv.toPrecision(3))
      }</text>`,
      `<text x="${pad.left - 6}" y="${sy(yv) + 4}" text-anchor="end">${label}</text>`,
    );
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
