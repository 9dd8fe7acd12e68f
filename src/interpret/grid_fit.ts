/**
 * B-spline curves of one input in float64, and their least-squares refit on
 * another grid: what the grid update and the grid extension use to keep a
 * layer's function while its knots move (pykan's `coef2curve` and
 * `curve2coef`, on the banded collocation matrix).
 *
 * @module
 */

import { bsplineReference } from "../basis/bspline.ts";
import { KanError } from "../errors.ts";
import { type BandedRows, leastSquares } from "../layers/init.ts";

/**
 * The index `s` of the knot interval `[knots[s], knots[s + 1])` holding `x`
 * (half-open, as the WGSL), or -1 outside the knots.
 */
function intervalOf(knots: ArrayLike<number>, x: number): number {
  const n = knots.length;
  if (!(x >= knots[0] && x < knots[n - 1])) return -1;
  let lo = 0;
  let hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (knots[mid] <= x) lo = mid;
    else hi = mid;
  }
  return lo;
}

/**
 * The non-zero B-splines of order `order` on `knots` at `x`: `first` (the
 * first basis index, clamped at 0) and `values[t]` = `B_{first + t}(x)` for
 * `t <= order` (0 past the last basis). Zero everywhere outside the knots.
 */
export function basisWindow(
  knots: ArrayLike<number>,
  order: number,
  x: number,
  values: Float64Array,
): number {
  values.fill(0);
  const count = knots.length - order - 1;
  const s = intervalOf(knots, x);
  if (s < 0) return 0;
  const first = Math.max(0, s - order);
  for (let t = 0; t <= order; t++) {
    const j = first + t;
    if (j > s || j >= count) break;
    values[t] = bsplineReference(knots, 0, order, j, x)[0];
  }
  return first;
}

/**
 * `sum_j coef[r, j] B_j(x)` for each of `rows` coefficient rows (`coef` is
 * `rows x count`, row `r` at `coef[offset + r * stride ..]`) at every `x`:
 * `[xs.length, rows]` in float64.
 */
export function splineCurves(
  knots: ArrayLike<number>,
  order: number,
  coef: ArrayLike<number>,
  rows: number,
  rowOffset: (r: number) => number,
  xs: ArrayLike<number>,
): Float64Array {
  const out = new Float64Array(xs.length * rows);
  const window = new Float64Array(order + 1);
  const count = knots.length - order - 1;
  for (let n = 0; n < xs.length; n++) {
    const first = basisWindow(knots, order, xs[n], window);
    for (let r = 0; r < rows; r++) {
      const at = rowOffset(r);
      let sum = 0;
      for (let t = 0; t <= order && first + t < count; t++) sum += coef[at + first + t] * window[t];
      out[n * rows + r] = sum;
    }
  }
  return out;
}

/**
 * The least-squares coefficients (`count x rhs`, row-major) on `knots` of the
 * curves `y` (`[xs.length, rhs]`) sampled at the ascending `xs`, in float64
 * (pykan's `curve2coef`); `where` names the input in a {@linkcode KanError}
 * when the collocation matrix is singular (too few distinct samples in some
 * basis function's support).
 */
export function fitSpline(
  where: string,
  knots: ArrayLike<number>,
  order: number,
  xs: ArrayLike<number>,
  y: Float64Array,
  rhs: number,
): Float64Array {
  const count = knots.length - order - 1;
  const width = order + 1;
  const a: BandedRows = {
    rows: xs.length,
    cols: count,
    width,
    first: new Int32Array(xs.length),
    values: new Float64Array(xs.length * width),
  };
  const window = new Float64Array(width);
  for (let n = 0; n < xs.length; n++) {
    a.first[n] = basisWindow(knots, order, xs[n], window);
    a.values.set(window, n * width);
  }
  let coef: Float64Array;
  try {
    coef = leastSquares(a, y, rhs);
  } catch (cause) {
    throw new KanError(
      `${where}: the spline refit is singular (some basis function has no sample in its support)`,
      { cause },
    );
  }
  if (!coef.every(Number.isFinite)) {
    throw new KanError(`${where}: the spline refit gave non-finite coefficients (an ill-posed fit)`);
  }
  return coef;
}
