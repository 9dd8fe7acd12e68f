/**
 * What every layer of the family shares: its parameters and state dict, the
 * checks on its input, a forward pass that can keep what its backward pass
 * needs, and a float64 reference of itself.
 *
 * @module
 */

import { formatShape, KanError } from "../errors.ts";
import type { Gpu } from "../gpu/gpu.ts";
import { Tensor } from "../tensor.ts";
import { Module } from "./module.ts";
import type { Parameter } from "./parameter.ts";

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
export abstract class Layer extends Module {
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
    super();
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

  /** Records the forward pass of a checked input. */
  protected abstract record(x: Tensor): Trace;

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
}
