/**
 * Per-edge curves of a B-spline KAN: each edge's function sampled over the
 * range its input took on a batch, as plain float64 data, for plots, for the
 * symbolic fit and for anyone who wants to draw them elsewhere (pykan's
 * `acts` / `spline_postacts`, sampled on an even grid instead of at the data).
 *
 * @module
 */

import { KanError } from "../errors.ts";
import type { BSplineKAN } from "../layers/bspline_kan.ts";
import type { StateDict } from "../layers/parameter.ts";
import type { Tensor } from "../tensor.ts";
import { checkFinite, checkOptions, checkRows, checkTensor, describe, integer, option } from "../validate.ts";
import { sigmoid } from "../basis/single.ts";
import { edgeLayers } from "./prune_model.ts";
import { symbolicEdge, symbolicFunctionIndex } from "../basis/symbolic_edge.ts";
import type { EdgeSymbol } from "../layers/symbolic_edges.ts";

/** One edge's function sampled on an even grid over its input's range. */
export interface EdgeCurve {
  /** The layer index. */
  layer: number;
  /** The output node `o` of the edge. */
  out: number;
  /** The input node `i` of the edge. */
  in: number;
  /** The sample points: `samples` values evenly from the input's min to its max. */
  xs: Float64Array;
  /** `phi_oi(xs)` in float64 (0 for a masked edge; the layer's bias is not in it). */
  ys: Float64Array;
  /** Whether the layer's edge mask switches the edge off (and it is not symbolic). */
  masked: boolean;
  /** The edge's symbol when it is a symbolic edge of a `HybridKAN` (its curve is then `c f(a x + b) + d`). */
  symbol: EdgeSymbol | null;
}

/** The curves of one layer. */
export interface LayerCurves {
  /** The layer index. */
  layer: number;
  /** Per input of the layer, the least value it took on the batch. */
  inMin: Float64Array;
  /** Per input of the layer, the largest value it took on the batch. */
  inMax: Float64Array;
  /** Every edge, at index `o * in + i`. */
  edges: EdgeCurve[];
}

/** Options of {@linkcode edgeCurves}. */
export interface EdgeCurvesOptions {
  /** Sample points per edge (default 101). */
  samples?: number;
}

const SAMPLES = integer(2, 1_000_000);

/**
 * Edge `(o, i)` of `layer` as a float64 function, from the layer's state dict
 * `state` (`await layer.stateDict()`): `base_weight[o,i] base(x) +
 * spline_scaler[o,i] sum_j spline_weight[o,i,j] B_j(x)` on the grid row `i`,
 * through the basis's float64 reference; the bias is not in it. The edge mask
 * is not applied here (see {@linkcode edgeCurves}).
 *
 * @example
 * ```ts
 * import { BSplineKAN, Gpu } from "../../mod.ts";
 * import { edgeFunction } from "./edge_curves.ts";
 * const gpu = await Gpu.request();
 * const layer = new BSplineKAN(gpu, 2, 3, { seed: 1 });
 * const phi = edgeFunction(layer, await layer.stateDict(), 2, 1);
 * console.log(phi(0.25));
 * gpu.destroy();
 * ```
 */
export function edgeFunction(
  layer: BSplineKAN,
  state: StateDict,
  o: number,
  i: number,
): (x: number) => number {
  const { inFeatures: inDim, outFeatures: outDim, basis } = layer;
  for (const [name, v, n] of [["o", o, outDim], ["i", i, inDim]] as const) {
    if (!Number.isInteger(v) || v < 0 || v >= n) {
      throw new KanError(`edgeFunction: ${name} must be an integer in 0..${n - 1}, got ${describe(v)}`);
    }
  }
  const nb = basis.count;
  const e = o * inDim + i;
  const grid = state.grid.data;
  const baseWeight = state.base_weight.data[e];
  const scaler = state.spline_scaler.data[e];
  const weights = state.spline_weight.data.slice(e * nb, (e + 1) * nb);
  const mode = layer.options.baseActivation;
  const base = mode === "silu"
    ? (x: number) => x * sigmoid(x)
    : mode === "identity"
    ? (x: number) => x
    : null;
  return (x: number) => {
    let spline = 0;
    for (let j = 0; j < nb; j++) {
      if (weights[j] !== 0) spline += weights[j] * basis.value(i, j, x, grid, inDim);
    }
    return (base ? baseWeight * base(x) : 0) + scaler * spline;
  };
}

/** The per-column min and max of a `[rows, cols]` array. */
function columnRanges(values: Float32Array, cols: number): { min: Float64Array; max: Float64Array } {
  const min = new Float64Array(cols).fill(Infinity);
  const max = new Float64Array(cols).fill(-Infinity);
  for (let k = 0; k < values.length; k++) {
    const c = k % cols;
    if (values[k] < min[c]) min[c] = values[k];
    if (values[k] > max[c]) max[c] = values[k];
  }
  return { min, max };
}

/** A symbolic edge `c f(a x + b) + d` as a float64 function. */
export function symbolFunction(symbol: EdgeSymbol): (x: number) => number {
  const th = [symbolicFunctionIndex(symbol.name), symbol.a, symbol.b, symbol.c, symbol.d];
  if (th[0] < 0) throw new KanError(`symbolFunction: unknown function ${describe(symbol.name)}`);
  return (x: number) => symbolicEdge.value(x, th, 0, 1);
}

/**
 * Every edge's function of every layer of `model` (a `Sequential` of
 * `BSplineKAN`, or `HybridKAN` whose symbolic edges give `c f(a x + b) + d`), sampled at `samples` even points over the range its input
 * took on `x` (`[N, in]`; the inputs of layer `l > 0` come from a forward
 * pass on the GPU, layer by layer). The values are float64, computed from the
 * state dict with the basis's reference ({@linkcode edgeFunction}); masked
 * edges give 0. The model is not changed; `x` stays the caller's.
 *
 * @example
 * ```ts
 * import { Gpu, kan, Tensor } from "../../mod.ts";
 * import { edgeCurves } from "./edge_curves.ts";
 * const gpu = await Gpu.request();
 * const model = kan(gpu, [2, 3, 1], { basis: "bspline", seed: 0 });
 * const x = Tensor.from(gpu, [-1, 0.5, 0.2, -0.3, 0.9, 1], [3, 2]);
 * const curves = await edgeCurves(model, x, { samples: 11 });
 * console.log(curves[1].edges[2].xs, curves[1].edges[2].ys); // layer 1, output 0, input 2
 * gpu.destroy();
 * ```
 */
export async function edgeCurves(
  model: unknown,
  x: Tensor,
  options: EdgeCurvesOptions = {},
): Promise<LayerCurves[]> {
  const where = "edgeCurves";
  const views = edgeLayers(where, model);
  const layers = views.map((v) => v.numeric);
  const gpuLayers = (model as { layers: readonly { forward(x: Tensor): Tensor }[] }).layers;
  checkOptions(where, options, ["samples"]);
  const samples = option(where, options, "samples", SAMPLES, 101);
  checkTensor(`${where}: x`, x, layers[0].gpu);
  checkRows(where, "x", x, layers[0].inFeatures);
  checkFinite(`${where}: x`, x);
  const result: LayerCurves[] = [];
  let h = x;
  try {
    for (let l = 0; l < layers.length; l++) {
      const layer = layers[l];
      const { min, max } = columnRanges(await h.read(), layer.inFeatures);
      const state = await layer.stateDict();
      const mask = layer.edgeMask;
      const symbols = (await views[l].symbolic?.readSymbols()) ?? null;
      const edges: EdgeCurve[] = [];
      for (let o = 0; o < layer.outFeatures; o++) {
        for (let i = 0; i < layer.inFeatures; i++) {
          const symbol = symbols?.[o * layer.inFeatures + i] ?? null;
          const masked = symbol === null && mask !== null && mask[o * layer.inFeatures + i] === 0;
          const phi = symbol ? symbolFunction(symbol) : edgeFunction(layer, state, o, i);
          const xs = Float64Array.from(
            { length: samples },
            (_, s) => s === samples - 1 ? max[i] : min[i] + (max[i] - min[i]) * s / (samples - 1),
          );
          const ys = masked ? new Float64Array(samples) : xs.map(phi);
          edges.push({ layer: l, out: o, in: i, xs, ys, masked, symbol });
        }
      }
      result.push({ layer: l, inMin: min, inMax: max, edges });
      if (l + 1 < layers.length) {
        const next = gpuLayers[l].forward(h);
        if (h !== x) h.dispose();
        h = next;
      }
    }
  } finally {
    if (h !== x) h.dispose();
  }
  return result;
}
