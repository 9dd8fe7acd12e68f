/**
 * `FasterKAN` (faster-kan `FasterKANLayer`): LayerNorm, reflectional switch
 * bases `1 - tanh((x - u_j) * invDenominator)^2` with their exact derivative,
 * and a linear map.
 *
 * @module
 */

import type { Basis } from "../basis/basis.ts";
import { tanhSwitchBasis } from "../basis/tanh_switch.ts";
import type { Gpu } from "../gpu/gpu.ts";
import { checkLayerNorm, gridRangeOptions, layerNormParameters, linspace } from "./fast_kan.ts";
import { Rng, xavierUniform } from "./init.ts";
import { BOOLEAN, check, checkOptions, COUNT, option, POSITIVE, SEED } from "../validate.ts";
import { NormalizedBasisLayer, type NormalizedBasisParameters } from "./normalized_basis_layer.ts";
import { Parameter, type StateDict } from "./parameter.ts";
import { flattenParameters } from "./flat_parameters.ts";

/** Options of {@linkcode FasterKAN}, with faster-kan's defaults. */
export interface FasterKANOptions {
  /** First center (default -1.2). */
  gridMin?: number;
  /** Last center (default 1.2). */
  gridMax?: number;
  /** Number of switches (default 8). */
  numGrids?: number;
  /** Inverse width (default 0.5); the state dict's `rbf.inv_denominator`, not trained. */
  invDenominator?: number;
  /**
   * LayerNorm over the inputs first (default true, as faster-kan). Turn it off
   * for one input, where it outputs zeros, or to fit raw coordinates.
   */
  useLayerNorm?: boolean;
  /** Seed of the initialization (default 0). */
  seed?: number;
}

/** The options {@linkcode FasterKAN} takes. */
export const FASTER_KAN_OPTIONS: readonly string[] = [
  "gridMin",
  "gridMax",
  "numGrids",
  "invDenominator",
  "useLayerNorm",
  "seed",
];

/**
 * A FasterKAN layer.
 *
 * @example
 * ```ts
 * import { FasterKAN, Gpu, Tensor } from "../../mod.ts";
 * const gpu = await Gpu.request();
 * const layer = new FasterKAN(gpu, 2, 3);
 * console.log(await layer.forward(Tensor.from(gpu, [0.1, -0.4], [1, 2])).read());
 * gpu.destroy();
 * ```
 */
export class FasterKAN extends NormalizedBasisLayer {
  /**
   * The options in force (defaults filled in). `invDenominator` is the
   * constructor's; a loaded `rbf.inv_denominator` replaces the basis's.
   */
  readonly options: Readonly<Required<Omit<FasterKANOptions, "seed">>>;
  /** Its LayerNorm, basis weights and base branch, as the shared normalized-basis layer reads them. */
  protected readonly parts: NormalizedBasisParameters;
  #basis: Basis;

  /** See {@linkcode FasterKANOptions}. */
  constructor(gpu: Gpu, inFeatures: number, outFeatures: number, options: FasterKANOptions = {}) {
    super(gpu, inFeatures, outFeatures, "FasterKAN");
    const kind = this.kind;
    checkOptions(kind, options, FASTER_KAN_OPTIONS);
    const [gridMin, gridMax] = gridRangeOptions(kind, options, -1.2, 1.2);
    const numGrids = option(kind, options, "numGrids", COUNT, 8);
    const inv = Math.fround(option(kind, options, "invDenominator", POSITIVE, 0.5));
    const useLayerNorm = option(kind, options, "useLayerNorm", BOOLEAN, true);
    const seed = option(kind, options, "seed", SEED, 0);
    this.checkParameterSize("spline_linear.weight", [outFeatures, inFeatures * numGrids]);
    checkLayerNorm(kind, inFeatures, useLayerNorm);
    this.#basis = tanhSwitchBasis(numGrids, inv);
    this.options = { gridMin, gridMax, numGrids, invDenominator: inv, useLayerNorm };
    const rng = new Rng(seed);
    this.parts = {
      layerNorm: layerNormParameters(gpu, inFeatures, useLayerNorm),
      grid: Parameter.of(gpu, "rbf.grid", [numGrids], linspace(gridMin, gridMax, numGrids), false),
      spline: Parameter.of(
        gpu,
        "spline_linear.weight",
        [outFeatures, inFeatures * numGrids],
        xavierUniform(rng, inFeatures * numGrids, outFeatures),
      ),
      base: null,
      extra: [Parameter.of(gpu, "rbf.inv_denominator", [], Float32Array.of(inv), false)],
    };
    flattenParameters(gpu, this.parameters());
  }

  /** The switch basis with the `invDenominator` in force. */
  get basis(): Basis {
    return this.#basis;
  }

  /** Refuses a non-positive `rbf.inv_denominator` before anything is loaded. */
  override checkState(dict: StateDict, prefix = ""): void {
    check(
      `loadStateDict: "${prefix}rbf.inv_denominator"`,
      dict[`${prefix}rbf.inv_denominator`].data[0],
      POSITIVE,
    );
  }

  /** Rebuilds the basis for a loaded `rbf.inv_denominator`. */
  override afterLoad(dict: StateDict, prefix = ""): void {
    this.#basis = tanhSwitchBasis(this.#basis.count, dict[`${prefix}rbf.inv_denominator`].data[0]);
  }
}
