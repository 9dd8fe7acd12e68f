/**
 * Gaussian radial bases `exp(-((x - u_j) / h)^2)` (FastKAN, arXiv 2405.06721).
 *
 * @module
 */

import { type Basis, noParamGradient } from "./basis.ts";
import source from "../../shaders/basis/gaussian_rbf.wgsl" with { type: "text" };

/** `numGrids` Gaussians of width `denominator`; `data` is the centers `[numGrids]`. */
export function gaussianRbfBasis(numGrids: number, denominator: number): Basis {
  return {
    name: "gaussian_rbf",
    source,
    count: numGrids,
    constants: { DENOMINATOR: denominator },
    paramCount: 0,
    value(_i, j, x, data) {
      const t = (x - data[j]) / denominator;
      return Math.exp(-t * t);
    },
    dx(_i, j, x, data) {
      const t = (x - data[j]) / denominator;
      return -2 * t / denominator * Math.exp(-t * t);
    },
    dparam: noParamGradient,
  };
}
