/**
 * What every layer of the family shares: its parameters and state dict, the
 * checks on its input, a forward pass that can keep what its backward pass
 * needs, and a float64 reference of itself.
 *
 * @module
 */

import { formatShape, KanError } from "../errors.ts";
import type { Gpu } from "../gpu/gpu.ts";
import { evaluate, type Evaluation, fit, type FitHistory, type FitOptions } from "../train/fit.ts";
import type { LossName } from "../train/loss.ts";
import { Tensor } from "../tensor.ts";
import { loadState, type Parameter, readNamed, type StateDict } from "./parameter.ts";

/** A forward pass kept for its backward pass. */
export interface Trace {
  /** The output, `[B, out]`. */
  readonly y: Tensor;
  /**
   * Records the backward pass for the output gradient `dy`: adds every
   * trainable parameter's gradient into its `grad`, and returns `dx` when
   * `inputGrad` (else `null`).
   */
  backward(dy: Tensor, inputGrad: boolean): Tensor | null;
  /** Releases what the trace kept (not `y`). */
  release(): void;
}

/** A float64 forward pass kept for its backward pass. */
export interface ReferenceTrace {
  /** The output, `[B, out]`. */
  readonly y: Float64Array;
  /** Gradients of every parameter (by name) and of the input, for the output gradient `dy`. */
  backward(dy: ArrayLike<number>): { dx: Float64Array; grads: Record<string, Float64Array> };
}

/** A float64 version of a layer, for tests. */
export interface ReferenceLayer {
  /** Runs `x` (`[batch, in]`) through the layer. */
  forward(x: ArrayLike<number>, batch: number): ReferenceTrace;
}

/** Throws a {@linkcode KanError} for any option not in `allowed`. */
export function checkOptions(owner: string, options: object | undefined, allowed: readonly string[]): void {
  if (options === undefined) return;
  if (typeof options !== "object" || options === null) {
    throw new KanError(`${owner}: options must be an object, got ${options}`);
  }
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      throw new KanError(`${owner}: unknown option "${key}" (known: ${allowed.join(", ")})`);
    }
  }
}

/** Throws a {@linkcode KanError} unless `value` is a finite number (and positive when asked). */
export function checkNumber(owner: string, name: string, value: number, positive = false): number {
  if (typeof value !== "number" || !Number.isFinite(value) || (positive && value <= 0)) {
    throw new KanError(
      `${owner}: option "${name}" must be a finite${positive ? " positive" : ""} number, got ${value}`,
    );
  }
  return value;
}

/** The base of every layer; subclasses define their parameters, `record` and `reference`. */
export abstract class Layer {
  /** The GPU the layer lives on. */
  readonly gpu: Gpu;
  /** Input width. */
  readonly inFeatures: number;
  /** Output width. */
  readonly outFeatures: number;
  /** The class name, for messages. */
  readonly kind: string;

  /** Checks the widths; see subclasses. */
  constructor(gpu: Gpu, inFeatures: number, outFeatures: number, kind: string) {
    this.gpu = gpu;
    this.kind = kind;
    for (const [name, v] of [["inFeatures", inFeatures], ["outFeatures", outFeatures]] as const) {
      if (!Number.isInteger(v) || v < 1) {
        throw new KanError(`${kind}: ${name} must be an integer >= 1, got ${v}`);
      }
    }
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
  }

  /** The parameters, in the order of the reference's state dict. */
  abstract parameters(): readonly Parameter[];

  /** Records the forward pass of a checked input. */
  protected abstract record(x: Tensor): Trace;

  /** A float64 version of this layer with the given state (local names, no prefix). */
  abstract reference(state: Record<string, ArrayLike<number>>): ReferenceLayer;

  /** Throws a {@linkcode KanError} unless `x` is a live `[B, inFeatures]` tensor of this GPU with finite values. */
  checkInput(x: Tensor): void {
    if (!(x instanceof Tensor)) {
      throw new KanError(`${this.kind}.forward: expected a Tensor, got ${typeof x}`);
    }
    if (x.gpu !== this.gpu) throw new KanError(`${this.kind}.forward: the input lives on another Gpu`);
    if (x.disposed) throw new KanError(`${this.kind}.forward: the input tensor was disposed`);
    if (x.shape.length !== 2 || x.shape[1] !== this.inFeatures || x.shape[0] < 1) {
      throw new KanError(
        `${this.kind}.forward: expected input of shape [B, ${this.inFeatures}] with B >= 1, got ${
          formatShape(x.shape)
        }`,
      );
    }
    const bad = x.firstNonFinite;
    if (bad !== null && bad >= 0) {
      const row = Math.floor(bad / this.inFeatures);
      throw new KanError(
        `${this.kind}.forward: input holds a non-finite value at [${row}, ${bad % this.inFeatures}]`,
      );
    }
  }

  /** Records the forward pass and returns `[B, outFeatures]`. */
  forward(x: Tensor): Tensor {
    const trace = this.trace(x);
    trace.release();
    return trace.y;
  }

  /** Records the forward pass, keeping what the backward pass needs. */
  trace(x: Tensor): Trace {
    this.checkInput(x);
    return this.record(x);
  }

  /** The parameters by state-dict name. */
  namedParameters(prefix = ""): Map<string, Parameter> {
    return new Map(this.parameters().map((p) => [prefix + p.name, p]));
  }

  /** Reads the parameters (names as in the reference's `state_dict()`). */
  stateDict(): Promise<StateDict> {
    return readNamed(this.namedParameters());
  }

  /** Reads the gradients of the trainable parameters, keyed as {@linkcode stateDict}. */
  gradDict(): Promise<StateDict> {
    return readNamed(this.namedParameters(), "grad");
  }

  /** Loads a state dict; a missing, extra or misshaped entry is a {@linkcode KanError}. */
  loadStateDict(dict: StateDict): void {
    loadState(this.namedParameters(), dict);
    this.afterLoad(dict);
  }

  /** Hook for layers that mirror a loaded value on the CPU. */
  afterLoad(_dict: StateDict, _prefix = ""): void {}

  /** A float64 version of this layer with its current state. */
  async referenceFromGpu(): Promise<ReferenceLayer> {
    const dict = await this.stateDict();
    return this.reference(Object.fromEntries(Object.entries(dict).map(([k, v]) => [k, v.data])));
  }

  /** Trains the model on the GPU; see {@linkcode FitOptions}. Returns the logged losses. */
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
