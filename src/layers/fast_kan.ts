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
import {
  BOOLEAN,
  check,
  checkOptions,
  COUNT,
  FINITE,
  NON_NEGATIVE,
  option,
  POSITIVE,
  SEED,
} from "../validate.ts";
import { NormalizedBasisLayer, type NormalizedBasisParameters } from "./normalized_basis_layer.ts";
import { Parameter } from "./parameter.ts";
import { flattenParameters } from "./flat_parameters.ts";

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

/** The options {@linkcode FastKAN} takes. */
export const FAST_KAN_OPTIONS: readonly string[] = [
  "gridMin",
  "gridMax",
  "numGrids",
  "denominator",
  "useBaseUpdate",
  "useLayerNorm",
  "splineWeightInitScale",
  "seed",
];

/** `numGrids` centers evenly from `lo` to `hi` (torch.linspace in float32). */
export function linspace(lo: number, hi: number, n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, j) => n === 1 ? lo : lo + (hi - lo) * j / (n - 1));
}

/**
 * The options `gridMin` and `gridMax` (defaults `lo`, `hi`): finite float32
 * numbers with `gridMin < gridMax`.
 */
export function gridRangeOptions(
  kind: string,
  options: { gridMin?: number; gridMax?: number },
  lo: number,
  hi: number,
): [number, number] {
  const gridMin = option(kind, options, "gridMin", FINITE, lo);
  const gridMax = option(kind, options, "gridMax", FINITE, hi);
  if (!(gridMin < gridMax)) {
    throw new KanError(`${kind}: option "gridMin" (${gridMin}) must be less than "gridMax" (${gridMax})`);
  }
  return [gridMin, gridMax];
}

/** Throws where a LayerNorm is meaningless: over one feature it outputs zeros whatever the input. */
export function checkLayerNorm(kind: string, inFeatures: number, use: boolean): void {
  if (use && inFeatures < 2) {
    throw new KanError(
      `${kind}: a LayerNorm over ${inFeatures} feature outputs zeros whatever the input; ` +
        `use inFeatures >= 2 or useLayerNorm: false`,
    );
  }
}

/**
 * The input LayerNorm's `layernorm.weight` (ones) and `layernorm.bias` (zeros),
 * or null when `use` is false (checked by {@linkcode checkLayerNorm} first).
 */
export function layerNormParameters(
  gpu: Gpu,
  inFeatures: number,
  use: boolean,
): NormalizedBasisParameters["layerNorm"] {
  if (!use) return null;
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
  /** Its LayerNorm, basis weights and base branch, as the shared normalized-basis layer reads them. */
  protected readonly parts: NormalizedBasisParameters;
  #basis: Basis;

  /** See {@linkcode FastKANOptions}. */
  constructor(gpu: Gpu, inFeatures: number, outFeatures: number, options: FastKANOptions = {}) {
    super(gpu, inFeatures, outFeatures, "FastKAN");
    const kind = this.kind;
    checkOptions(kind, options, FAST_KAN_OPTIONS);
    const [gridMin, gridMax] = gridRangeOptions(kind, options, -2, 2);
    const numGrids = option(kind, options, "numGrids", COUNT, 8);
    const denominator = check(
      `${kind}: option "denominator"${
        options.denominator === undefined ? " (default (gridMax - gridMin) / (numGrids - 1))" : ""
      }`,
      options.denominator ?? (gridMax - gridMin) / (numGrids - 1),
      POSITIVE,
    );
    const scale = option(kind, options, "splineWeightInitScale", NON_NEGATIVE, 0.1);
    const useBaseUpdate = option(kind, options, "useBaseUpdate", BOOLEAN, true);
    const useLayerNorm = option(kind, options, "useLayerNorm", BOOLEAN, true);
    const seed = option(kind, options, "seed", SEED, 0);
    this.checkParameterSize("spline_linear.weight", [outFeatures, inFeatures * numGrids]);
    checkLayerNorm(kind, inFeatures, useLayerNorm);
    this.#basis = gaussianRbfBasis(numGrids, denominator);
    const rng = new Rng(seed);
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
      layerNorm: layerNormParameters(gpu, inFeatures, useLayerNorm),
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
    flattenParameters(gpu, this.parameters());
  }

  /** The Gaussian RBF basis. */
  get basis(): Basis {
    return this.#basis;
  }
}
