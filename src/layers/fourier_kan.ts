/**
 * `FourierKAN` (GistNoesis/FourierKAN `NaiveFourierKANLayer`):
 * `y_o = sum_i sum_k a[o, i, k] cos(k x_i) + b[o, i, k] sin(k x_i) (+ bias_o)`.
 *
 * @module
 */

import type { Basis } from "../basis/basis.ts";
import { fourierBasis } from "../basis/fourier.ts";
import type { Gpu } from "../gpu/gpu.ts";
import { BOOLEAN, checkOptions, COUNT, option, SEED } from "../validate.ts";
import { CoefficientLayer, coefficientParameter, type CoefficientParameters } from "./coefficient_layer.ts";
import { flattenParameters } from "./flat_parameters.ts";
import { Rng } from "./init.ts";
import { Parameter } from "./parameter.ts";

/** Options of {@linkcode FourierKAN}, with FourierKAN's defaults. */
export interface FourierKANOptions {
  /** Frequencies `G` per input, `k = 1 .. G` (default 5; the original has no default). */
  gridsize?: number;
  /** A bias `[1, out]` (default true). */
  addbias?: boolean;
  /** Coefficients of frequency `k` scaled by `1 / k^2` at initialization, not `1 / sqrt(G)` (default false). */
  smoothInitialization?: boolean;
  /** Seed of the initialization (default 0). */
  seed?: number;
}

/** The options {@linkcode FourierKAN} takes. */
export const FOURIER_KAN_OPTIONS: readonly string[] = ["gridsize", "addbias", "smoothInitialization", "seed"];

/**
 * A FourierKAN layer. State dict: `fouriercoeffs [2, out, in, gridsize]`
 * (cosine then sine coefficients) and `bias [1, out]` when `addbias`.
 *
 * @example
 * ```ts
 * import { FourierKAN } from "./fourier_kan.ts";
 * import { Gpu } from "../gpu/gpu.ts";
 * import { Tensor } from "../tensor.ts";
 * const gpu = await Gpu.request();
 * const layer = new FourierKAN(gpu, 2, 3, { gridsize: 4 });
 * console.log(await layer.forward(Tensor.from(gpu, [0.1, -0.4], [1, 2])).read());
 * gpu.destroy();
 * ```
 */
export class FourierKAN extends CoefficientLayer {
  /** The options in force (defaults filled in). */
  readonly options: Readonly<Required<Omit<FourierKANOptions, "seed">>>;
  /** Its coefficients and bias. */
  protected readonly parts: CoefficientParameters;
  #basis: Basis;

  /** See {@linkcode FourierKANOptions}. */
  constructor(gpu: Gpu, inFeatures: number, outFeatures: number, options: FourierKANOptions = {}) {
    super(gpu, inFeatures, outFeatures, "FourierKAN");
    const kind = this.kind;
    checkOptions(kind, options, FOURIER_KAN_OPTIONS);
    const g = option(kind, options, "gridsize", COUNT, 5);
    const addbias = option(kind, options, "addbias", BOOLEAN, true);
    const smooth = option(kind, options, "smoothInitialization", BOOLEAN, false);
    const seed = option(kind, options, "seed", SEED, 0);
    const shape = [2, outFeatures, inFeatures, g];
    this.checkParameterSize("fouriercoeffs", shape);
    this.options = { gridsize: g, addbias, smoothInitialization: smooth };
    this.#basis = fourierBasis(g);
    const rng = new Rng(seed);
    // randn(2, out, in, G) / (sqrt(in) * norm), norm = (k + 1)^2 or sqrt(G).
    const init = Float32Array.from({ length: 2 * outFeatures * inFeatures * g }, (_, n) => {
      const norm = smooth ? (n % g + 1) ** 2 : Math.sqrt(g);
      return rng.normal() / (Math.sqrt(inFeatures) * norm);
    });
    this.parts = {
      coeffs: coefficientParameter(gpu, "fouriercoeffs", shape, [1, 2, 0, 3], init),
      bias: addbias ? Parameter.of(gpu, "bias", [1, outFeatures], new Float32Array(outFeatures)) : null,
      extra: [],
    };
    flattenParameters(gpu, this.parameters());
  }

  /** The Fourier basis of the layer's gridsize. */
  get basis(): Basis {
    return this.#basis;
  }
}
