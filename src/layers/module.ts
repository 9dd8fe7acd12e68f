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
import { Tensor } from "../tensor.ts";
import { evaluate, type Evaluation, fit, type FitHistory, type FitOptions } from "../train/fit.ts";
import type { LossName } from "../train/loss.ts";
import type { ReferenceLayer, Trace } from "./layer.ts";
import { loadState, type Parameter, readNamed, type StateDict } from "./parameter.ts";
import { countParameters, formatSummary, type ParameterCount, type SummaryLayer } from "./model_summary.ts";
import { describe, flattenRows } from "../validate.ts";
import { KanError } from "../errors.ts";

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
  /**
   * Training mode (true, the default, as a new PyTorch module) or evaluation
   * mode; set by {@linkcode train} and {@linkcode eval}. Only layers with
   * running statistics (`WavKAN`'s BatchNorm1d) read it: in training mode
   * they normalize by the batch and move their running statistics, in
   * evaluation mode they use them. As in PyTorch, `fit`, `evaluate` and
   * `predict` leave the mode as it is: call `model.eval()` before
   * evaluating and `model.train()` before training again.
   */
  training = true;
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

  /**
   * Trains on the GPU; see {@linkcode FitOptions}. Returns the logged losses.
   *
   * @example
   * ```ts
   * import { Adam, Gpu, kan, Tensor } from "../../mod.ts";
   * const gpu = await Gpu.request();
   * const model = kan(gpu, [2, 4, 1], { basis: "bspline", seed: 0 });
   * const x = Tensor.from(gpu, [0, 0, 0, 1, 1, 0, 1, 1], [4, 2]);
   * const y = Tensor.from(gpu, [0, 1, 1, 0], [4, 1]);
   * const history = await model.fit({ x, y, loss: "mse", optimizer: new Adam({ lr: 1e-2 }), steps: 100 });
   * console.log(history.loss.at(-1));
   * gpu.destroy();
   * ```
   */
  fit(options: FitOptions): Promise<FitHistory> {
    return fit(this, options);
  }

  /**
   * The mean loss on (`x`, `y`) and, for crossEntropy, the accuracy.
   *
   * @example
   * ```ts
   * import { Adam, Gpu, kan, Tensor } from "../../mod.ts";
   * const gpu = await Gpu.request();
   * const model = kan(gpu, [1, 4, 1], { basis: "relu", seed: 0 });
   * const x = Tensor.from(gpu, [-1, -0.5, 0, 0.5, 1], [5, 1]);
   * const y = Tensor.from(gpu, [1, 0.25, 0, 0.25, 1], [5, 1]);
   * await model.fit({ x, y, loss: "mse", optimizer: new Adam({ lr: 1e-2 }), steps: 200, progress: "none" });
   * console.log((await model.evaluate(x, y, "mse")).loss); // small
   * gpu.destroy();
   * ```
   */
  evaluate(x: Tensor, y: Tensor, loss: LossName): Promise<Evaluation> {
    return evaluate(this, x, y, loss);
  }

  /**
   * The model's outputs for `rows` (plain arrays of `inFeatures` numbers, or a
   * `[B, inFeatures]` tensor, which stays the caller's), as plain arrays: one
   * forward pass and one readback.
   *
   * @example
   * ```ts
   * import { Gpu, kan } from "../../mod.ts";
   * const gpu = await Gpu.request();
   * const model = kan(gpu, [2, 3, 1], { basis: "bspline", seed: 0 });
   * console.log(await model.predict([[0.1, 0.2], [0.3, -0.4]])); // [[…], […]]
   * gpu.destroy();
   * ```
   */
  async predict(rows: number[][] | Tensor): Promise<number[][]> {
    const x = rows instanceof Tensor
      ? rows
      : Tensor.from(this.gpu, flattenRows("predict", rows, this.inFeatures), [rows.length, this.inFeatures]);
    try {
      const y = this.forward(x);
      try {
        const values = await y.read();
        const cols = this.outFeatures;
        return Array.from(
          { length: y.shape[0] },
          (_, r) => Array.from(values.subarray(r * cols, (r + 1) * cols)),
        );
      } finally {
        y.dispose();
      }
    } finally {
      if (x !== rows) x.dispose();
    }
  }

  /**
   * The number of floats an optimizer trains and of every state-dict value
   * (grids and other buffers included).
   *
   * @example
   * ```ts
   * import { Gpu, kan } from "../../mod.ts";
   * const gpu = await Gpu.request();
   * console.log(kan(gpu, [2, 5, 1], { basis: "bspline" }).parameterCount()); // { trainable: …, total: … }
   * gpu.destroy();
   * ```
   */
  parameterCount(): ParameterCount {
    return countParameters(this.namedParameters().values());
  }

  /**
   * A table of the layers (kind, widths, basis, parameters, trainable,
   * bytes) and their totals.
   *
   * @example
   * ```ts
   * import { Gpu, kan } from "../../mod.ts";
   * const gpu = await Gpu.request();
   * console.log(kan(gpu, [4, 8, 3], { basis: "fast" }).summary());
   * gpu.destroy();
   * ```
   */
  summary(): string {
    const layers = (this as unknown as { layers?: readonly SummaryLayer[] }).layers;
    return formatSummary(layers ?? [this as unknown as SummaryLayer]);
  }

  /**
   * Sets training mode (`mode` true, the default) or evaluation mode, as
   * PyTorch's `module.train(mode)`; returns the module. A model passes it on
   * to its layers; it changes nothing in layers without running statistics.
   *
   * @example
   * ```ts
   * import { Gpu, kan } from "../../mod.ts";
   * const gpu = await Gpu.request();
   * const model = kan(gpu, [2, 3, 1], { basis: "bspline" });
   * console.log(model.eval().training, model.train().training); // false true
   * gpu.destroy();
   * ```
   */
  train(mode = true): this {
    if (typeof mode !== "boolean") {
      throw new KanError(`train: mode must be true or false, got ${describe(mode)}`);
    }
    this.training = mode;
    return this;
  }

  /**
   * Sets evaluation mode, as PyTorch's `module.eval()` (`train(false)`); returns the module.
   *
   * @example
   * ```ts
   * import { Gpu, kan } from "../../mod.ts";
   * const gpu = await Gpu.request();
   * const model = kan(gpu, [2, 3, 1], { basis: "relu" }).eval();
   * console.log(model.training); // false
   * gpu.destroy();
   * ```
   */
  eval(): this {
    return this.train(false);
  }

  /** Records zeroing every gradient. */
  zeroGrad(): void {
    for (const block of new Set(this.parameters().map((p) => p.block))) block.zeroGrad();
  }

  /** Releases the parameters' GPU memory. */
  dispose(): void {
    for (const block of new Set(this.parameters().map((p) => p.block))) block.dispose();
  }

  /** {@linkcode dispose}, for `using model = kan(...)`. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}
