/**
 * One-function bases, which turn the shared layer kernel into a dense layer:
 * the identity (the MLP's `Linear`) and SiLU (the KAN base branch,
 * `SiLU(x) W_base^T`).
 *
 * @module
 */

import { type Basis, noParamGradient } from "./basis.ts";
import identitySource from "../../shaders/basis/identity.wgsl" with { type: "text" };
import siluSource from "../../shaders/basis/silu.wgsl" with { type: "text" };

/** `phi(x) = x`. */
export const identityBasis: Basis = {
  name: "identity",
  source: identitySource,
  count: 1,
  constants: {},
  paramCount: 0,
  value: (_i, _j, x) => x,
  dx: () => 1,
  dparam: noParamGradient,
};

/** The logistic sigmoid. */
export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** `phi(x) = x * sigmoid(x)`. */
export const siluBasis: Basis = {
  name: "silu",
  source: siluSource,
  count: 1,
  constants: {},
  paramCount: 0,
  value: (_i, _j, x) => x * sigmoid(x),
  dx: (_i, _j, x) => {
    const s = sigmoid(x);
    return s * (1 + x * (1 - s));
  },
  dparam: noParamGradient,
};
