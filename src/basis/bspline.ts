/**
 * B-spline bases (KAN, efficient-kan `KANLinear`): order `k` on a uniform
 * grid of `G` intervals extended by `k` knots on each side, half-open knot
 * intervals, zero outside the extended grid.
 *
 * @module
 */

import { KanError } from "../errors.ts";
import { loopTrips } from "../gpu/loop_trips.ts";
import { type Basis, noParamGradient } from "./basis.ts";
import source from "../../shaders/basis/bspline.wgsl" with { type: "text" };

/** The highest spline order the WGSL supports (its private arrays hold 8 bases). */
export const MAX_SPLINE_ORDER = 7;

/**
 * The most spline functions per input (`gridSize + splineOrder`): the scaler
 * gradient's loop over them must stay within the loop-trip budget.
 */
export const MAX_SPLINE_FUNCTIONS = 32768;

/**
 * Value and d/dx of `B_{j,order}(x)` on the knots `grid[offset .. offset + count + order + 1)`,
 * by the Cox-de Boor recurrence carried forward with its derivative.
 */
export function bsplineReference(
  grid: ArrayLike<number>,
  offset: number,
  order: number,
  j: number,
  x: number,
): [number, number] {
  const g = (m: number) => grid[offset + j + m];
  if (!(x >= g(0) && x < g(order + 1))) return [0, 0];
  const v: number[] = [];
  const d: number[] = [];
  for (let m = 0; m <= order; m++) {
    v.push(x >= g(m) && x < g(m + 1) ? 1 : 0);
    d.push(0);
  }
  for (let k = 1; k <= order; k++) {
    for (let m = 0; m <= order - k; m++) {
      const left = (x - g(m)) / (g(m + k) - g(m));
      const right = (g(m + k + 1) - x) / (g(m + k + 1) - g(m + 1));
      const nv = left * v[m] + right * v[m + 1];
      d[m] = v[m] / (g(m + k) - g(m)) + left * d[m] - v[m + 1] / (g(m + k + 1) - g(m + 1)) + right * d[m + 1];
      v[m] = nv;
    }
  }
  return [v[0], d[0]];
}

/**
 * The knots of efficient-kan for one input: `arange(-order, gridSize + order + 1) * h + lo`
 * with `h = (hi - lo) / gridSize`, computed in float32 as torch does.
 */
export function uniformKnots(
  gridSize: number,
  order: number,
  range: readonly [number, number],
): Float32Array {
  const h = Math.fround((range[1] - range[0]) / gridSize);
  const knots = new Float32Array(gridSize + 2 * order + 1);
  for (let m = 0; m < knots.length; m++) knots[m] = Math.fround(Math.fround((m - order) * h) + range[0]);
  return knots;
}

/**
 * The B-spline basis of `gridSize` intervals and order `order`: `gridSize + order`
 * functions per input; `data` is the grid `[in, gridSize + 2 * order + 1]`.
 */
export function bsplineBasis(gridSize: number, order: number): Basis {
  if (!Number.isInteger(gridSize) || gridSize < 1) {
    throw new KanError(`gridSize must be an integer >= 1, got ${gridSize}`);
  }
  if (!Number.isInteger(order) || order < 0 || order > MAX_SPLINE_ORDER) {
    throw new KanError(`splineOrder must be an integer in 0..${MAX_SPLINE_ORDER}, got ${order}`);
  }
  const count = gridSize + order;
  if (count > MAX_SPLINE_FUNCTIONS) {
    throw new KanError(
      `gridSize + splineOrder must be at most ${MAX_SPLINE_FUNCTIONS} (the spline scaler's gradient sums ` +
        `one input's functions in one kernel invocation), got ${count}`,
    );
  }
  const knotsPerInput = gridSize + 2 * order + 1;
  // The Cox-de Boor recurrence: a loop over order + 1 indicators, then a loop over
  // order levels, each a loop over order + 1 - level terms; basis_range bisects the
  // count + order knot intervals.
  let recurrence = loopTrips(order + 1);
  for (let level = 1; level <= order; level++) recurrence += 1 + loopTrips(order + 1 - level);
  recurrence += 1;
  const bisection = loopTrips(Math.ceil(Math.log2(count + order)));
  return {
    name: "bspline",
    source,
    count,
    constants: { ORDER: order },
    paramCount: 0,
    support: order + 1,
    loopTrips: { value: recurrence, dx: recurrence, dparam: 0, range: bisection },
    value: (i, j, x, data) => bsplineReference(data, i * knotsPerInput, order, j, x)[0],
    dx: (i, j, x, data) => bsplineReference(data, i * knotsPerInput, order, j, x)[1],
    dparam: noParamGradient,
  };
}
