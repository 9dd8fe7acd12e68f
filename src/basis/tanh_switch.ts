/**
 * Reflectional switch bases `1 - tanh((x - u_j) * invDenominator)^2`
 * (FasterKAN), with their exact derivative.
 *
 * @module
 */

import { type Basis, noParamGradient } from "./basis.ts";
import source from "../../shaders/basis/tanh_switch.wgsl" with { type: "text" };

/** `numGrids` switches of inverse width `invDenominator`; `data` is the centers `[numGrids]`. */
export function tanhSwitchBasis(numGrids: number, invDenominator: number): Basis {
  return {
    name: "tanh_switch",
    source,
    count: numGrids,
    constants: { INV_DENOMINATOR: invDenominator },
    paramCount: 0,
    value(_i, j, x, data) {
      const th = Math.tanh((x - data[j]) * invDenominator);
      return 1 - th * th;
    },
    dx(_i, j, x, data) {
      const th = Math.tanh((x - data[j]) * invDenominator);
      return -2 * th * (1 - th * th) * invDenominator;
    },
    dparam: noParamGradient,
  };
}
