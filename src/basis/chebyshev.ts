/**
 * Chebyshev polynomials of `tanh x` (ChebyKAN): `T_j(tanh x) = cos(j θ)` with
 * `θ = acos(tanh x) = 2 atan(exp(-x))`, and their exact derivative
 * `j sin(j θ) sin θ` (this float64 reference). ChebyKAN's autograd through
 * `acos` returns NaN where float32 `tanh x` is exactly ±1 (|x| above about 9);
 * the derivative here is the true one, about 0 there. The WGSL file computes
 * the same by the recurrence `T_{j+1} = 2t T_j - T_{j-1}` (exactly 0 there),
 * which needs only `tanh`: the GPU's `acos` and `cos` cost up to 5e-5 relative.
 *
 * @module
 */

import { type Basis, noParamGradient } from "./basis.ts";
import { loopTrips } from "../gpu/loop_trips.ts";
import source from "../../shaders/basis/chebyshev.wgsl" with { type: "text" };

/** `acos(tanh x)`, computed without rounding `tanh x` first. */
export function chebyshevAngle(x: number): number {
  return 2 * Math.atan(Math.exp(-Math.max(-30, Math.min(30, x))));
}

/**
 * `T_0 .. T_degree` of `tanh x`; no basis data.
 *
 * @example
 * ```ts
 * import { chebyshevBasis } from "./chebyshev.ts";
 * const basis = chebyshevBasis(3);
 * console.log(basis.value(0, 2, 0.5, [], 1)); // 2 tanh(0.5)^2 - 1
 * ```
 */
export function chebyshevBasis(degree: number): Basis {
  const trips = loopTrips(Math.max(0, degree - 1));
  return {
    name: "chebyshev",
    source,
    count: degree + 1,
    constants: {},
    paramCount: 0,
    loopTrips: { value: trips, dx: trips, dparam: 0, range: 0 },
    value: (_i, j, x) => Math.cos(j * chebyshevAngle(x)),
    dx(_i, j, x) {
      const theta = chebyshevAngle(x);
      return j * Math.sin(j * theta) * Math.sin(theta);
    },
    dparam: noParamGradient,
  };
}
