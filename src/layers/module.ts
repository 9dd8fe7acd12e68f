/**
 * What layers and models share: state dicts, gradients, the float64
 * reference from the current state, training and evaluation, all derived from
 * the parameters by state-dict key.
 *
 * @module
 */

import type { Gpu } from "../gpu/gpu.ts";
import {
  checkFormatOptions,
  type CheckpointFormat,
  fromCheckpoint,
  toCheckpoint,
} from "../io/formats/checkpoint_format.ts";
import type { Tensor } from "../tensor.ts";
import { evaluate, type Evaluation, fit, type FitHistory, type FitOptions } from "../train/fit.ts";
import type { LossName } from "../train/loss.ts";
import type { ReferenceLayer, Trace } from "./layer.ts";
import { loadState, type Parameter, readNamed, type StateDict } from "./parameter.ts";

/** Options of {@linkcode Module.stateDict}. */
export interface StateDictOptions {
  /** Write the state dict of this original's model class instead of this module's (see `CheckpointFormat`). */
  to?: CheckpointFormat;
}

/** Options of {@linkcode Module.loadStateDict}. */
export interface LoadStateDictOptions {
  /** Read the state dict of this original's model class instead of this module's (see `CheckpointFormat`). */
  from?: CheckpointFormat;
}

/**
 * A layer or a model of layers; see the module doc.
 *
 * @example
 * ```ts
 * import { Gpu, kan } from "../../mod.ts";
 * const gpu = await Gpu.request();
 * const model = kan(gpu, [2, 5, 1], { basis: "bspline", gridSize: 5, bias: true });
 * const dict = await model.stateDict(); // layers.0.grid, layers.0.base_weight, ...
 * const pykan = await model.stateDict({ to: "pykan" }); // act_fun.0.coef, node_bias_0, ... for pykan's KAN
 * model.loadStateDict(pykan, { from: "pykan" });
 * model.loadStateDict(dict);
 * gpu.destroy();
 * ```
 */
export abstract class Module {
  /**
   * Whether `forward`, `fit` and `evaluate` may run the fused step (one
   * kernel for every layer, see `src/fused/fused_step.ts`) when the model
   * qualifies; set it to false to run the layer-by-layer kernels.
   */
  fused = true;
  /** The GPU it lives on. */
  abstract readonly gpu: Gpu;
  /** Input width. */
  abstract readonly inFeatures: number;
  /** Output width. */
  abstract readonly outFeatures: number;

  /** The parameters, in state-dict order. */
  abstract parameters(): readonly Parameter[];

  /** The parameters by state-dict key, each key prefixed by `prefix`. */
  abstract namedParameters(prefix?: string): Map<string, Parameter>;

  /** Records the forward pass and returns `[B, outFeatures]`. */
  abstract forward(x: Tensor): Tensor;

  /** Records the forward pass, keeping what the backward pass needs. */
  abstract trace(x: Tensor): Trace;

  /** A float64 version with the given state (keys as in {@linkcode stateDict}). */
  abstract reference(state: Record<string, ArrayLike<number>>): ReferenceLayer;

  /**
   * Hook for a module's own checks of a state dict whose keys and shapes are
   * already checked; it throws to refuse the dict before anything is written.
   * `prefix` is the module's key prefix.
   */
  checkState(_dict: StateDict, _prefix = ""): void {}

  /** Hook for modules that mirror a loaded value on the CPU; `prefix` is the module's key prefix. */
  afterLoad(_dict: StateDict, _prefix = ""): void {}

  /**
   * Reads the parameters (names and shapes as in the reference implementation's
   * `state_dict()`). With `{ to }`, returns instead the state dict of that
   * original's model class (its keys, shapes and buffers) computing the same
   * function, for `load_state_dict(strict=True)` there; a model the original
   * cannot compute is refused with a `KanError`.
   */
  async stateDict(options?: StateDictOptions): Promise<StateDict> {
    checkFormatOptions("stateDict", options, "to");
    const dict = await readNamed(this.namedParameters());
    return options?.to === undefined ? dict : toCheckpoint(this, dict, options.to);
  }

  /** Reads the gradients of the trainable parameters, keyed as {@linkcode stateDict}. */
  gradDict(): Promise<StateDict> {
    return readNamed(this.namedParameters(), "grad");
  }

  /**
   * Loads a state dict; a missing, extra, misshaped or non-finite entry is a
   * `KanError` naming it. With `{ from }`, `dict` is the state dict of that
   * original's model class (e.g. pykan's `model.state_dict()` saved as
   * safetensors), converted so that the model computes what the original
   * computes; what the model cannot compute the same way is refused. A refused
   * dict leaves the model as it was.
   */
  loadStateDict(dict: StateDict, options?: LoadStateDictOptions): void {
    checkFormatOptions("loadStateDict", options, "from");
    const own = options?.from === undefined ? dict : fromCheckpoint(this, dict, options.from);
    loadState(this.namedParameters(), own, () => this.checkState(own));
    this.afterLoad(own);
  }

  /** A float64 version with the current state. */
  async referenceFromGpu(): Promise<ReferenceLayer> {
    const dict = await this.stateDict();
    return this.reference(Object.fromEntries(Object.entries(dict).map(([k, v]) => [k, v.data])));
  }

  /** Trains on the GPU; see {@linkcode FitOptions}. Returns the logged losses. */
  fit(options: FitOptions): Promise<FitHistory> {
    return fit(this, options);
  }

  /** The mean loss on (`x`, `y`) and, for crossEntropy, the accuracy. */
  evaluate(x: Tensor, y: Tensor, loss: LossName): Promise<Evaluation> {
    return evaluate(this, x, y, loss);
  }

  /** Records zeroing every gradient. */
  zeroGrad(): void {
    for (const block of new Set(this.parameters().map((p) => p.block))) block.zeroGrad();
  }

  /** Releases the parameters' GPU memory. */
  dispose(): void {
    for (const block of new Set(this.parameters().map((p) => p.block))) block.dispose();
  }
}
