/**
 * Batch statistics of every edge of a B-spline KAN layer on the GPU: the mean
 * and standard deviation over the batch of each edge's activation
 * `phi[b, o, i] = base_weight[o, i] * base(x[b, i]) + spline_scaler[o, i] *
 * sum_j spline_weight[o, i, j] * B_j(x[b, i])` (no bias), of each input and
 * of each output. They are pykan's `edge_actscale`, `std(preacts)` and
 * `subnode_actscale` (MultKAN.forward with `save_act`), from which its
 * attribution scores and sparsity regularization are made. The activations
 * are evaluated on the fly from the basis: the `[batch, out, in]` tensor is
 * never in GPU memory.
 *
 * @module
 */

import { KanError } from "../errors.ts";
import type { Gpu } from "../gpu/gpu.ts";
import type { BSplineKAN } from "../layers/bspline_kan.ts";
import type { Parameter } from "../layers/parameter.ts";
import { Tensor } from "../tensor.ts";
import { checkFinite, checkTensor, describe } from "../validate.ts";
import { type EdgeLayer, recordFinalize, recordMoments } from "./reg_kernels.ts";

/** A layer's batch statistics (standard deviations unbiased, as `torch.std`). */
export interface EdgeStatistics {
  /** Each edge's activation's standard deviation over the batch, `[out, in]` row-major (pykan's `edge_actscale`). */
  edgeStd: Float64Array;
  /** Each edge's activation's mean over the batch, `[out, in]`. */
  edgeMean: Float64Array;
  /** Each input's standard deviation over the batch, `[in]`. */
  inputStd: Float64Array;
  /** Each input's mean, `[in]`. */
  inputMean: Float64Array;
  /** Each output's standard deviation (the sum of its edges; pykan's `subnode_actscale`), `[out]`. */
  outputStd: Float64Array;
  /** Each output's mean over the batch, bias included when the layer has one, `[out]`. */
  outputMean: Float64Array;
}

/** Whether `layer` is a {@linkcode BSplineKAN} (by its `kind`, with the members the kernels read). */
export function isBSplineKAN(layer: unknown): layer is BSplineKAN {
  const l = layer as Partial<BSplineKAN> | null;
  return typeof l === "object" && l !== null && l.kind === "BSplineKAN" &&
    typeof l.namedParameters === "function" &&
    typeof l.basis === "object" && typeof l.options === "object";
}

/**
 * Throws a {@linkcode KanError} naming `where` unless `layer` is a
 * {@linkcode BSplineKAN} whose spline weights are held as `[out, in, nb]`;
 * returns what the edge kernels read of it.
 */
export function edgeLayer(where: string, layer: unknown): EdgeLayer {
  // By its kind, not `instanceof`: fit.ts imports this module, and a value import of the layer
  // classes here would close an import cycle (module.ts -> fit.ts -> here -> bspline_kan.ts -> layer.ts).
  if (!isBSplineKAN(layer)) {
    const kind = (layer as { kind?: unknown } | null)?.kind;
    throw new KanError(
      `${where}: expected a BSplineKAN layer (edge statistics, regularization and attribution are ` +
        `implemented for B-spline KANs), got ${typeof kind === "string" ? `a ${kind}` : describe(layer)}`,
    );
  }
  const named = layer.namedParameters();
  const get = (name: string): Parameter => named.get(name)!;
  for (const name of ["grid", "base_weight", "spline_weight", "spline_scaler"]) {
    const p = get(name);
    if (p.axes !== null || p.block.value.disposed) {
      throw new KanError(`${where}: parameter "${name}" of the layer is disposed or held permuted`);
    }
  }
  return {
    inDim: layer.inFeatures,
    outDim: layer.outFeatures,
    basis: layer.basis,
    baseActivation: layer.options.baseActivation,
    grid: get("grid").range,
    baseWeight: get("base_weight").range,
    splineWeight: get("spline_weight").range,
    scaler: get("spline_scaler").range,
  };
}

/**
 * Throws a {@linkcode KanError} naming `where` unless `x` is a live
 * `[B, inDim]` tensor of `gpu` with `B >= 2` (a standard deviation needs two
 * rows) and finite values as far as known.
 */
export function checkBatch(where: string, gpu: Gpu, x: unknown, inDim: number): Tensor {
  const t = checkTensor(`${where}: x`, x, gpu);
  if (t.shape.length !== 2 || t.shape[1] !== inDim || t.shape[0] < 2) {
    throw new KanError(
      `${where}: x must have shape [B, ${inDim}] with B >= 2 (the unbiased standard deviation needs two ` +
        `rows), got [${t.shape.join(", ")}]`,
    );
  }
  checkFinite(`${where}: x`, t);
  return t;
}

/**
 * Records the statistics of `x` and of the edges as `[mean (E + in) | std (E + in)]`
 * (edges first, `E = out * in`) into a new tensor.
 */
export function recordEdgeMoments(gpu: Gpu, layer: EdgeLayer, x: Tensor): Tensor {
  const batch = x.shape[0];
  const cols = layer.outDim * layer.inDim + layer.inDim;
  const shifts = Tensor.empty(gpu, [cols]);
  const sums = Tensor.empty(gpu, [2 * cols]);
  recordMoments(gpu, layer, x.binding, batch, layer.inDim, true, shifts.binding, sums.binding);
  const stats = Tensor.empty(gpu, [2 * cols]);
  recordColumnStats(gpu, layer, batch, cols, sums, shifts, stats);
  shifts.dispose();
  sums.dispose();
  return stats;
}

function recordColumnStats(
  gpu: Gpu,
  layer: EdgeLayer,
  batch: number,
  cols: number,
  sums: Tensor,
  shifts: Tensor,
  stats: Tensor,
): void {
  const params = {
    inDim: layer.inDim,
    outDim: layer.outDim,
    nb: layer.basis.count,
    n: batch,
    count: cols,
    lamb: 0,
    l1: 0,
    entropy: 0,
    coef: 0,
    coefdiff: 0,
  };
  recordFinalize(gpu, "finalize_moments", params, [sums.binding, shifts.binding], [stats.binding], cols);
}

/**
 * Records the full statistics of `layer` on `x` (`[mean | std]` of the edges and
 * inputs, then `[mean (out) | std (out)]` of the layer's output) into one new
 * tensor, and returns it with the layer's output `y`.
 */
export function recordEdgeStatistics(
  where: string,
  layer: BSplineKAN,
  x: Tensor,
): { stats: Tensor; y: Tensor } {
  const edges = edgeLayer(where, layer);
  const gpu = layer.gpu;
  checkBatch(where, gpu, x, edges.inDim);
  const batch = x.shape[0];
  const cols = edges.outDim * edges.inDim + edges.inDim;
  const moments = recordEdgeMoments(gpu, edges, x);
  const y = layer.forward(x);
  const out = edges.outDim;
  const shifts = Tensor.empty(gpu, [out]);
  const sums = Tensor.empty(gpu, [2 * out]);
  const outputs = { ...edges, inDim: out };
  recordMoments(gpu, outputs, y.binding, batch, out, false, shifts.binding, sums.binding);
  const outputStats = Tensor.empty(gpu, [2 * out]);
  recordColumnStats(gpu, outputs, batch, out, sums, shifts, outputStats);
  const stats = Tensor.empty(gpu, [2 * cols + 2 * out]);
  gpu.copy(moments.buffer, 0, stats.buffer, 0, 8 * cols);
  gpu.copy(outputStats.buffer, 0, stats.buffer, 8 * cols, 8 * out);
  for (const t of [moments, shifts, sums, outputStats]) t.dispose();
  return { stats, y };
}

/** Splits the values of a {@linkcode recordEdgeStatistics} tensor (from `offset`) into their fields. */
export function decodeEdgeStatistics(
  data: Float32Array,
  outDim: number,
  inDim: number,
  offset = 0,
): EdgeStatistics {
  const e = outDim * inDim;
  const cols = e + inDim;
  const at = (from: number, n: number) => Float64Array.from(data.subarray(offset + from, offset + from + n));
  return {
    edgeMean: at(0, e),
    inputMean: at(e, inDim),
    edgeStd: at(cols, e),
    inputStd: at(cols + e, inDim),
    outputMean: at(2 * cols, outDim),
    outputStd: at(2 * cols + outDim, outDim),
  };
}

/** Floats of a {@linkcode recordEdgeStatistics} tensor of an `outDim x inDim` layer. */
export function edgeStatisticsSize(outDim: number, inDim: number): number {
  return 2 * (outDim * inDim + inDim) + 2 * outDim;
}

/**
 * The batch statistics of `layer`'s edges, inputs and outputs on `x`
 * (`[B, in]`, `B >= 2`), in one readback. Standard deviations are unbiased
 * (`torch.std`), computed from sums shifted by the first row's values.
 *
 * @example
 * ```ts
 * import { BSplineKAN, Gpu, Tensor } from "../../mod.ts";
 * import { edgeStatistics } from "./edge_statistics.ts";
 * const gpu = await Gpu.request();
 * const layer = new BSplineKAN(gpu, 2, 3, { seed: 1 });
 * const x = Tensor.from(gpu, [0.1, -0.5, 0.7, 0.2, -0.3, 0.9], [3, 2]);
 * const stats = await edgeStatistics(layer, x);
 * console.log(stats.edgeStd.length, stats.inputStd, stats.outputStd.length); // 6 Float64Array [0.5033..., 0.7] 3
 * gpu.destroy();
 * ```
 */
export async function edgeStatistics(layer: BSplineKAN, x: Tensor): Promise<EdgeStatistics> {
  const { stats, y } = recordEdgeStatistics("edgeStatistics", layer, x);
  y.dispose();
  try {
    return decodeEdgeStatistics(await stats.read(), layer.outFeatures, layer.inFeatures);
  } finally {
    stats.dispose();
  }
}
