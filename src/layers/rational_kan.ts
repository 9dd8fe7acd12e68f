/**
 * `RationalKAN`: the group-rational KAN layer of KAT (Kolmogorov–Arnold
 * Transformer, Adamdad/kat): KAT's rational activation `KAT_Group`
 * (Adamdad/rational_kat_cu) on each input, then `nn.Linear`, as each half of
 * KAT's `KAN` block (`fc1(act1(x))`). Input `i` gets
 * `phi_g(x) = P(x) / (1 + sum_k |b_{g,k}| |x|^k)` of its group `g`
 * (`i / (in / numGroups)`), with the numerator `P` of degree 5 shared by all
 * groups (`src/basis/rational.ts`: one function per input, whose trainable
 * parameters are summed per group).
 *
 * The activation runs on its own, elementwise (`rational_activation.ts`), and
 * the linear map on the dense (identity-basis) layer kernels, as `Linear`:
 * run through the basis-linear kernels, the input gradient's tiles reduced the
 * rational's 10 parameter partials with barriers per tile, and full-batch
 * Adam ran 3.5 to 7.5 times slower than the MLP of the same widths on lavapipe
 * (`[2, 64, 64, 1]` on 1,000 rows: 3.7 against 27.6 steps/s, now 24 to 35;
 * `[784, 64, 10]` on 512 rows: 2.0 against 6.9, now 4.1 to 7.3). The trace
 * keeps `act(x)` (`[B, in]`) for the weight gradient.
 *
 * @module
 */

import { RATIONAL_MODES, RATIONAL_PARAMS, rationalBasis, rationalInit } from "../basis/rational.ts";
import type { RationalMode } from "../basis/rational.ts";
import type { Basis } from "../basis/basis.ts";
import { identityBasis } from "../basis/single.ts";
import { KanError } from "../errors.ts";
import type { Gpu } from "../gpu/gpu.ts";
import { Tensor } from "../tensor.ts";
import { BOOLEAN, checkOptions, COUNT, describe, oneOf, option, SEED } from "../validate.ts";
import { basisForward, basisGradInput, basisGradWeight, type LayerDims, reduceRows } from "./basis_linear.ts";
import { flattenParameters } from "./flat_parameters.ts";
import { Rng, torchDefaultInit } from "./init.ts";
import { Layer, type ReferenceLayer, type Trace } from "./layer.ts";
import { Parameter, ParameterBlock } from "./parameter.ts";
import { basisBackwardReference, basisForwardReference } from "./reference_ops.ts";
import { rationalBackward, rationalForward } from "./rational_activation.ts";

export type { RationalMode } from "../basis/rational.ts";

/** Options of {@linkcode RationalKAN}, named after `KAT_Group`'s and `nn.Linear`'s arguments. */
export interface RationalKANOptions {
  /**
   * Groups of consecutive inputs, each with its own denominator (`num_groups`;
   * default 8 as `KAT_Group`, or, when 8 does not divide `inFeatures`, the
   * greatest common divisor of 8 and `inFeatures`). Must divide `inFeatures`.
   */
  numGroups?: number;
  /** The function the rationals start as (`mode`; default `"gelu"` as `KAT_Group`): KAT's fitted coefficients. */
  mode?: RationalMode;
  /** Bias of the linear map (`fc.bias`, default true as `nn.Linear`). */
  bias?: boolean;
  /** Seed of the initialization of the linear map (default 0). */
  seed?: number;
}

/** The options {@linkcode RationalKAN} takes. */
export const RATIONAL_KAN_OPTIONS: readonly string[] = ["numGroups", "mode", "bias", "seed"];

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/**
 * A group-rational KAN layer: `fc(act(x))`, `act` KAT's `KAT_Group`, `fc` an
 * `nn.Linear`. State dict: `act.weight_numerator [1, 6]`,
 * `act.weight_denominator [numGroups, 4]`, `fc.weight [out, in]`, `fc.bias [out]`.
 *
 * @example
 * ```ts
 * import { Gpu, Tensor } from "../../mod.ts";
 * import { RationalKAN } from "./rational_kan.ts";
 * const gpu = await Gpu.request();
 * const layer = new RationalKAN(gpu, 4, 2, { numGroups: 2, mode: "swish" });
 * console.log(await layer.forward(Tensor.from(gpu, [0.1, -0.7, 0, 2], [1, 4])).read());
 * gpu.destroy();
 * ```
 */
export class RationalKAN extends Layer {
  /** The options in force (defaults filled in). */
  readonly options: Readonly<Required<Omit<RationalKANOptions, "seed">>>;
  /** The group-rational basis (one function per input). */
  readonly basis: Basis;
  #numerator: Parameter;
  #denominator: Parameter;
  #weight: Parameter;
  #bias: Parameter | null;

  /** See {@linkcode RationalKANOptions}. */
  constructor(gpu: Gpu, inFeatures: number, outFeatures: number, options: RationalKANOptions = {}) {
    super(gpu, inFeatures, outFeatures, "RationalKAN");
    const kind = this.kind;
    checkOptions(kind, options, RATIONAL_KAN_OPTIONS);
    const groups = option(kind, options, "numGroups", COUNT, gcd(8, inFeatures));
    if (inFeatures % groups !== 0) {
      throw new KanError(
        `${kind}: numGroups must divide inFeatures (${inFeatures}) so that every group has as many ` +
          `inputs, got ${describe(groups)}`,
      );
    }
    const mode = option(kind, options, "mode", oneOf(RATIONAL_MODES), "gelu");
    const bias = option(kind, options, "bias", BOOLEAN, true);
    const seed = option(kind, options, "seed", SEED, 0);
    this.checkParameterSize("act.weight_denominator", [groups, 4]);
    this.checkParameterSize("fc.weight", [outFeatures, inFeatures]);
    this.options = { numGroups: groups, mode, bias };
    this.basis = rationalBasis(inFeatures / groups);
    const block = new ParameterBlock(gpu, rationalInit(mode, groups));
    this.#numerator = new Parameter("act.weight_numerator", [1, 6], block, 0);
    this.#denominator = new Parameter("act.weight_denominator", [groups, 4], block, 6);
    const init = torchDefaultInit(new Rng(seed), outFeatures, inFeatures);
    this.#weight = Parameter.of(gpu, "fc.weight", [outFeatures, inFeatures], init.weight);
    this.#bias = bias ? Parameter.of(gpu, "fc.bias", [outFeatures], init.bias) : null;
    flattenParameters(gpu, this.parameters());
  }

  /** `act.weight_numerator`, `act.weight_denominator`, `fc.weight`, then `fc.bias` when present. */
  parameters(): readonly Parameter[] {
    const own = [this.#numerator, this.#denominator, this.#weight];
    return this.#bias ? [...own, this.#bias] : own;
  }

  /**
   * Records the forward pass of `x`, keeping what the backward pass needs:
   * `a = act(x)` elementwise, then `y = a W^T + bias` on the dense
   * (identity-basis) kernels; the backward pass takes `g = dY W` there too,
   * then `dx = g * act'(x)` and the rational's gradients elementwise.
   */
  protected record(x: Tensor): Trace {
    const gpu = this.gpu;
    const basis = this.basis;
    const groups = this.options.numGroups;
    const dims: LayerDims = { batch: x.shape[0], inDim: this.inFeatures, outDim: this.outFeatures };
    const [numerator, denominator, weight, bias] = [
      this.#numerator,
      this.#denominator,
      this.#weight,
      this.#bias,
    ];
    // weight_numerator and weight_denominator are adjacent in one block: the kernels read them as one range.
    const coefficients = {
      buffer: numerator.block.value.buffer,
      offset: numerator.offset * 4,
      size: 4 * (6 + 4 * groups),
    };
    let a: Tensor | null = Tensor.empty(gpu, x.shape);
    rationalForward(gpu, basis, dims.batch, dims.inDim, x.binding, coefficients, a.binding);
    const y = Tensor.empty(gpu, [dims.batch, dims.outDim]);
    basisForward(
      gpu,
      identityBasis,
      dims,
      a.binding,
      weight.range,
      null,
      bias?.range ?? null,
      y.binding,
      false,
    );
    return {
      y,
      backward(dy, inputGrad) {
        if (weight.trainable) {
          basisGradWeight(gpu, identityBasis, dims, a!.binding, dy.binding, null, weight.gradRange, true);
        }
        if (bias?.trainable) reduceRows(gpu, dy.binding, dims.batch, dims.outDim, bias.gradRange, true);
        const rationalTrainable = numerator.trainable || denominator.trainable;
        if (!inputGrad && !rationalTrainable) return null;
        const g = Tensor.empty(gpu, x.shape);
        basisGradInput(
          gpu,
          identityBasis,
          dims,
          a!.binding,
          dy.binding,
          weight.range,
          null,
          g.binding,
          false,
          null,
        );
        const dx = inputGrad ? Tensor.empty(gpu, x.shape) : null;
        const grad = rationalTrainable
          ? { buffer: numerator.block.grad.buffer, offset: coefficients.offset, size: coefficients.size }
          : null;
        rationalBackward(
          gpu,
          basis,
          dims.batch,
          dims.inDim,
          groups,
          x.binding,
          g.binding,
          coefficients,
          dx?.binding ?? null,
          grad,
        );
        g.dispose();
        return dx;
      },
      release() {
        a?.dispose();
        a = null;
      },
    };
  }

  /** The float64 version. */
  reference(state: Record<string, ArrayLike<number>>): ReferenceLayer {
    const basis = this.basis;
    const { inFeatures: inDim, outFeatures: outDim } = this;
    const groups = this.options.numGroups;
    const size = inDim / groups;
    const data = new Float64Array(6 + 4 * groups);
    data.set(Float64Array.from(state["act.weight_numerator"]), 0);
    data.set(Float64Array.from(state["act.weight_denominator"]), 6);
    const w = state["fc.weight"];
    const b = this.#bias ? state["fc.bias"] : null;
    return {
      forward(x, batch) {
        const dims = { batch, inDim, outDim };
        const y = basisForwardReference(basis, dims, x, w, data, b);
        return {
          y,
          backward(dy) {
            const g = basisBackwardReference(basis, dims, x, w, data, dy);
            // Per-input partials [10, in] summed over the inputs sharing each coefficient.
            const numeratorGrad = new Float64Array(6);
            const denominatorGrad = new Float64Array(4 * groups);
            for (let q = 0; q < RATIONAL_PARAMS; q++) {
              for (let i = 0; i < inDim; i++) {
                const v = g.ddata[q * inDim + i];
                if (q < 6) numeratorGrad[q] += v;
                else denominatorGrad[Math.floor(i / size) * 4 + q - 6] += v;
              }
            }
            const grads: Record<string, Float64Array> = {
              "act.weight_numerator": numeratorGrad,
              "act.weight_denominator": denominatorGrad,
              "fc.weight": g.dw,
            };
            if (b) grads["fc.bias"] = g.dbias;
            return { dx: g.dx, grads };
          },
        };
      },
    };
  }
}
