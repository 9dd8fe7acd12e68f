/**
 * `WavKAN` (zavareh1/Wav-KAN `KANLinear`, arXiv 2405.12832): per edge a
 * wavelet `wavelet_weights[o, i] * psi((x_i - translation[o, i]) / scale[o, i])`,
 * summed over the inputs, then a BatchNorm1d over the outputs:
 * `y = BN(sum_i w psi((x - t) / s))`. The wavelet has per-edge parameters, so
 * the layer runs the edge entry points of the layer kernels
 * (`edge_linear.ts`); the BatchNorm1d has running statistics, so the layer
 * follows `train()` / `eval()` as PyTorch's does.
 *
 * The original also holds `weight1 [out, in]`, which its forward does not use
 * (its base branch is computed and dropped): it is in the state dict,
 * initialized as the original's, and never trained (not trainable here, so no
 * optimizer touches it, as PyTorch's skip a parameter without a gradient).
 *
 * @module
 */

import type { EdgeFunction } from "../basis/edge_function.ts";
import { WAVELET_TYPES, waveletEdge, type WaveletType } from "../basis/wavelet.ts";
import { KanError } from "../errors.ts";
import type { Gpu } from "../gpu/gpu.ts";
import type { BufferRange } from "../gpu/recorder.ts";
import { Tensor } from "../tensor.ts";
import { checkOptions, oneOf, option, SEED } from "../validate.ts";
import {
  batchNormBackward,
  batchNormBackwardReference,
  batchNormForward,
  batchNormReference,
  batchNormStatsSize,
} from "./batch_norm.ts";
import {
  edgeBackwardReference,
  edgeForward,
  edgeForwardReference,
  edgeGradInput,
  edgeGradParams,
} from "./edge_linear.ts";
import { kaimingUniform, Rng } from "./init.ts";
import { Layer, type ReferenceLayer, type Trace } from "./layer.ts";
import { Parameter, ParameterBlock, type StateDict } from "./parameter.ts";

export type { WaveletType } from "../basis/wavelet.ts";

/** Options of {@linkcode WavKAN}, with Wav-KAN's defaults. */
export interface WavKANOptions {
  /** The wavelet `psi` (`wavelet_type`, default `"mexican_hat"`). */
  waveletType?: WaveletType;
  /** Seed of the initialization (default 0). */
  seed?: number;
}

/** The options {@linkcode WavKAN} takes. */
export const WAV_KAN_OPTIONS: readonly string[] = ["waveletType", "seed"];

/** The edge planes in state-dict order, then the BatchNorm1d's entries. */
const PLANES = ["scale", "translation", "weight1", "wavelet_weights"] as const;
const NORM = ["bn.weight", "bn.bias", "bn.running_mean", "bn.running_var", "bn.num_batches_tracked"] as const;

/**
 * A Wav-KAN layer.
 *
 * @example
 * ```ts
 * import { Gpu, Tensor, WavKAN } from "../../mod.ts";
 * const gpu = await Gpu.request();
 * const layer = new WavKAN(gpu, 2, 3, { waveletType: "morlet" });
 * const x = Tensor.from(gpu, [0.1, -0.4, 0.5, 0.2], [2, 2]);
 * console.log(await layer.forward(x).read()); // batch statistics (training mode)
 * layer.eval();
 * console.log(await layer.forward(x).read()); // running statistics
 * gpu.destroy();
 * ```
 */
export class WavKAN extends Layer {
  /** The options in force (defaults filled in). */
  readonly options: Readonly<Required<Omit<WavKANOptions, "seed">>>;
  /** The wavelet as an edge function. */
  readonly edge: EdgeFunction;
  #params: Parameter[];

  /** See {@linkcode WavKANOptions}. */
  constructor(gpu: Gpu, inFeatures: number, outFeatures: number, options: WavKANOptions = {}) {
    super(gpu, inFeatures, outFeatures, "WavKAN");
    const kind = this.kind;
    checkOptions(kind, options, WAV_KAN_OPTIONS);
    const waveletType = option(kind, options, "waveletType", oneOf(WAVELET_TYPES), "mexican_hat");
    const seed = option(kind, options, "seed", SEED, 0);
    const plane = outFeatures * inFeatures;
    this.checkParameterSize("wavelet_weights", [PLANES.length * outFeatures, inFeatures]);
    this.options = { waveletType };
    this.edge = waveletEdge(waveletType);
    const rng = new Rng(seed);
    // As the original: wavelet_weights first, then weight1, kaiming-uniform with a = sqrt(5).
    const waveletWeights = kaimingUniform(rng, plane, inFeatures, Math.sqrt(5));
    const weight1 = kaimingUniform(rng, plane, inFeatures, Math.sqrt(5));
    const f = outFeatures;
    const data = new Float32Array(4 * plane + 4 * f + 1);
    data.fill(1, 0, plane); // scale
    data.set(weight1, 2 * plane);
    data.set(waveletWeights, 3 * plane);
    data.fill(1, 4 * plane, 4 * plane + f); // bn.weight
    data.fill(1, 4 * plane + 3 * f, 4 * plane + 4 * f); // bn.running_var
    const block = new ParameterBlock(gpu, data);
    this.#params = [
      ...PLANES.map((name, q) => new Parameter(name, [f, inFeatures], block, q * plane, name !== "weight1")),
      ...NORM.map((name, q) =>
        new Parameter(
          name,
          q === 4 ? [] : [f],
          block,
          4 * plane + q * f,
          name === "bn.weight" || name === "bn.bias",
        )
      ),
    ];
  }

  /** Every parameter, in the original's state-dict order. */
  parameters(): readonly Parameter[] {
    return this.#params;
  }

  /** The range of every parameter of the layer (they lie together), values or gradients. */
  #range(what: "value" | "grad"): BufferRange {
    const first = this.#params[0];
    const tensor = what === "value" ? first.block.value : first.block.grad;
    const floats = this.#params.reduce((n, p) => n + p.size, 0);
    return { buffer: tensor.buffer, offset: first.offset * 4, size: floats * 4 };
  }

  /** Refuses a zero `scale` (the wavelet divides by it) and a negative `bn.running_var`. */
  override checkState(dict: StateDict, prefix = ""): void {
    const scale = dict[`${prefix}scale`].data;
    const at = Array.prototype.findIndex.call(scale, (v: number) => v === 0);
    if (at >= 0) {
      throw new KanError(
        `loadStateDict: entry "${prefix}scale" is 0 at index ${at}; the wavelet divides by it`,
      );
    }
    const variance = dict[`${prefix}bn.running_var`].data;
    const neg = Array.prototype.findIndex.call(variance, (v: number) => v < 0);
    if (neg >= 0) {
      throw new KanError(
        `loadStateDict: entry "${prefix}bn.running_var" is negative (${
          variance[neg]
        }) at index ${neg}; a variance is >= 0`,
      );
    }
  }

  /** Records the forward pass of `x` in the current mode, keeping what the backward pass needs. */
  protected record(x: Tensor): Trace {
    const gpu = this.gpu;
    const edge = this.edge;
    const training = this.training;
    const params = this.#params;
    const dims = { batch: x.shape[0], inDim: this.inFeatures, outDim: this.outFeatures };
    const plane = dims.inDim * dims.outDim;
    const bnBase = 4 * plane;
    const state = this.#range("value");
    const z = Tensor.empty(gpu, [dims.batch, dims.outDim]);
    const stats = Tensor.empty(gpu, [batchNormStatsSize(dims.outDim)]);
    const y = Tensor.empty(gpu, [dims.batch, dims.outDim]);
    try {
      edgeForward(gpu, edge, dims, x.binding, state, 0, null, z.binding, false);
      batchNormForward(
        gpu,
        dims.batch,
        dims.outDim,
        z.binding,
        state,
        bnBase,
        training,
        stats.binding,
        y.binding,
        this.kind,
      );
    } catch (e) {
      for (const t of [z, stats, y]) t.dispose();
      throw e;
    }
    const grads = () => this.#range("grad");
    return {
      y,
      backward(dy, inputGrad) {
        const edgeMask = [0, 1, 3].reduce((m, q) => params[q].trainable ? m | (1 << q) : m, 0);
        const normMask = (params[4].trainable ? 1 : 0) | (params[5].trainable ? 2 : 0);
        const needDz = inputGrad || edgeMask !== 0;
        const dz = needDz ? Tensor.empty(gpu, [dims.batch, dims.outDim]) : null;
        const gradRange = edgeMask !== 0 || normMask !== 0 ? grads() : null;
        batchNormBackward(
          gpu,
          dims.batch,
          dims.outDim,
          z.binding,
          dy.binding,
          state,
          bnBase,
          training,
          stats,
          dz?.binding ?? null,
          gradRange,
          normMask,
        );
        let dx: Tensor | null = null;
        if (dz) {
          if (edgeMask !== 0) {
            edgeGradParams(gpu, edge, dims, x.binding, dz.binding, state, 0, gradRange!, edgeMask);
          }
          if (inputGrad) {
            dx = Tensor.empty(gpu, x.shape);
            edgeGradInput(gpu, edge, dims, x.binding, dz.binding, state, 0, dx.binding, false);
          }
          dz.dispose();
        }
        return dx;
      },
      release() {
        z.dispose();
        stats.dispose();
      },
    };
  }

  /** The float64 version in the current mode (state keys as in {@linkcode parameters}). */
  reference(state: Record<string, ArrayLike<number>>): ReferenceLayer {
    const edge = this.edge;
    const training = this.training;
    const { inFeatures: inDim, outFeatures: outDim } = this;
    const theta = PLANES.map((name) => state[name]);
    const [weight, bias, runningMean, runningVar] = NORM.map((name) => state[name]);
    return {
      forward(x, batch) {
        const dims = { batch, inDim, outDim };
        const z = edgeForwardReference(edge, dims, x, theta);
        const bn = batchNormReference(z, batch, outDim, weight, bias, runningMean, runningVar, training);
        return {
          y: bn.y,
          backward(dy) {
            const n = batchNormBackwardReference(bn, batch, outDim, weight, dy, training);
            const e = edgeBackwardReference(edge, dims, x, theta, n.dz);
            return {
              dx: e.dx,
              grads: {
                scale: e.dtheta[0],
                translation: e.dtheta[1],
                wavelet_weights: e.dtheta[3],
                "bn.weight": n.dweight,
                "bn.bias": n.dbias,
              },
            };
          },
        };
      },
    };
  }
}
