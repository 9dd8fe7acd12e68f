/**
 * Fourier terms (FourierKAN): `cos(k x)` then `sin(k x)` for `k = 1 .. G`,
 * `2 G` functions per input, with their exact derivatives.
 *
 * @module
 */

import { type Basis, noParamGradient } from "./basis.ts";
import source from "../../shaders/basis/fourier.wgsl" with { type: "text" };

/**
 * `cos(x) .. cos(G x), sin(x) .. sin(G x)` for `G = gridsize`; no basis data.
 *
 * @example
 * ```ts
 * import { fourierBasis } from "./fourier.ts";
 * const basis = fourierBasis(2);
 * console.log(basis.count, basis.value(0, 3, 0.5, [], 1)); // 4, sin(2 * 0.5)
 * ```
 */
export function fourierBasis(gridsize: number): Basis {
  const g = gridsize;
  return {
    name: "fourier",
    source,
    count: 2 * g,
    constants: {},
    paramCount: 0,
    value(_i, j, x) {
      const k = j % g + 1;
      return j < g ? Math.cos(k * x) : Math.sin(k * x);
    },
    dx(_i, j, x) {
      const k = j % g + 1;
      return j < g ? -k * Math.sin(k * x) : k * Math.cos(k * x);
    },
    dparam: noParamGradient,
  };
}
