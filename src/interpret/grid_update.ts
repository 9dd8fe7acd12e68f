/**
 * Grid update (pykan's `update_grid_from_samples`, efficient-kan's
 * `update_grid`): each input's knots move to where a batch of its values lies
 * (the batch's quantiles mixed with a uniform grid over its range), and the
 * spline coefficients are refitted by least squares in float64 so that the
 * layer computes the same function on that batch.
 *
 * Unlike efficient-kan's `update_grid`, which fits the scaled curve and writes
 * it into `spline_weight` (so that the scaler counts twice), the refit here
 * fits each edge's unscaled curve `sum_j spline_weight[o,i,j] B_j(x)`: the
 * effective weights `spline_weight * spline_scaler` then give the same
 * function, and an edge whose scaler is 0 still contributes nothing.
 *
 * Only B-spline layers have such a grid; see `grid_layers.ts` for what the
 * other bases get and why they are refused.
 *
 * @module
 */

import { KanError } from "../errors.ts";
import type { BSplineKAN } from "../layers/bspline_kan.ts";
import type { StateDict } from "../layers/parameter.ts";
import type { Sequential } from "../layers/sequential.ts";
import { Tensor } from "../tensor.ts";
import { BOOLEAN, checkOptions, option, UNIT_INTERVAL } from "../validate.ts";
import { fitSpline, splineCurves } from "./grid_fit.ts";
import { checkKnots, extendGrid, sampleGridInner } from "./grid_knots.ts";
import { type GridBatch, readGridBatch, requireSplineLayer, requireSplineModel } from "./grid_layers.ts";

/** Options of {@linkcode updateGrid} and {@linkcode updateModelGrid}. */
export interface UpdateGridOptions {
  /**
   * Weight of the uniform grid in the mix (default 0.02, pykan's and
   * efficient-kan's `grid_eps`): 0 puts the knots at the batch's quantiles, 1
   * spaces them evenly over its range.
   */
  gridEps?: number;
  /**
   * An input whose batch values are too few distinct values for strictly
   * increasing knots (a node pruning left constant, for example) keeps its
   * grid and weights instead of refusing the update (default false: refused).
   * `fit`'s `updateGrid` sets it, as pykan updates such a grid without
   * complaint.
   */
  keepDegenerate?: boolean;
}

/** What {@linkcode updateGrid} changed. */
export interface GridUpdate {
  /**
   * The largest `|phi_new(x) - phi_old(x)|` over the batch and every edge's
   * spline branch (scaler included), in float64: how far the refit on the new
   * knots is from the old function.
   */
  maxDeviation: number;
}

const OPTIONS = ["gridEps", "keepDegenerate"];

/** Input batch as accepted by the grid update: a `[B, in]` tensor, rows, or `B * in` numbers row-major. */
export type GridInput = Tensor | ArrayLike<number> | readonly (readonly number[])[];

/** The new state of `layer` for the batch (nothing written); see {@linkcode updateGrid}. */
export function planGridUpdate(
  where: string,
  layer: BSplineKAN,
  state: StateDict,
  x: GridBatch,
  gridEps: number,
  keepDegenerate = false,
): { state: StateDict; maxDeviation: number } {
  const { gridSize: g, splineOrder: k } = layer.options;
  const { inFeatures: inDim, outFeatures: outDim } = layer;
  const nb = g + k;
  const width = g + 2 * k + 1;
  const need = nb + 1;
  if (x.batch < need) {
    throw new KanError(
      `${where}: the batch has ${x.batch} rows, but a grid of gridSize ${g} and splineOrder ${k} needs at ` +
        `least gridSize + splineOrder + 1 = ${need} to place its knots and refit its ${nb} coefficients`,
    );
  }
  const oldGrid = state.grid.data;
  const oldWeight = state.spline_weight.data;
  const scaler = state.spline_scaler.data;
  const grid = new Float32Array(inDim * width);
  const weight = new Float32Array(oldWeight.length);
  let maxDeviation = 0;
  const column = new Float64Array(x.batch);
  for (let i = 0; i < inDim; i++) {
    for (let n = 0; n < x.batch; n++) column[n] = x.data[n * inDim + i];
    column.sort();
    const knots = Float32Array.from(extendGrid(sampleGridInner(column, g, gridEps), k));
    const rowOf = (o: number) => (o * inDim + i) * nb;
    try {
      checkKnots(`the new grid of input ${i}`, knots);
    } catch (cause) {
      if (keepDegenerate) {
        grid.set(oldGrid.subarray(i * width, (i + 1) * width), i * width);
        for (let o = 0; o < outDim; o++) weight.set(oldWeight.subarray(rowOf(o), rowOf(o) + nb), rowOf(o));
        continue;
      }
      throw new KanError(
        `${where}: input ${i}'s batch values (from ${column[0]} to ${column[x.batch - 1]}) are too few ` +
          `distinct values for ${g} grid intervals: ${(cause as Error).message}; nothing was changed`,
        { cause },
      );
    }
    grid.set(knots, i * width);
    const old = oldGrid.subarray(i * width, (i + 1) * width);
    const curves = splineCurves(old, k, oldWeight, outDim, rowOf, column);
    const coef = fitSpline(`${where}: input ${i}`, knots, k, column, curves, outDim);
    for (let o = 0; o < outDim; o++) {
      for (let j = 0; j < nb; j++) weight[rowOf(o) + j] = coef[j * outDim + o];
    }
    const fitted = splineCurves(knots, k, weight, outDim, rowOf, column);
    for (let n = 0; n < x.batch; n++) {
      for (let o = 0; o < outDim; o++) {
        const d = Math.abs(fitted[n * outDim + o] - curves[n * outDim + o]) * Math.abs(scaler[o * inDim + i]);
        if (!(d <= maxDeviation)) maxDeviation = d;
      }
    }
  }
  const bad = weight.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) {
    throw new KanError(
      `${where}: the refitted spline_weight overflows float32 at flat index ${bad}; nothing was changed`,
    );
  }
  return {
    state: {
      ...state,
      grid: { shape: state.grid.shape, data: grid },
      spline_weight: { shape: state.spline_weight.shape, data: weight },
    },
    maxDeviation,
  };
}

/**
 * Moves `layer`'s knots to the batch `x` (per input: `G + 1` knots at the
 * batch's quantiles mixed with a uniform grid over its `[min, max]` as
 * `gridEps * uniform + (1 - gridEps) * quantiles`, then `k` more on each side
 * at the grid's mean spacing, as pykan's `update_grid_from_samples`) and
 * refits `spline_weight` by float64 least squares so that the layer computes
 * the same function on `x`. The batch needs at least `G + k + 1` rows with
 * enough distinct values per input; a NaN or infinite value, too few rows or
 * another kind of layer is a {@linkcode KanError}, and the layer stays as it was.
 *
 * @example
 * ```ts
 * import { BSplineKAN, Gpu } from "../../mod.ts";
 * import { updateGrid } from "./grid_update.ts";
 * const gpu = await Gpu.request();
 * const layer = new BSplineKAN(gpu, 1, 2, { gridSize: 5 });
 * const x = Array.from({ length: 64 }, (_, n) => 0.5 * Math.sin(n)); // inputs in [-0.5, 0.5]
 * const { maxDeviation } = await updateGrid(layer, x);
 * console.log((await layer.stateDict()).grid.data, maxDeviation);
 * gpu.destroy();
 * ```
 */
export async function updateGrid(
  layer: BSplineKAN,
  x: GridInput,
  options: UpdateGridOptions = {},
): Promise<GridUpdate> {
  const where = "updateGrid";
  checkOptions(where, options, OPTIONS);
  const gridEps = option(where, options, "gridEps", UNIT_INTERVAL, 0.02);
  const keep = option(where, options, "keepDegenerate", BOOLEAN, false);
  const spline = requireSplineLayer(where, layer);
  const batch = await readGridBatch(where, x, spline.inFeatures, spline.gpu);
  const plan = planGridUpdate(where, spline, await spline.stateDict(), batch, gridEps, keep);
  spline.loadStateDict(plan.state);
  return { maxDeviation: plan.maxDeviation };
}

/**
 * pykan's `model.update_grid(x)`: for each layer in order, runs `x` through
 * the layers before it on the GPU (those already updated) and updates the
 * layer's grid on what reaches it (see {@linkcode updateGrid}). Every layer
 * must be a `BSplineKAN`. If any layer's update is refused (a non-finite or
 * too small batch, an input with too few distinct values), the layers already
 * updated are restored and the model stays as it was. Returns each layer's
 * {@linkcode GridUpdate}.
 *
 * @example
 * ```ts
 * import { Gpu, kan } from "../../mod.ts";
 * import { updateModelGrid } from "./grid_update.ts";
 * const gpu = await Gpu.request();
 * const model = kan(gpu, [2, 3, 1], { basis: "bspline", seed: 0 });
 * const rows = Array.from({ length: 100 }, (_, n) => [Math.sin(n), Math.cos(3 * n)]);
 * console.log((await updateModelGrid(model, rows)).map((u) => u.maxDeviation));
 * gpu.destroy();
 * ```
 */
export async function updateModelGrid(
  model: Sequential,
  x: GridInput,
  options: UpdateGridOptions = {},
): Promise<GridUpdate[]> {
  const where = "updateModelGrid";
  checkOptions(where, options, OPTIONS);
  const gridEps = option(where, options, "gridEps", UNIT_INTERVAL, 0.02);
  const keep = option(where, options, "keepDegenerate", BOOLEAN, false);
  const layers = requireSplineModel(where, model);
  const gpu = layers[0].gpu;
  const first = await readGridBatch(where, x, layers[0].inFeatures, gpu);
  const saved: StateDict[] = [];
  const updates: GridUpdate[] = [];
  let h = Tensor.from(gpu, first.data, [first.batch, layers[0].inFeatures]);
  try {
    for (let l = 0; l < layers.length; l++) {
      const layer = layers[l];
      const batch = l === 0
        ? first
        : await readGridBatch(`${where}: layer ${l}'s input`, h, layer.inFeatures, gpu);
      const state = await layer.stateDict();
      const plan = planGridUpdate(`${where}: layer ${l}`, layer, state, batch, gridEps, keep);
      layer.loadStateDict(plan.state);
      saved.push(state);
      updates.push({ maxDeviation: plan.maxDeviation });
      if (l + 1 < layers.length) {
        const next = layer.forward(h);
        h.dispose();
        h = next;
      }
    }
  } catch (e) {
    for (let l = saved.length - 1; l >= 0; l--) layers[l].loadStateDict(saved[l]);
    throw e;
  } finally {
    h.dispose();
  }
  return updates;
}
