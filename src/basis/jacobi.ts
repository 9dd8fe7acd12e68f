/**
 * Jacobi polynomials `P_j^(a,b)` of `tanh x` (JacobiKAN), by JacobiKAN's
 * three-term recurrence, with the derivative carried through the same
 * recurrence. Legendre polynomials are `a = b = 0`, Chebyshev's of the second
 * kind (up to scale) `a = b = 1/2`.
 *
 * @module
 */

import { type Basis, noParamGradient } from "./basis.ts";
import { loopTrips } from "../gpu/loop_trips.ts";
import source from "../../shaders/basis/jacobi.wgsl" with { type: "text" };

/**
 * `P_j^(a,b)(t)` and `dP_j/dt` by JacobiKAN's recurrence.
 *
 * @example
 * ```ts
 * import { jacobiPolynomial } from "./jacobi.ts";
 * console.log(jacobiPolynomial(2, 0.5, 0, 0)); // Legendre P_2(0.5) = -0.125, derivative 1.5
 * ```
 */
export function jacobiPolynomial(j: number, t: number, a: number, b: number): { p: number; dp: number } {
  if (j === 0) return { p: 1, dp: 0 };
  let [p0, d0] = [1, 0];
  let [p1, d1] = [((a - b) + (a + b + 2) * t) / 2, (a + b + 2) / 2];
  for (let n = 2; n <= j; n++) {
    const s = 2 * n + a + b;
    const tk = s * (s - 1) / (2 * n * (n + a + b));
    const tk1 = (s - 1) * (a * a - b * b) / (2 * n * (n + a + b) * (s - 2));
    const tk2 = (n + a - 1) * (n + b - 1) * s / (n * (n + a + b) * (s - 2));
    [p0, d0, p1, d1] = [p1, d1, (tk * t + tk1) * p1 - tk2 * p0, tk * p1 + (tk * t + tk1) * d1 - tk2 * d0];
  }
  return { p: p1, dp: d1 };
}

/**
 * `P_0 .. P_degree` of `tanh x` with parameters `a`, `b` (both > -1); no basis data.
 *
 * @example
 * ```ts
 * import { jacobiBasis } from "./jacobi.ts";
 * const legendre = jacobiBasis(3, 0, 0);
 * console.log(legendre.value(0, 1, 0.5, [], 1)); // tanh(0.5)
 * ```
 */
export function jacobiBasis(degree: number, a: number, b: number): Basis {
  const t = (x: number) => Math.tanh(Math.max(-15, Math.min(15, x)));
  const trips = loopTrips(Math.max(0, degree - 1));
  return {
    name: "jacobi",
    source,
    count: degree + 1,
    constants: { JACOBI_A: a, JACOBI_B: b },
    paramCount: 0,
    loopTrips: { value: trips, dx: trips, dparam: 0, range: 0 },
    value: (_i, j, x) => jacobiPolynomial(j, t(x), a, b).p,
    dx(_i, j, x) {
      const tx = t(x);
      return jacobiPolynomial(j, tx, a, b).dp * (1 - tx * tx);
    },
    dparam: noParamGradient,
  };
}
