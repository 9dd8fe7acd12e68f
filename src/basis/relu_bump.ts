/**
 * ReLU-KAN bases `(ReLU(e - x) * ReLU(x - s) * r)^2` (arXiv 2406.02075) with
 * trainable phases `s` (phase_low) and `e` (phase_height), and the fixed
 * `r = 4 g^2 / (k + 1)^2` of the reference.
 *
 * @module
 */

import type { Basis } from "./basis.ts";
import source from "../../shaders/basis/relu_bump.wgsl" with { type: "text" };

/** The reference's initial phases for one input: `s = arange(-k, g) / g`, `e = s + (k + 1) / g`. */
export function reluPhases(g: number, k: number): { low: Float32Array; high: Float32Array } {
  const low = new Float32Array(g + k);
  const high = new Float32Array(g + k);
  for (let j = 0; j < g + k; j++) {
    low[j] = (j - k) / g;
    high[j] = (j - k) / g + (k + 1) / g;
  }
  return { low, high };
}

/** `g + k` bumps per input; `data` is phase_low `[in, g + k]` then phase_height `[in, g + k]`. */
export function reluBumpBasis(g: number, k: number): Basis {
  const count = g + k;
  const r = Math.fround(4 * g * g / ((k + 1) * (k + 1)));
  const parts = (i: number, j: number, x: number, data: ArrayLike<number>, inDim: number) => {
    const a = Math.max(x - data[i * count + j], 0);
    const c = Math.max(data[(inDim + i) * count + j] - x, 0);
    return { a, c, q: a * c * r };
  };
  return {
    name: "relu_bump",
    source,
    count,
    constants: { R: r },
    paramCount: 2,
    value(i, j, x, data, inDim) {
      const { q } = parts(i, j, x, data, inDim);
      return q * q;
    },
    dx(i, j, x, data, inDim) {
      const { a, c, q } = parts(i, j, x, data, inDim);
      return 2 * q * r * ((a > 0 ? c : 0) - (c > 0 ? a : 0));
    },
    dparam(i, j, x, q, data, inDim) {
      const b = parts(i, j, x, data, inDim);
      return q === 0 ? -2 * b.q * r * (b.a > 0 ? b.c : 0) : 2 * b.q * r * (b.c > 0 ? b.a : 0);
    },
  };
}
