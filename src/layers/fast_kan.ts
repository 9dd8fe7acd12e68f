/**
 * `FastKAN` (fast-kan `FastKANLayer`, arXiv 2405.06721): LayerNorm, Gaussian
 * radial bases, a linear map, plus a SiLU base branch on the raw input.
 *
 * @module
 */

import type { Basis } from "../basis/basis.ts";
import { gaussianRbfBasis } from "../basis/gaussian_rbf.ts";
import { KanError } from "../errors.ts";
import type { Gpu } from "../gpu/gpu.ts";
import { Rng, torchDefaultInit, truncNormal } from "./init.ts";
import { checkNumber, checkOptions } from "./layer.ts";
import { NormalizedBasisLayer, type NormalizedBasisParameters } from "./normalized_basis_layer.ts";
import { Parameter } from "./parameter.ts";

/** Options of {@linkcode FastKAN}, with fast-kan's defaults. */
export interface FastKANOptions {
  /** First center (default -2). */
  gridMin?: number;
  /** Last center (default 2). */
  gridMax?: number;
  /** Number of Gaussians (default 8). */
  numGrids?: number;
  /** Width `h` (default `(gridMax - gridMin) / (numGrids - 1)`). */
  denominator?: number;
  /** Add the SiLU base branch (default true). */
  useBaseUpdate?: boolean;
  /** Normalize the input (default true). A LayerNorm over one feature outputs zeros, so it needs `in >= 2`. */
  useLayerNorm?: boolean;
  /** Std of the truncated-normal init of `spline_linear.weight` (default 0.1). */
  splineWeightInitScale?: number;
  /** Seed of the initialization (default 0). */
  seed?: number;
}

const OPTION_NAMES = [
  "gridMin",
  "gridMax",
  "numGrids",
  "denominator",
  "useBaseUpdate",
  "useLayerNorm",
  "splineWeightInitScale",
  "seed",
] as const;

/** `numGrids` centers evenly from `lo` to `hi` (torch.linspace in float32). */
export function linspace(lo: number, hi: number, n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, j) => n === 1 ? lo : lo + (hi - lo) * j / (n - 1));
}

/**
 * The input LayerNorm's `layernorm.weight` (ones) and `layernorm.bias` (zeros),
 * or null when `use` is false. Throws where a LayerNorm is meaningless: over one
 * feature it outputs zeros whatever the input.
 */
export function layerNormParameters(
  gpu: Gpu,
  kind: string,
  inFeatures: number,
  use: boolean,
): NormalizedBasisParameters["layerNorm"] {
  if (!use) return null;
  if (inFeatures < 2) {
    throw new KanError(
      `${kind}: a LayerNorm over ${inFeatures} feature outputs zeros whatever the input; ` +
        `use inFeatures >= 2 or useLayerNorm: false`,
    );
  }
  return {
    weight: Parameter.of(gpu, "layernorm.weight", [inFeatures], new Float32Array(inFeatures).fill(1)),
    bias: Parameter.of(gpu, "layernorm.bias", [inFeatures], new Float32Array(inFeatures)),
  };
}

/**
 * A FastKAN layer.
 *
 * @example
 * ```ts
 * import { FastKAN, Gpu, Tensor } from "../../mod.ts";
 * const gpu = await Gpu.request();
 * const layer = new FastKAN(gpu, 2, 3);
 * console.log(await layer.forward(Tensor.from(gpu, [0.1, -0.4], [1, 2])).read());
 * gpu.destroy();
 * ```
 */
export class FastKAN extends NormalizedBasisLayer {
  /** The options in force (defaults filled in). */
  readonly options: Readonly<Required<Omit<FastKANOptions, "seed">>>;
  protected readonly parts: NormalizedBasisParameters;
  #basis: Basis;

  /** See {@linkcode FastKANOptions}. */
  constructor(gpu: Gpu, inFeatures: number, outFeatures: number, options: FastKANOptions = {}) {
    super(gpu, inFeatures, outFeatures, "FastKAN");
    checkOptions("FastKAN", options, OPTION_NAMES);
    const gridMin = checkNumber("FastKAN", "gridMin", options.gridMin ?? -2);
    const gridMax = checkNumber("FastKAN", "gridMax", options.gridMax ?? 2);
    const numGrids = options.numGrids ?? 8;
    if (!Number.isInteger(numGrids) || numGrids < 1) {
      throw new KanError(`FastKAN: option "numGrids" must be an integer >= 1, got ${numGrids}`);
    }
    const denominator = checkNumber(
      "FastKAN",
      "denominator",
      options.denominator ?? (gridMax - gridMin) / (numGrids - 1),
      true,
    );
    this.#basis = gaussianRbfBasis(numGrids, denominator);
    const rng = new Rng(options.seed ?? 0);
    const scale = checkNumber("FastKAN", "splineWeightInitScale", options.splineWeightInitScale ?? 0.1);
    const useBaseUpdate = options.useBaseUpdate ?? true;
    const useLayerNorm = options.useLayerNorm ?? true;
    this.options = {
      gridMin,
      gridMax,
      numGrids,
      denominator,
      useBaseUpdate,
      useLayerNorm,
      splineWeightInitScale: scale,
    };
    const spline = truncNormal(rng, outFeatures * inFeatures * numGrids, scale);
    const base = torchDefaultInit(rng, outFeatures, inFeatures);
    this.parts = {
      layerNorm: layerNormParameters(gpu, "FastKAN", inFeatures, useLayerNorm),
      grid: Parameter.of(gpu, "rbf.grid", [numGrids], linspace(gridMin, gridMax, numGrids), false),
      spline: Parameter.of(gpu, "spline_linear.weight", [outFeatures, inFeatures * numGrids], spline),
      base: useBaseUpdate
        ? {
          weight: Parameter.of(gpu, "base_linear.weight", [outFeatures, inFeatures], base.weight),
          bias: Parameter.of(gpu, "base_linear.bias", [outFeatures], base.bias),
        }
        : null,
      extra: [],
    };
  }

  /** The Gaussian RBF basis. */
  get basis(): Basis {
    return this.#basis;
  }
}
