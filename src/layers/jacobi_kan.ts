/**
 * `JacobiKAN` (SpaceLearner/JacobiKAN `JacobiKANLayer`):
 * `y_o = sum_i sum_d c[i, o, d] P_d^(a,b)(tanh x_i)`.
 *
 * @module
 */

import type { Basis } from "../basis/basis.ts";
import { jacobiBasis } from "../basis/jacobi.ts";
import type { Gpu } from "../gpu/gpu.ts";
import { checkOptions, FINITE, integer, option, type Rule, SEED } from "../validate.ts";
import { normalArray } from "./cheby_kan.ts";
import { CoefficientLayer, coefficientParameter, type CoefficientParameters } from "./coefficient_layer.ts";
import { flattenParameters } from "./flat_parameters.ts";
import { Rng } from "./init.ts";

/** Options of {@linkcode JacobiKAN}, with JacobiKAN's defaults. */
export interface JacobiKANOptions {
  /** Highest polynomial degree (default 3, as JacobiKAN's MNIST example); `degree + 1` functions per input. */
  degree?: number;
  /** Jacobi parameter alpha, > -1 (default 1; Legendre: `a = b = 0`). */
  a?: number;
  /** Jacobi parameter beta, > -1 (default 1). */
  b?: number;
  /** Seed of the initialization (default 0). */
  seed?: number;
}

/** The options {@linkcode JacobiKAN} takes. */
export const JACOBI_KAN_OPTIONS: readonly string[] = ["degree", "a", "b", "seed"];

/** A Jacobi parameter: > -1, where the recurrence never divides by zero. */
const JACOBI_PARAMETER: Rule<number> = {
  expected: "a number > -1",
  test: (v): v is number => FINITE.test(v) && v > -1,
};

/**
 * A JacobiKAN layer. State dict: `jacobi_coeffs [in, out, degree + 1]`.
 *
 * @example
 * ```ts
 * import { JacobiKAN } from "./jacobi_kan.ts";
 * import { Gpu } from "../gpu/gpu.ts";
 * import { Tensor } from "../tensor.ts";
 * const gpu = await Gpu.request();
 * const legendre = new JacobiKAN(gpu, 2, 3, { degree: 3, a: 0, b: 0 });
 * console.log(await legendre.forward(Tensor.from(gpu, [0.1, -0.4], [1, 2])).read());
 * gpu.destroy();
 * ```
 */
export class JacobiKAN extends CoefficientLayer {
  /** The options in force (defaults filled in). */
  readonly options: Readonly<Required<Omit<JacobiKANOptions, "seed">>>;
  /** Its coefficients. */
  protected readonly parts: CoefficientParameters;
  #basis: Basis;

  /** See {@linkcode JacobiKANOptions}. */
  constructor(gpu: Gpu, inFeatures: number, outFeatures: number, options: JacobiKANOptions = {}) {
    super(gpu, inFeatures, outFeatures, "JacobiKAN");
    const kind = this.kind;
    checkOptions(kind, options, JACOBI_KAN_OPTIONS);
    const degree = option(kind, options, "degree", integer(0, 1024), 3);
    const a = option(kind, options, "a", JACOBI_PARAMETER, 1);
    const b = option(kind, options, "b", JACOBI_PARAMETER, 1);
    const seed = option(kind, options, "seed", SEED, 0);
    const nb = degree + 1;
    const shape = [inFeatures, outFeatures, nb];
    this.checkParameterSize("jacobi_coeffs", shape);
    this.options = { degree, a, b };
    this.#basis = jacobiBasis(degree, a, b);
    const init = normalArray(new Rng(seed), inFeatures * outFeatures * nb, 1 / (inFeatures * nb));
    this.parts = {
      coeffs: coefficientParameter(gpu, "jacobi_coeffs", shape, [1, 0, 2], init),
      bias: null,
      extra: [],
    };
    flattenParameters(gpu, this.parameters());
  }

  /** The Jacobi basis of the layer's degree, `a` and `b`. */
  get basis(): Basis {
    return this.#basis;
  }
}
