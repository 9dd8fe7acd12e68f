/**
 * `ReLUKAN` (ReLU-KAN `ReLUKANLayer`, arXiv 2406.02075) on inputs `[B, in]`:
 * bases `(ReLU(e - x) * ReLU(x - s) * r)^2` with trainable phases, mixed by
 * the reference's full-size convolution, which is a linear map over the
 * row-major `[in, g + k]` basis block.
 *
 * @module
 */

import type { Basis } from "../basis/basis.ts";
import { reluBumpBasis, reluPhases } from "../basis/relu_bump.ts";
import type { Gpu } from "../gpu/gpu.ts";
import { Tensor } from "../tensor.ts";
import { BOOLEAN, checkOptions, COUNT, integer, option, SEED } from "../validate.ts";
import {
  basisForward,
  basisGradInput,
  basisGradWeight,
  paramPartialsRows,
  paramPartialsSize,
  reduceRows,
} from "./basis_linear.ts";
import { Rng, torchDefaultInit } from "./init.ts";
import { Layer, type ReferenceLayer, type Trace } from "./layer.ts";
import { Parameter, ParameterBlock } from "./parameter.ts";
import { basisBackwardReference, basisForwardReference } from "./reference_ops.ts";
import { flattenParameters } from "./flat_parameters.ts";

/** Options of {@linkcode ReLUKAN}, with ReLU-KAN's defaults. */
export interface ReLUKANOptions {
  /** Grid intervals `g` (default 5). */
  g?: number;
  /** Order `k`: each basis spans `k + 1` intervals (default 3). */
  k?: number;
  /** Train `phase_low` and `phase_height` (default true). */
  trainBoundaries?: boolean;
  /** Seed of the initialization (default 0). */
  seed?: number;
}

/** The options {@linkcode ReLUKAN} takes. */
export const RELU_KAN_OPTIONS: readonly string[] = ["g", "k", "trainBoundaries", "seed"];

/**
 * A ReLU-KAN layer.
 *
 * @example
 * ```ts
 * import { Gpu, ReLUKAN, Tensor } from "../../mod.ts";
 * const gpu = await Gpu.request();
 * const layer = new ReLUKAN(gpu, 2, 1, { g: 5, k: 3 });
 * console.log(await layer.forward(Tensor.from(gpu, [0.1, 0.7], [1, 2])).read());
 * gpu.destroy();
 * ```
 */
export class ReLUKAN extends Layer {
  /** The options in force (defaults filled in). */
  readonly options: Readonly<Required<Omit<ReLUKANOptions, "seed">>>;
  /** The bump basis. */
  readonly basis: Basis;
  #phaseLow: Parameter;
  #phaseHeight: Parameter;
  #weight: Parameter;
  #bias: Parameter;

  /** See {@linkcode ReLUKANOptions}. */
  constructor(gpu: Gpu, inFeatures: number, outFeatures: number, options: ReLUKANOptions = {}) {
    super(gpu, inFeatures, outFeatures, "ReLUKAN");
    const kind = this.kind;
    checkOptions(kind, options, RELU_KAN_OPTIONS);
    const g = option(kind, options, "g", COUNT, 5);
    const k = option(kind, options, "k", integer(0), 3);
    const train = option(kind, options, "trainBoundaries", BOOLEAN, true);
    const seed = option(kind, options, "seed", SEED, 0);
    this.checkParameterSize("phase_low and phase_height", [2, inFeatures, g + k]);
    this.checkParameterSize("equal_size_conv.weight", [outFeatures, 1, g + k, inFeatures]);
    this.options = { g, k, trainBoundaries: train };
    this.basis = reluBumpBasis(g, k);
    const nb = this.basis.count;
    const { low, high } = reluPhases(g, k);
    const phases = new Float32Array(2 * inFeatures * nb);
    for (let i = 0; i < inFeatures; i++) {
      phases.set(low, i * nb);
      phases.set(high, (inFeatures + i) * nb);
    }
    const block = new ParameterBlock(gpu, phases);
    this.#phaseLow = new Parameter("phase_low", [inFeatures, nb], block, 0, train);
    this.#phaseHeight = new Parameter("phase_height", [inFeatures, nb], block, inFeatures * nb, train);
    const init = torchDefaultInit(new Rng(seed), outFeatures, nb * inFeatures);
    this.#weight = Parameter.of(gpu, "equal_size_conv.weight", [outFeatures, 1, nb, inFeatures], init.weight);
    this.#bias = Parameter.of(gpu, "equal_size_conv.bias", [outFeatures], init.bias);
    flattenParameters(gpu, this.parameters());
  }

  /** `phase_low`, `phase_height`, `equal_size_conv.weight`, `equal_size_conv.bias`. */
  parameters(): readonly Parameter[] {
    return [this.#phaseLow, this.#phaseHeight, this.#weight, this.#bias];
  }

  /** Records the forward pass of `x`, keeping what the backward pass needs. */
  protected record(x: Tensor): Trace {
    const gpu = this.gpu;
    const basis = this.basis;
    const dims = { batch: x.shape[0], inDim: this.inFeatures, outDim: this.outFeatures };
    const [low, high, weight, bias] = [this.#phaseLow, this.#phaseHeight, this.#weight, this.#bias];
    // phase_low and phase_height are adjacent in one block: the basis reads them as one range.
    const phases = { buffer: low.block.value.buffer, offset: low.offset * 4, size: 2 * low.size * 4 };
    const y = Tensor.empty(gpu, [dims.batch, dims.outDim]);
    basisForward(gpu, basis, dims, x.binding, weight.range, phases, bias.range, y.binding, false);
    return {
      y,
      backward(dy, inputGrad) {
        if (weight.trainable) {
          basisGradWeight(gpu, basis, dims, x.binding, dy.binding, phases, weight.gradRange, true);
        }
        if (bias.trainable) reduceRows(gpu, dy.binding, dims.batch, dims.outDim, bias.gradRange, true);
        const phasesTrainable = low.trainable || high.trainable;
        if (!inputGrad && !phasesTrainable) return null;
        const dx = Tensor.empty(gpu, x.shape);
        const partials = phasesTrainable ? Tensor.empty(gpu, [paramPartialsSize(basis, dims)]) : null;
        basisGradInput(
          gpu,
          basis,
          dims,
          x.binding,
          dy.binding,
          weight.range,
          phases,
          dx.binding,
          false,
          partials?.binding ?? null,
        );
        if (partials) {
          const gradRange = { buffer: low.block.grad.buffer, offset: phases.offset, size: phases.size };
          reduceRows(gpu, partials.binding, paramPartialsRows(basis, dims), 2 * low.size, gradRange, true);
          partials.dispose();
        }
        if (inputGrad) return dx;
        dx.dispose();
        return null;
      },
      release() {},
    };
  }

  /** The float64 version. */
  reference(state: Record<string, ArrayLike<number>>): ReferenceLayer {
    const basis = this.basis;
    const { inFeatures: inDim, outFeatures: outDim } = this;
    const n = inDim * basis.count;
    const data = new Float64Array(2 * n);
    data.set(Float64Array.from(state.phase_low), 0);
    data.set(Float64Array.from(state.phase_height), n);
    const w = state["equal_size_conv.weight"];
    return {
      forward(x, batch) {
        const dims = { batch, inDim, outDim };
        const y = basisForwardReference(basis, dims, x, w, data, state["equal_size_conv.bias"]);
        return {
          y,
          backward(dy) {
            const g = basisBackwardReference(basis, dims, x, w, data, dy);
            return {
              dx: g.dx,
              grads: {
                phase_low: g.ddata.slice(0, n),
                phase_height: g.ddata.slice(n),
                "equal_size_conv.weight": g.dw,
                "equal_size_conv.bias": g.dbias,
              },
            };
          },
        };
      },
    };
  }
}
