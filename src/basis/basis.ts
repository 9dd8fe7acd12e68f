/**
 * What every basis of the KAN family provides: WGSL functions that the one
 * shared layer kernel calls, and a float64 reference of the same functions.
 *
 * All members compute `y = sum_i sum_j c[o, i, j] * phi_j(x_i)`; only `phi`
 * changes. A basis is `phi`: its value, its derivative with respect to `x`, and
 * its derivative with respect to its own trainable parameters, if any.
 *
 * @module
 */

/**
 * One basis family member. `data` is the basis's own parameter block (a
 * grid, centers or phases) in the layout that its WGSL file reads as
 * `basis_data`; `inDim` is the layer's input width.
 */
export interface Basis {
  /** Short name, used in kernel names, e.g. `"bspline"`. */
  readonly name: string;
  /** WGSL defining `BASIS_PARAMS`, `basis_value`, `basis_dx` and `basis_dparam`. */
  readonly source: string;
  /** Number of basis functions per input (`NB`). */
  readonly count: number;
  /** Values of the WGSL file's `override` constants (besides `NB`). */
  readonly constants: Readonly<Record<string, number>>;
  /** How many trainable parameter blocks of shape `[in, count]` `data` holds (0 or more). */
  readonly paramCount: number;
  /** The most functions that are non-zero at any one input (`count` when left out: no local support). */
  readonly support?: number;
  /**
   * The most loop iterations one call of each WGSL function makes (none when
   * left out), for the loop-trip budget of the kernels (`src/gpu/loop_trips.ts`).
   */
  readonly loopTrips?: BasisLoopTrips;
  /** Float64 reference of `phi_j(x)` for input `i`. */
  value(i: number, j: number, x: number, data: ArrayLike<number>, inDim: number): number;
  /** Float64 reference of `d phi_j(x) / dx`. */
  dx(i: number, j: number, x: number, data: ArrayLike<number>, inDim: number): number;
  /** Float64 reference of `d phi_j(x) / d data[q * inDim * count + i * count + j]`. */
  dparam(i: number, j: number, x: number, q: number, data: ArrayLike<number>, inDim: number): number;
}

/** The most loop iterations of one call of each WGSL function of a basis. */
export interface BasisLoopTrips {
  /** `basis_value`. */
  value: number;
  /** `basis_dx`. */
  dx: number;
  /** `basis_dparam`. */
  dparam: number;
  /** `basis_range`. */
  range: number;
}

/** The loop trips of a basis, zeros where it has no loops. */
export function basisLoopTrips(basis: Basis): BasisLoopTrips {
  return basis.loopTrips ?? { value: 0, dx: 0, dparam: 0, range: 0 };
}

/** `dparam` of bases without trainable parameters. */
export function noParamGradient(): number {
  return 0;
}
