/**
 * `Linear` (torch.nn.Linear, with an optional activation on its output): the
 * MLP baseline, run by the same layer kernel as the KANs with the identity
 * basis.
 *
 * @module
 */

import { identityBasis } from "../basis/single.ts";
import type { Gpu } from "../gpu/gpu.ts";
import { Tensor } from "../tensor.ts";
import { BOOLEAN, checkOptions, oneOf, option, type Rule, SEED } from "../validate.ts";
import { activationBackward, activationForward } from "./activation.ts";
import { basisForward, basisGradInput, basisGradWeight, reduceRows } from "./basis_linear.ts";
import { Rng, torchDefaultInit } from "./init.ts";
import { Layer, type ReferenceLayer, type Trace } from "./layer.ts";
import { Parameter } from "./parameter.ts";
import {
  type Activation,
  activationReference,
  basisBackwardReference,
  basisForwardReference,
} from "./reference_ops.ts";
import { flattenParameters } from "./flat_parameters.ts";

/** Options of {@linkcode Linear}. */
export interface LinearOptions {
  /** Add a bias (default true). */
  bias?: boolean;
  /** Activation applied to the output (default `"none"`). */
  activation?: Activation;
  /** Seed of the initialization (default 0). */
  seed?: number;
}

/** The activations {@linkcode Linear} applies. */
export const ACTIVATION: Rule<Activation> = oneOf<Activation>(["none", "silu", "relu", "tanh"]);

/** The options {@linkcode Linear} takes. */
export const LINEAR_OPTIONS: readonly string[] = ["bias", "activation", "seed"];

/**
 * `y = act(x W^T + b)`, initialized as torch.nn.Linear.
 *
 * @example
 * ```ts
 * import { Gpu, Linear, Tensor } from "../../mod.ts";
 * const gpu = await Gpu.request();
 * const layer = new Linear(gpu, 2, 3, { activation: "silu" });
 * const y = layer.forward(Tensor.from(gpu, [0.1, 0.2], [1, 2]));
 * console.log(y.shape, await y.read());
 * gpu.destroy();
 * ```
 */
export class Linear extends Layer {
  /** The options in force (defaults filled in). */
  readonly options: Readonly<Required<Omit<LinearOptions, "seed">>>;
  /** The activation on the output. */
  readonly activation: Activation;
  #weight: Parameter;
  #bias: Parameter | null;

  /** A dense layer; see {@linkcode LinearOptions}. */
  constructor(gpu: Gpu, inFeatures: number, outFeatures: number, options: LinearOptions = {}) {
    super(gpu, inFeatures, outFeatures, "Linear");
    const kind = this.kind;
    checkOptions(kind, options, LINEAR_OPTIONS);
    this.activation = option(kind, options, "activation", ACTIVATION, "none");
    const bias = option(kind, options, "bias", BOOLEAN, true);
    const seed = option(kind, options, "seed", SEED, 0);
    this.checkParameterSize("weight", [outFeatures, inFeatures]);
    const init = torchDefaultInit(new Rng(seed), outFeatures, inFeatures);
    this.#weight = Parameter.of(gpu, "weight", [outFeatures, inFeatures], init.weight);
    this.options = { bias, activation: this.activation };
    this.#bias = bias ? Parameter.of(gpu, "bias", [outFeatures], init.bias) : null;
    flattenParameters(gpu, this.parameters());
  }

  /** `weight`, then `bias` when present. */
  parameters(): readonly Parameter[] {
    return this.#bias ? [this.#weight, this.#bias] : [this.#weight];
  }

  /** Records the forward pass of `x`, keeping what the backward pass needs. */
  protected record(x: Tensor): Trace {
    const gpu = this.gpu;
    const dims = { batch: x.shape[0], inDim: this.inFeatures, outDim: this.outFeatures };
    const weight = this.#weight;
    const bias = this.#bias;
    const act = this.activation;
    const z = Tensor.empty(gpu, [dims.batch, dims.outDim]);
    basisForward(
      gpu,
      identityBasis,
      dims,
      x.binding,
      weight.range,
      null,
      bias?.range ?? null,
      z.binding,
      false,
    );
    let y = z;
    if (act !== "none") {
      y = Tensor.empty(gpu, z.shape);
      activationForward(gpu, act, z.size, z.binding, y.binding);
    }
    return {
      y,
      backward(dy, inputGrad) {
        let dz = dy;
        if (act !== "none") {
          dz = Tensor.empty(gpu, dy.shape);
          activationBackward(gpu, act, dz.size, z.binding, dy.binding, dz.binding);
        }
        if (weight.trainable) {
          basisGradWeight(gpu, identityBasis, dims, x.binding, dz.binding, null, weight.gradRange, true);
        }
        if (bias?.trainable) reduceRows(gpu, dz.binding, dims.batch, dims.outDim, bias.gradRange, true);
        let dx: Tensor | null = null;
        if (inputGrad) {
          dx = Tensor.empty(gpu, x.shape);
          basisGradInput(
            gpu,
            identityBasis,
            dims,
            x.binding,
            dz.binding,
            weight.range,
            null,
            dx.binding,
            false,
            null,
          );
        }
        if (dz !== dy) dz.dispose();
        return dx;
      },
      release() {
        if (z !== y) z.dispose();
      },
    };
  }

  /** The float64 version. */
  reference(state: Record<string, ArrayLike<number>>): ReferenceLayer {
    const act = this.activation;
    const { inFeatures: inDim, outFeatures: outDim } = this;
    return {
      forward(x, batch) {
        const dims = { batch, inDim, outDim };
        const z = basisForwardReference(identityBasis, dims, x, state.weight, [], state.bias ?? null);
        const y = z.map((v) => activationReference(act, v)[0]);
        return {
          y,
          backward(dy) {
            const dz = z.map((v, i) => dy[i] * activationReference(act, v)[1]);
            const g = basisBackwardReference(identityBasis, dims, x, state.weight, [], dz);
            const grads: Record<string, Float64Array> = { weight: g.dw };
            if (state.bias) grads.bias = g.dbias;
            return { dx: g.dx, grads };
          },
        };
      },
    };
  }
}
