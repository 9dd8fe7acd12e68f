/**
 * Per-edge functions: `phi(x; theta[o, i])`, a function of one input whose
 * parameters belong to the edge (input `i`, output `o`) rather than to the
 * input, so that the layer is `y[b, o] = sum_i phi(x[b, i]; theta[., o, i])`.
 * Wav-KAN's `w * psi((x - t) / s)` is one; pykan's symbolic edges
 * `c * f(a x + b) + d` are another. They do not factor as "a basis of the
 * input times a coefficient", so they have their own entry points of the layer
 * kernels (`src/layers/edge_linear.ts`), with the same split-K and loop-budget
 * rules; an edge function gives its value, its derivative in `x` and its
 * derivatives in every parameter, in WGSL and in float64.
 *
 * @module
 */

/**
 * One per-edge function. Its parameters are `planes` planes of shape
 * `[out, in]`, stored one after another (`theta[q * out * in + o * in + i]`),
 * in the order of the layer's state dict.
 */
export interface EdgeFunction {
  /** Short name, used in kernel names, e.g. `"wavelet_mexican_hat"`. */
  readonly name: string;
  /**
   * WGSL defining `EDGE_PLANES` (planes), `EDGE_DERIVS` (`EDGE_PLANES + 1`),
   * `edge_value(x, th, i, n_in) -> f32` and `edge_derivs(x, th, i, n_in) ->
   * array<f32, EDGE_DERIVS>` (`d/dx`, then `d/dtheta_q` for each plane), with
   * `th: array<f32, EDGE_PLANES>` the edge's parameters.
   */
  readonly source: string;
  /** Values of the WGSL file's `override` constants. */
  readonly constants: Readonly<Record<string, number>>;
  /** Parameter planes per edge. */
  readonly planes: number;
  /** The most loop iterations of one call of `edge_value` or `edge_derivs` (0 when left out). */
  readonly loopTrips?: number;
  /** Float64 reference of `phi(x; th)` on input `i` of `inDim`. */
  value(x: number, th: ArrayLike<number>, i: number, inDim: number): number;
  /** Float64 reference of `[d phi / dx, d phi / d th_0, ...]`. */
  derivs(x: number, th: ArrayLike<number>, i: number, inDim: number): number[];
}
