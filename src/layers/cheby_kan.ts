/**
 * `ChebyKAN` (SynodicMonth/ChebyKAN `ChebyKANLayer`):
 * `y_o = sum_i sum_d c[i, o, d] T_d(tanh x_i)`.
 *
 * @module
 */

import type { Basis } from "../basis/basis.ts";
import { chebyshevBasis } from "../basis/chebyshev.ts";
import { KanError } from "../errors.ts";
import type { Gpu } from "../gpu/gpu.ts";
import { checkOptions, integer, option, SEED } from "../validate.ts";
import { CoefficientLayer, coefficientParameter, type CoefficientParameters } from "./coefficient_layer.ts";
import { flattenParameters } from "./flat_parameters.ts";
import { Rng } from "./init.ts";
import { Parameter, type StateDict } from "./parameter.ts";

/** Options of {@linkcode ChebyKAN}. */
export interface ChebyKANOptions {
  /** Highest polynomial degree (default 4, as ChebyKAN's MNIST example); `degree + 1` functions per input. */
  degree?: number;
  /** Seed of the initialization (default 0). */
  seed?: number;
}

/** The options {@linkcode ChebyKAN} takes. */
export const CHEBY_KAN_OPTIONS: readonly string[] = ["degree", "seed"];

/** `n` normal values of mean 0 and standard deviation `std` (torch's `nn.init.normal_`). */
export function normalArray(rng: Rng, n: number, std: number): Float32Array {
  return Float32Array.from({ length: n }, () => std * rng.normal());
}

/**
 * A ChebyKAN layer. State dict: `cheby_coeffs [in, out, degree + 1]` and the
 * original's buffer `arange [degree + 1]` (0 .. degree; the original saves it
 * as int64). The input gradient is the exact one, finite where `tanh x`
 * saturates (ChebyKAN's autograd gives NaN there; see `src/basis/chebyshev.ts`).
 *
 * @example
 * ```ts
 * import { ChebyKAN } from "./cheby_kan.ts";
 * import { Gpu } from "../gpu/gpu.ts";
 * import { Tensor } from "../tensor.ts";
 * const gpu = await Gpu.request();
 * const layer = new ChebyKAN(gpu, 2, 3, { degree: 4 });
 * console.log(await layer.forward(Tensor.from(gpu, [0.1, -0.4], [1, 2])).read());
 * gpu.destroy();
 * ```
 */
export class ChebyKAN extends CoefficientLayer {
  /** The options in force (defaults filled in). */
  readonly options: Readonly<Required<Omit<ChebyKANOptions, "seed">>>;
  /** Its coefficients and `arange` buffer. */
  protected readonly parts: CoefficientParameters;
  #basis: Basis;

  /** See {@linkcode ChebyKANOptions}. */
  constructor(gpu: Gpu, inFeatures: number, outFeatures: number, options: ChebyKANOptions = {}) {
    super(gpu, inFeatures, outFeatures, "ChebyKAN");
    const kind = this.kind;
    checkOptions(kind, options, CHEBY_KAN_OPTIONS);
    const degree = option(kind, options, "degree", integer(0, 1024), 4);
    const seed = option(kind, options, "seed", SEED, 0);
    const nb = degree + 1;
    const shape = [inFeatures, outFeatures, nb];
    this.checkParameterSize("cheby_coeffs", shape);
    this.options = { degree };
    this.#basis = chebyshevBasis(degree);
    const init = normalArray(new Rng(seed), inFeatures * outFeatures * nb, 1 / (inFeatures * nb));
    const arange = Float32Array.from({ length: nb }, (_, d) => d);
    this.parts = {
      coeffs: coefficientParameter(gpu, "cheby_coeffs", shape, [1, 0, 2], init),
      bias: null,
      extra: [Parameter.of(gpu, "arange", [nb], arange, false)],
    };
    flattenParameters(gpu, this.parameters());
  }

  /** The Chebyshev basis of the layer's degree. */
  get basis(): Basis {
    return this.#basis;
  }

  /** Refuses an `arange` other than 0 .. degree (the original multiplies the angle by it). */
  override checkState(dict: StateDict, prefix = ""): void {
    const key = `${prefix}arange`;
    const data = dict[key].data;
    for (let d = 0; d < data.length; d++) {
      if (data[d] !== d) {
        throw new KanError(
          `loadStateDict: entry "${key}" must hold 0 .. ${data.length - 1} (ChebyKAN's arange buffer), ` +
            `got ${data[d]} at index ${d}`,
        );
      }
    }
  }
}
