/**
 * What layers and models share: state dicts, gradients, the float64
 * reference from the current state, training and evaluation, all derived from
 * the parameters by state-dict key.
 *
 * @module
 */

import type { Gpu } from "../gpu/gpu.ts";
import type { Tensor } from "../tensor.ts";
import { evaluate, type Evaluation, fit, type FitHistory, type FitOptions } from "../train/fit.ts";
import type { LossName } from "../train/loss.ts";
import type { ReferenceLayer, Trace } from "./layer.ts";
import { loadState, type Parameter, readNamed, type StateDict } from "./parameter.ts";

/** A layer or a model of layers; see the module doc. */
export abstract class Module {
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

  /** Reads the parameters (names and shapes as in the reference implementation's `state_dict()`). */
  stateDict(): Promise<StateDict> {
    return readNamed(this.namedParameters());
  }

  /** Reads the gradients of the trainable parameters, keyed as {@linkcode stateDict}. */
  gradDict(): Promise<StateDict> {
    return readNamed(this.namedParameters(), "grad");
  }

  /** Loads a state dict; a missing, extra, misshaped or non-finite entry is a `KanError` naming it. */
  loadStateDict(dict: StateDict): void {
    loadState(this.namedParameters(), dict, () => this.checkState(dict));
    this.afterLoad(dict);
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
