/**
 * Grid extension (pykan's `refine`): a new B-spline layer or model on a grid
 * of another size over the same range that starts as the same function.
 *
 * As pykan's `initialize_grid_from_parent`, the new inner knots interpolate
 * the old ones piecewise linearly at evenly spaced positions (a non-uniform
 * grid, after a grid update, stays non-uniform in the same way), then `k`
 * knots are added on each side at the new mean spacing. The coefficients are
 * the float64 least-squares fit of each edge's old spline sampled densely
 * over the old grid's range (pykan samples it at the training inputs
 * instead). When the new knots contain the old ones (G to a multiple of G on
 * any grid) a spline of the old grid is one of the new grid, so the new layer
 * computes the same function on that range up to float32 rounding; other sizes
 * give the closest spline. Base weights, scalers, bias, the edge mask, the
 * options and the training mode are copied.
 *
 * @module
 */

import { KanError } from "../errors.ts";
import { BSplineKAN } from "../layers/bspline_kan.ts";
import { Sequential } from "../layers/sequential.ts";
import { check, checkOptions, COUNT, integer, option } from "../validate.ts";
import { fitSpline, splineCurves } from "./grid_fit.ts";
import { checkKnots, extendGrid, refineGridInner } from "./grid_knots.ts";
import { requireSplineLayer, requireSplineModel } from "./grid_layers.ts";

/** Options of {@linkcode refineLayer} and {@linkcode refineModel}. */
export interface RefineOptions {
  /** Sample points per new grid interval for the refit (default 16, at least `k + 1`). */
  samplesPerInterval?: number;
}

const OPTIONS = ["samplesPerInterval"];

/** Evenly spaced points over each interval of `inner`, and its right end. */
function denseSamples(inner: ArrayLike<number>, perInterval: number): Float64Array {
  const g = inner.length - 1;
  const xs = new Float64Array(g * perInterval + 1);
  for (let m = 0; m < g; m++) {
    for (let s = 0; s < perInterval; s++) {
      xs[m * perInterval + s] = inner[m] + (inner[m + 1] - inner[m]) * s / perInterval;
    }
  }
  xs[g * perInterval] = inner[g];
  return xs;
}

async function refineOne(
  where: string,
  layer: BSplineKAN,
  gridSize: number,
  perInterval: number,
): Promise<BSplineKAN> {
  const { gridSize: g0, splineOrder: k } = layer.options;
  const { inFeatures: inDim, outFeatures: outDim } = layer;
  const state = await layer.stateDict();
  const w0 = g0 + 2 * k + 1;
  const nb = gridSize + k;
  const w1 = gridSize + 2 * k + 1;
  const grid = new Float32Array(inDim * w1);
  const weight = new Float32Array(outDim * inDim * nb);
  for (let i = 0; i < inDim; i++) {
    const old = state.grid.data.subarray(i * w0, (i + 1) * w0);
    const inner = refineGridInner(old.subarray(k, k + g0 + 1), gridSize);
    const knots = Float32Array.from(extendGrid(inner, k));
    checkKnots(`${where}: the new grid of input ${i} (gridSize ${gridSize})`, knots);
    grid.set(knots, i * w1);
    const xs = denseSamples(knots.subarray(k, k + gridSize + 1), perInterval);
    const curves = splineCurves(
      old,
      k,
      state.spline_weight.data,
      outDim,
      (o) => (o * inDim + i) * (g0 + k),
      xs,
    );
    const coef = fitSpline(`${where}: input ${i}`, knots, k, xs, curves, outDim);
    for (let o = 0; o < outDim; o++) {
      for (let j = 0; j < nb; j++) weight[(o * inDim + i) * nb + j] = coef[j * outDim + o];
    }
  }
  const bad = weight.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new KanError(`${where}: the refitted spline_weight overflows float32 at index ${bad}`);
  const refined = new BSplineKAN(layer.gpu, inDim, outDim, { ...layer.options, gridSize });
  try {
    refined.loadStateDict({
      ...state,
      grid: { shape: [inDim, w1], data: grid },
      spline_weight: { shape: [outDim, inDim, nb], data: weight },
    });
    const mask = layer.edgeMask;
    if (mask) refined.setEdgeMask(mask);
    refined.fused = layer.fused;
    refined.train(layer.training);
  } catch (e) {
    refined.dispose();
    throw e;
  }
  return refined;
}

function readOptions(where: string, options: RefineOptions, order: number): number {
  checkOptions(where, options, OPTIONS);
  return option(where, options, "samplesPerInterval", integer(order + 1), 16);
}

/**
 * pykan's `refine` for one layer: a new `BSplineKAN` of `gridSize` intervals
 * over the range of `layer`'s grid that computes the same function there
 * (exactly up to float32 when `gridSize` is a multiple of the old size; the
 * closest spline otherwise). `layer` is left as it is.
 *
 * @example
 * ```ts
 * import { BSplineKAN, Gpu } from "../../mod.ts";
 * import { refineLayer } from "./grid_refine.ts";
 * const gpu = await Gpu.request();
 * const coarse = new BSplineKAN(gpu, 2, 3, { gridSize: 5 });
 * const fine = await refineLayer(coarse, 10);
 * console.log(fine.options.gridSize); // 10
 * gpu.destroy();
 * ```
 */
export async function refineLayer(
  layer: BSplineKAN,
  gridSize: number,
  options: RefineOptions = {},
): Promise<BSplineKAN> {
  const where = "refineLayer";
  const spline = requireSplineLayer(where, layer);
  check(`${where}: gridSize`, gridSize, COUNT);
  const perInterval = readOptions(where, options, spline.options.splineOrder);
  return await refineOne(where, spline, gridSize, perInterval);
}

/**
 * pykan's `model.refine(gridSize)`: a new model whose every layer is
 * {@linkcode refineLayer} of `model`'s (all must be `BSplineKAN`s); `model`
 * is left as it is (dispose it when done).
 *
 * @example
 * ```ts
 * import { type BSplineKAN, Gpu, kan } from "../../mod.ts";
 * import { refineModel } from "./grid_refine.ts";
 * const gpu = await Gpu.request();
 * const model = kan(gpu, [2, 5, 1], { basis: "bspline", gridSize: 3 });
 * const finer = await refineModel(model, 10);
 * console.log((finer.layers[0] as BSplineKAN).options.gridSize); // 10
 * model.dispose();
 * gpu.destroy();
 * ```
 */
export async function refineModel(
  model: Sequential,
  gridSize: number,
  options: RefineOptions = {},
): Promise<Sequential> {
  const where = "refineModel";
  const layers = requireSplineModel(where, model);
  check(`${where}: gridSize`, gridSize, COUNT);
  const built: BSplineKAN[] = [];
  try {
    for (let l = 0; l < layers.length; l++) {
      const perInterval = readOptions(where, options, layers[l].options.splineOrder);
      built.push(await refineOne(`${where}: layer ${l}`, layers[l], gridSize, perInterval));
    }
    const refined = new Sequential(built);
    refined.fused = model.fused;
    refined.training = model.training;
    return refined;
  } catch (e) {
    for (const layer of built) layer.dispose();
    throw e;
  }
}
