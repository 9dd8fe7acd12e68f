/**
 * The knots of pykan's grid update and grid extension, in float64: a grid
 * placed on a batch's quantiles mixed with a uniform grid
 * (`KANLayer.update_grid_from_samples`), a finer grid interpolated from a
 * coarser one (`KANLayer.initialize_grid_from_parent`), and the `k` knots
 * added on each side (`spline.extend_grid`).
 *
 * @module
 */

import { KanError } from "../errors.ts";
import { MIN_NORMAL_FLOAT32 } from "../validate.ts";

/**
 * Throws a {@linkcode KanError} starting with `where` unless the float32
 * knots `row` increase strictly with spacings that stay non-zero on a GPU
 * (the test `BSplineKAN` applies to a loaded grid), naming the first pair
 * that does not.
 *
 * @example
 * ```ts
 * import { checkKnots } from "./grid_knots.ts";
 * checkKnots("the new grid", new Float32Array([0, 0.5, 1]));
 * ```
 */
export function checkKnots(where: string, row: Float32Array): void {
  for (let m = 1; m < row.length; m++) {
    if (!(Math.fround(row[m] - row[m - 1]) >= MIN_NORMAL_FLOAT32)) {
      throw new KanError(
        `${where} must be strictly increasing, but knot ${m - 1} is ${row[m - 1]} and knot ${m} is ${row[m]}`,
      );
    }
  }
}

/**
 * pykan's `extend_grid`: `inner` (`G + 1` knots) with `order` knots added on
 * each side at the spacing `(inner[G] - inner[0]) / G`; `G + 2 * order + 1` knots.
 *
 * @example
 * ```ts
 * import { extendGrid } from "./grid_knots.ts";
 * console.log(extendGrid([0, 1, 2], 1)); // Float64Array [-1, 0, 1, 2, 3]
 * ```
 */
export function extendGrid(inner: ArrayLike<number>, order: number): Float64Array {
  const g = inner.length - 1;
  const h = (inner[g] - inner[0]) / g;
  const out = new Float64Array(g + 2 * order + 1);
  for (let m = 0; m <= g; m++) out[order + m] = inner[m];
  // pykan subtracts and adds h once per added knot, as here.
  for (let m = order - 1; m >= 0; m--) out[m] = out[m + 1] - h;
  for (let m = order + g + 1; m < out.length; m++) out[m] = out[m - 1] + h;
  return out;
}

/**
 * The `G + 1` inner knots of pykan's `update_grid_from_samples` for one input
 * whose batch values are `sorted` (ascending, at least one): the values at the
 * ranks `floor(batch / G * m)` (m < G) and the largest (the adaptive grid),
 * mixed with the uniform grid over `[min, max]` as
 * `gridEps * uniform + (1 - gridEps) * adaptive`.
 *
 * @example
 * ```ts
 * import { sampleGridInner } from "./grid_knots.ts";
 * console.log(sampleGridInner([0, 0.1, 0.2, 0.9], 2, 0)); // Float64Array [0, 0.2, 0.9]
 * ```
 */
export function sampleGridInner(sorted: ArrayLike<number>, gridSize: number, gridEps: number): Float64Array {
  const batch = sorted.length;
  const inner = new Float64Array(gridSize + 1);
  const lo = sorted[0];
  const hi = sorted[batch - 1];
  const h = (hi - lo) / gridSize;
  for (let m = 0; m <= gridSize; m++) {
    // Python's int(batch / num_interval * i): the same float64 product, truncated.
    const adaptive = m === gridSize ? hi : sorted[Math.trunc(batch / gridSize * m)];
    const uniform = lo + h * m;
    inner[m] = gridEps * uniform + (1 - gridEps) * adaptive;
  }
  return inner;
}

/**
 * The `gridSize + 1` inner knots pykan's `refine` gives a finer layer:
 * the parent's inner knots `parentInner` (`G_old + 1` of them) interpolated
 * piecewise linearly at `gridSize + 1` evenly spaced positions (pykan fits a
 * degree-1 spline through them and evaluates it at `linspace(-1, 1, gridSize + 1)`),
 * so that a non-uniform parent grid stays non-uniform in the same way.
 *
 * @example
 * ```ts
 * import { refineGridInner } from "./grid_knots.ts";
 * console.log(refineGridInner([0, 1, 4], 4)); // Float64Array [0, 0.5, 1, 2.5, 4]
 * ```
 */
export function refineGridInner(parentInner: ArrayLike<number>, gridSize: number): Float64Array {
  const old = parentInner.length - 1;
  const out = new Float64Array(gridSize + 1);
  for (let m = 0; m <= gridSize; m++) {
    const u = m * old / gridSize;
    const left = Math.min(Math.floor(u), old - 1);
    const t = u - left;
    out[m] = (1 - t) * parentInner[left] + t * parentInner[left + 1];
  }
  return out;
}
