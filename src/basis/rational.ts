/**
 * KAT's group-rational function (Adamdad/rational_kat_cu `KAT_Group`, the
 * math of its CUDA and Triton kernels): `phi(x) = P(x) / Q(x)` with
 * `P(x) = a_0 + a_1 x + ... + a_5 x^5` and
 * `Q(x) = 1 + |b_0| |x| + |b_1| |x|^2 + |b_2| |x|^3 + |b_3| |x|^4`, the
 * numerator `a` shared by every input and the denominator `b` of the input's
 * group. One function per input (`count` 1); its trainable parameters are the
 * layer's `weight_numerator` `[1, 6]` followed by `weight_denominator`
 * `[groups, 4]`, the basis's `data`.
 *
 * @module
 */

import type { Basis } from "./basis.ts";
import source from "../../shaders/basis/rational.wgsl" with { type: "text" };

/** Numerator coefficients per function (degree 5). */
export const NUMERATOR_LENGTH = 6;
/** Denominator coefficients per group (degree 4, no constant term). */
export const DENOMINATOR_LENGTH = 4;
/** The per-input parameter derivatives the basis gives: the 6 numerator coefficients, then the group's 4 denominator ones. */
export const RATIONAL_PARAMS: number = NUMERATOR_LENGTH + DENOMINATOR_LENGTH;

/** The initializations KAT ships (`mode`): its fitted coefficients for the identity, GELU and SiLU (`"swish"`). */
export type RationalMode = "identity" | "gelu" | "swish";

/** The modes of {@linkcode RationalMode}. */
export const RATIONAL_MODES: readonly RationalMode[] = ["identity", "gelu", "swish"];

/**
 * KAT's initial coefficients, `init_w_numerator` and `init_w_denominator` of
 * `kat_rational/init.json` in Adamdad/rational_kat_cu (commit 181bae8), fitted
 * there by least squares on [-3, 3]; rounded to float32 as `KAT_Group` does.
 */
const INIT: Record<RationalMode, { numerator: number[]; denominator: number[] }> = {
  identity: { numerator: [0, 1, 0, 0, 0, 0], denominator: [0, 0, 0, 0] },
  gelu: {
    numerator: [-0.00153969, 0.51692871, 0.44075827, 0.0972553, -0.00884418, -0.00378675],
    denominator: [-0.14171056, -0.06481231, -0.0444695, 0.01283776],
  },
  swish: {
    numerator: [
      3.054879741161051e-07,
      0.5000007853744493,
      0.24999783422824703,
      0.05326628273219478,
      0.005803034571292244,
      0.0002751961022402342,
    ],
    denominator: [
      -4.111554955950634e-06,
      0.10652899335007572,
      -1.2690007399796238e-06,
      0.0005502331264140556,
    ],
  },
};

/**
 * The parameter block of `groups` groups initialized as `mode`: the numerator
 * (6 floats), then the denominator repeated for every group (`4 * groups`).
 *
 * @example
 * ```ts
 * import { rationalInit } from "./rational.ts";
 * console.log(rationalInit("identity", 2)); // Float32Array [0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
 * ```
 */
export function rationalInit(mode: RationalMode, groups: number): Float32Array {
  const { numerator, denominator } = INIT[mode];
  const data = new Float32Array(NUMERATOR_LENGTH + DENOMINATOR_LENGTH * groups);
  data.set(numerator, 0);
  for (let g = 0; g < groups; g++) data.set(denominator, NUMERATOR_LENGTH + DENOMINATOR_LENGTH * g);
  return data;
}

/** `+1` for `v >= 0` (zero included, as the original's kernels take it), else `-1`. */
function signOf(v: number): number {
  return v < 0 ? -1 : 1;
}

/** `P`, `Q` and their derivatives at `x` for input `i`, in float64. */
function parts(i: number, x: number, data: ArrayLike<number>, groupSize: number) {
  const d = NUMERATOR_LENGTH + Math.floor(i / groupSize) * DENOMINATOR_LENGTH;
  const ax = Math.abs(x);
  let p = 0;
  let dp = 0;
  for (let k = NUMERATOR_LENGTH - 1; k >= 0; k--) {
    p = p * x + data[k];
    if (k > 0) dp = dp * x + k * data[k];
  }
  let q = 0;
  let dq = 0;
  for (let k = DENOMINATOR_LENGTH - 1; k >= 0; k--) {
    q = q * ax + Math.abs(data[d + k]);
    dq = dq * ax + (k + 1) * Math.abs(data[d + k]);
  }
  return { p, q: 1 + q * ax, dp, dq: signOf(x) * dq, d, ax };
}

/**
 * The group-rational basis of a layer whose inputs form groups of
 * `groupSize` consecutive inputs. `dparam(i, 0, x, q)` is the derivative with
 * respect to numerator coefficient `a_q` (`q < 6`) or to coefficient
 * `b_{q - 6}` of input `i`'s group: the layer sums it over the inputs sharing
 * each coefficient.
 *
 * @example
 * ```ts
 * import { rationalBasis, rationalInit } from "./rational.ts";
 * const basis = rationalBasis(4);
 * const identity = rationalInit("identity", 1);
 * console.log(basis.value(0, 0, -0.5, identity, 4)); // -0.5
 * ```
 */
export function rationalBasis(groupSize: number): Basis {
  return {
    name: "rational",
    source,
    count: 1,
    constants: { GROUP_SIZE: groupSize },
    paramCount: RATIONAL_PARAMS,
    value(i, _j, x, data) {
      const r = parts(i, x, data, groupSize);
      return r.p / r.q;
    },
    dx(i, _j, x, data) {
      const r = parts(i, x, data, groupSize);
      return r.dp / r.q - r.dq * r.p / (r.q * r.q);
    },
    dparam(i, _j, x, q, data) {
      const r = parts(i, x, data, groupSize);
      if (q < NUMERATOR_LENGTH) return x ** q / r.q;
      const k = q - NUMERATOR_LENGTH;
      return -r.p / (r.q * r.q) * signOf(data[r.d + k]) * r.ax ** (k + 1);
    },
  };
}
