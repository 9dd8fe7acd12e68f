/**
 * Axis permutations between a parameter's shape in the reference's state
 * dict and the layout the layer kernels read (`[out, in * nBasis]`), applied
 * where values cross the state-dict boundary (`stateDict`, `gradDict`,
 * `loadStateDict`), so that the kernels stay unchanged and the user sees the
 * original's layout only.
 *
 * @module
 */

/**
 * The row-major data of `data` (of shape `shape`) permuted as torch's
 * `tensor.permute(axes).contiguous()`: result axis `r` is input axis `axes[r]`.
 *
 * @example
 * ```ts
 * import { permute } from "./layout.ts";
 * // A [2, 3] matrix transposed.
 * console.log(permute(Float32Array.of(1, 2, 3, 4, 5, 6), [2, 3], [1, 0])); // 1 4 2 5 3 6
 * ```
 */
export function permute(
  data: Float32Array,
  shape: readonly number[],
  axes: readonly number[],
): Float32Array<ArrayBuffer>;
/** The same for float64 data. */
export function permute(
  data: Float64Array,
  shape: readonly number[],
  axes: readonly number[],
): Float64Array<ArrayBuffer>;
export function permute(
  data: Float32Array | Float64Array,
  shape: readonly number[],
  axes: readonly number[],
): Float32Array<ArrayBuffer> | Float64Array<ArrayBuffer> {
  const rank = shape.length;
  const strides = new Array<number>(rank);
  for (let a = rank - 1, s = 1; a >= 0; a--) {
    strides[a] = s;
    s *= shape[a];
  }
  const outShape = axes.map((a) => shape[a]);
  const outStrides = axes.map((a) => strides[a]);
  const out = data instanceof Float32Array ? new Float32Array(data.length) : new Float64Array(data.length);
  const index = new Array<number>(rank).fill(0);
  for (let k = 0; k < data.length; k++) {
    let src = 0;
    for (let r = 0; r < rank; r++) src += index[r] * outStrides[r];
    out[k] = data[src];
    for (let r = rank - 1; r >= 0; r--) {
      if (++index[r] < outShape[r]) break;
      index[r] = 0;
    }
  }
  return out;
}

/** The permutation that undoes `axes`. */
export function inverseAxes(axes: readonly number[]): number[] {
  const inverse = new Array<number>(axes.length);
  axes.forEach((a, r) => inverse[a] = r);
  return inverse;
}
