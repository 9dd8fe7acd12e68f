/**
 * The network diagram of pykan's `plot`, as one standalone SVG: inputs at the
 * bottom, outputs at the top, nodes as dots, and each edge a wire from its
 * input node through a small box showing its learned function to its output
 * node, drawn with opacity `tanh(beta * score)`. Masked and pruned edges are
 * faint; symbolic edges are red and labelled with their symbol.
 *
 * @module
 */

import { KanError } from "../errors.ts";
import { checkOptions, describe, FINITE, option, POSITIVE } from "../validate.ts";
import type { LayerCurves } from "./edge_curves.ts";
import type { NetworkScores } from "./prune.ts";
import { edgeLayers, layerWidths } from "./prune_model.ts";

/** Options of {@linkcode plotNetwork}. */
export interface NetworkPlotOptions {
  /** Per layer, per edge (index `o * in + i`), the edge's symbol, or null where it has none. */
  symbols?: readonly (readonly (string | null)[])[];
  /** Names of the inputs, drawn under them (default `x1`, `x2`, ...). */
  inputNames?: readonly string[];
  /** Names of the outputs, drawn over them (default `y1`, `y2`, ...). */
  outputNames?: readonly string[];
  /** Opacity is `tanh(beta * score)` (default 3, as pykan). */
  beta?: number;
  /**
   * Per level `0..L`, the nodes a prune keeps (`PruneResult.kept`): the
   * others, and their edges, are drawn faint.
   */
  kept?: readonly (readonly number[])[];
  /** A title over the diagram. */
  title?: string;
  /** Width in pixels (default 800). */
  width?: number;
  /** Height of one layer in pixels (default 340). */
  layerHeight?: number;
}

/** The opacity of a masked or pruned edge and of a pruned node. */
export const FAINT_OPACITY = 0.15;

const MARGIN = { side: 40, top: 60, bottom: 50, title: 26 };
const NODE_RADIUS = 6;
const INK = "#000000";
const SYMBOLIC = "#d62728";
const FAINT = "#9e9e9e";

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function num(v: number): string {
  const r = Math.round(v * 100) / 100;
  return Object.is(r, -0) ? "0" : String(r);
}

/** Throws unless `list` has one array of `sizes[l]` entries per `l`, each passing `test`. */
function checkNested(
  where: string,
  name: string,
  list: unknown,
  sizes: number[],
  expected: string,
  test: (v: unknown) => boolean,
): void {
  if (!Array.isArray(list) || list.length !== sizes.length) {
    throw new KanError(`${where}: ${name} must be ${sizes.length} arrays, got ${describe(list)}`);
  }
  list.forEach((a, l) => {
    if (!Array.isArray(a) && !ArrayBuffer.isView(a) || (a as ArrayLike<unknown>).length !== sizes[l]) {
      throw new KanError(
        `${where}: ${name}[${l}] must be an array of ${sizes[l]} ${expected}, got ${describe(a)}`,
      );
    }
    const arr = a as ArrayLike<unknown>;
    for (let k = 0; k < arr.length; k++) {
      if (!test(arr[k])) {
        throw new KanError(`${where}: ${name}[${l}][${k}] must be ${expected}, got ${describe(arr[k])}`);
      }
    }
  });
}

/** The polyline points of a curve scaled into the box at (`x0`, `y0`) of side `s`. */
function curvePoints(
  xs: ArrayLike<number>,
  ys: ArrayLike<number>,
  x0: number,
  y0: number,
  s: number,
): string {
  const pad = 0.12 * s;
  let [xLo, xHi, yLo, yHi] = [Infinity, -Infinity, Infinity, -Infinity];
  for (let k = 0; k < xs.length; k++) {
    xLo = Math.min(xLo, xs[k]);
    xHi = Math.max(xHi, xs[k]);
    yLo = Math.min(yLo, ys[k]);
    yHi = Math.max(yHi, ys[k]);
  }
  const flatY = !(yHi - yLo > 1e-12 * Math.max(1, Math.abs(yHi)));
  const flatX = !(xHi - xLo > 0);
  const points: string[] = [];
  for (let k = 0; k < xs.length; k++) {
    const u = flatX ? 0.5 : (xs[k] - xLo) / (xHi - xLo);
    const v = flatY ? 0.5 : (ys[k] - yLo) / (yHi - yLo);
    points.push(`${num(x0 + pad + u * (s - 2 * pad))},${num(y0 + s - pad - v * (s - 2 * pad))}`);
  }
  return points.join(" ");
}

/**
 * The network diagram of `model` (a `Sequential` of `BSplineKAN`) as a
 * standalone SVG string, drawn as pykan's `plot`: level 0 (the inputs) at the
 * bottom, the outputs at the top; edge `(o, i)` of layer `l` is the `id = i *
 * out + o`-th of the layer's boxes from the left, showing `curves[l].edges[o *
 * in + i]` (from `edgeCurves`), and its wires and box have opacity `tanh(beta
 * * score)` with `scores.edgeScores[l][o * in + i]` (all 1 when `scores` is
 * null). Masked edges, and edges and nodes that `kept` leaves out, are drawn
 * faint and gray; edges with a symbol are red and labelled. The output is
 * deterministic; each edge is one `<g class="edge">` with its `data-layer`,
 * `data-out`, `data-in` and `data-score`.
 *
 * @example
 * ```ts
 * import { Gpu, kan, Tensor } from "../../mod.ts";
 * import { edgeCurves } from "./edge_curves.ts";
 * import { plotNetwork } from "./network_plot.ts";
 * const gpu = await Gpu.request();
 * const model = kan(gpu, [2, 3, 1], { basis: "bspline", seed: 0 });
 * const x = Tensor.from(gpu, [-1, 0.5, 0.2, -0.3, 0.9, 1], [3, 2]);
 * const svg = plotNetwork(model, await edgeCurves(model, x), null, { inputNames: ["a", "b"] });
 * console.log(svg.startsWith("<svg"));
 * gpu.destroy();
 * ```
 */
export function plotNetwork(
  model: unknown,
  curves: readonly LayerCurves[],
  scores: NetworkScores | null,
  options: NetworkPlotOptions = {},
): string {
  const where = "plotNetwork";
  const views = edgeLayers(where, model);
  const layers = views.map((v) => v.numeric);
  const widths = layerWidths(layers);
  const depth = layers.length;
  checkOptions(where, options, [
    "symbols",
    "inputNames",
    "outputNames",
    "beta",
    "kept",
    "title",
    "width",
    "layerHeight",
  ]);
  const beta = option(where, options, "beta", FINITE, 3);
  const width = option(where, options, "width", POSITIVE, 800);
  const layerHeight = option(where, options, "layerHeight", POSITIVE, 340);
  const edgeCounts = widths.slice(1).map((w, l) => w * widths[l]);
  if (!Array.isArray(curves) || curves.length !== depth) {
    throw new KanError(
      `${where}: curves must be edgeCurves(model, x) (${depth} layers), got ${describe(curves)}`,
    );
  }
  curves.forEach((c, l) => {
    if (!c || !Array.isArray(c.edges) || c.edges.length !== edgeCounts[l]) {
      throw new KanError(
        `${where}: curves[${l}] must hold ${edgeCounts[l]} edges (edgeCurves of this model), got ${
          describe(c)
        }`,
      );
    }
  });
  const score = (v: unknown) => typeof v === "number" && Number.isFinite(v) && v >= 0;
  if (scores !== null) {
    if (typeof scores !== "object") {
      throw new KanError(
        `${where}: scores must be { edgeScores, nodeScores } or null, got ${describe(scores)}`,
      );
    }
    checkNested(where, "scores.edgeScores", scores.edgeScores, edgeCounts, "finite numbers >= 0", score);
  }
  // Default: the symbols of HybridKAN layers, by name.
  const symbols = options.symbols ??
    views.map((v, l) => v.symbolic?.functions ?? Array(edgeCounts[l]).fill(null));
  if (options.symbols !== undefined) {
    checkNested(
      where,
      "symbols",
      symbols,
      edgeCounts,
      "strings or null",
      (v) => v === null || typeof v === "string",
    );
  }
  const names = (key: "inputNames" | "outputNames", n: number, prefix: string) => {
    const given = options[key];
    if (given === undefined) return Array.from({ length: n }, (_, k) => `${prefix}${k + 1}`);
    checkNested(where, key, [given], [n], "strings", (v) => typeof v === "string");
    return [...given];
  };
  const inputNames = names("inputNames", widths[0], "x");
  const outputNames = names("outputNames", widths[depth], "y");
  const keptSets = options.kept === undefined ? null : (() => {
    const kept = options.kept;
    if (!Array.isArray(kept) || kept.length !== depth + 1) {
      throw new KanError(`${where}: kept must be ${depth + 1} arrays of node indices, got ${describe(kept)}`);
    }
    return kept.map((k, l) => {
      checkNested(
        where,
        `kept[${l}]`,
        [k],
        [k?.length ?? -1],
        `integers in 0..${widths[l] - 1}`,
        (v) => Number.isInteger(v) && (v as number) >= 0 && (v as number) < widths[l],
      );
      return new Set(k);
    });
  })();
  const title = options.title === undefined ? undefined : String(options.title);

  const plotW = width - 2 * MARGIN.side;
  const top = MARGIN.top + (title === undefined ? 0 : MARGIN.title);
  const height = top + MARGIN.bottom + depth * layerHeight;
  const levelY = (l: number) => top + (depth - l) * layerHeight;
  const nodeX = (l: number, n: number) => MARGIN.side + (n + 0.5) / widths[l] * plotW;
  const nodeOn = (l: number, n: number) => keptSets === null || keptSets[l].has(n);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${num(width)}" height="${num(height)}" ` +
    `viewBox="0 0 ${num(width)} ${num(height)}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
  ];
  if (title !== undefined) {
    out.push(
      `<text x="${num(width / 2)}" y="24" font-size="16" text-anchor="middle">${escape(title)}</text>`,
    );
  }
  for (let l = 0; l < depth; l++) {
    const [nIn, nOut] = [widths[l], widths[l + 1]];
    const count = nIn * nOut;
    const side = Math.min(0.8 * plotW / count, 0.45 * layerHeight, 90);
    const yMid = (levelY(l) + levelY(l + 1)) / 2;
    for (let i = 0; i < nIn; i++) {
      for (let o = 0; o < nOut; o++) {
        const e = o * nIn + i;
        const curve = curves[l].edges[e];
        const s = scores === null ? 1 : scores.edgeScores[l][e];
        const symbol = symbols[l][e] ?? null;
        const faint = curve.masked || !nodeOn(l, i) || !nodeOn(l + 1, o);
        const opacity = faint ? FAINT_OPACITY : scores === null ? 1 : Math.tanh(beta * s);
        const color = faint ? FAINT : symbol !== null ? SYMBOLIC : INK;
        const bx = MARGIN.side + (i * nOut + o + 0.5) / count * plotW;
        const [x0, y0] = [bx - side / 2, yMid - side / 2];
        const dash = faint ? ` stroke-dasharray="4 3"` : "";
        out.push(
          `<g class="edge" data-layer="${l}" data-out="${o}" data-in="${i}" data-score="${s}" ` +
            `opacity="${Math.round(opacity * 1000) / 1000}">`,
          `<path class="wire" d="M${num(nodeX(l, i))} ${num(levelY(l))} L${num(bx)} ${num(y0 + side)} ` +
            `M${num(bx)} ${num(y0)} L${num(nodeX(l + 1, o))} ${num(levelY(l + 1))}" ` +
            `stroke="${color}" stroke-width="1.5" fill="none"${dash}/>`,
          `<rect class="box" x="${num(x0)}" y="${num(y0)}" width="${num(side)}" height="${num(side)}" ` +
            `fill="#ffffff" stroke="${color}" stroke-width="1.2"/>`,
          `<polyline class="curve" points="${curvePoints(curve.xs, curve.ys, x0, y0, side)}" ` +
            `stroke="${color}" stroke-width="2" fill="none" stroke-linejoin="round"/>`,
        );
        if (symbol !== null) {
          out.push(
            `<text class="symbol" x="${num(bx)}" y="${num(y0 + side + 13)}" font-size="11" ` +
              `text-anchor="middle" fill="${SYMBOLIC}">${escape(symbol)}</text>`,
          );
        }
        out.push(`</g>`);
      }
    }
  }
  for (let l = 0; l <= depth; l++) {
    for (let n = 0; n < widths[l]; n++) {
      const on = nodeOn(l, n);
      out.push(
        `<circle class="node" data-level="${l}" data-node="${n}" cx="${num(nodeX(l, n))}" cy="${
          num(levelY(l))
        }" ` +
          `r="${NODE_RADIUS}" ${
            on ? `fill="${INK}"` : `fill="#ffffff" stroke="${FAINT}" stroke-width="1.5"`
          }/>`,
      );
    }
  }
  inputNames.forEach((name, n) => {
    out.push(
      `<text class="input-name" x="${num(nodeX(0, n))}" y="${num(levelY(0) + 28)}" font-size="16" ` +
        `text-anchor="middle">${escape(name)}</text>`,
    );
  });
  outputNames.forEach((name, n) => {
    out.push(
      `<text class="output-name" x="${num(nodeX(depth, n))}" y="${num(levelY(depth) - 16)}" font-size="16" ` +
        `text-anchor="middle">${escape(name)}</text>`,
    );
  });
  out.push(`</svg>`);
  return out.join("\n") + "\n";
}
