/**
 * `FasterKAN` (faster-kan `FasterKANLayer`): LayerNorm, reflectional switch
 * bases `1 - tanh((x - u_j) * invDenominator)^2` with their exact derivative,
 * and a linear map.
 *
 * @module
 */

import type { Basis } from "../basis/basis.ts";
import { tanhSwitchBasis } from "../basis/tanh_switch.ts";
import { KanError } from "../errors.ts";
import type { Gpu } from "../gpu/gpu.ts";
import { layerNormParameters, linspace } from "./fast_kan.ts";
import { Rng, xavierUniform } from "./init.ts";
import { checkNumber, checkOptions } from "./layer.ts";
import { NormalizedBasisLayer, type NormalizedBasisParameters } from "./normalized_basis_layer.ts";
import { Parameter, type StateDict } from "./parameter.ts";

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
  protected readonly parts: NormalizedBasisParameters;
  #basis: Basis;

  /** See {@linkcode FasterKANOptions}. */
  constructor(gpu: Gpu, inFeatures: number, outFeatures: number, options: FasterKANOptions = {}) {
    super(gpu, inFeatures, outFeatures, "FasterKAN");
    checkOptions("FasterKAN", options, [
      "gridMin",
      "gridMax",
      "numGrids",
      "invDenominator",
      "useLayerNorm",
      "seed",
    ]);
    const gridMin = checkNumber("FasterKAN", "gridMin", options.gridMin ?? -1.2);
    const gridMax = checkNumber("FasterKAN", "gridMax", options.gridMax ?? 1.2);
    const numGrids = options.numGrids ?? 8;
    if (!Number.isInteger(numGrids) || numGrids < 1) {
      throw new KanError(`FasterKAN: option "numGrids" must be an integer >= 1, got ${numGrids}`);
    }
    const inv = Math.fround(checkNumber("FasterKAN", "invDenominator", options.invDenominator ?? 0.5, true));
    this.#basis = tanhSwitchBasis(numGrids, inv);
    const useLayerNorm = options.useLayerNorm ?? true;
    this.options = { gridMin, gridMax, numGrids, invDenominator: inv, useLayerNorm };
    const rng = new Rng(options.seed ?? 0);
    this.parts = {
      layerNorm: layerNormParameters(gpu, "FasterKAN", inFeatures, useLayerNorm),
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
  }

  /** The switch basis with the `invDenominator` in force. */
  get basis(): Basis {
    return this.#basis;
  }

  /** Refuses a non-positive `rbf.inv_denominator` before anything is loaded. */
  override checkState(dict: StateDict, prefix = ""): void {
    const inv = dict[`${prefix}rbf.inv_denominator`].data[0];
    if (!(inv > 0)) {
      throw new KanError(`loadStateDict: "${prefix}rbf.inv_denominator" must be positive, got ${inv}`);
    }
  }

  /** Rebuilds the basis for a loaded `rbf.inv_denominator`. */
  override afterLoad(dict: StateDict, prefix = ""): void {
    this.#basis = tanhSwitchBasis(this.#basis.count, dict[`${prefix}rbf.inv_denominator`].data[0]);
  }
}
