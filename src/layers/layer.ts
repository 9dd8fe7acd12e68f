/**
 * What every layer of the family shares: its parameters and state dict, the
 * checks on its input, a forward pass that can keep what its backward pass
 * needs, and a float64 reference of itself.
 *
 * @module
 */

import { formatShape, KanError } from "../errors.ts";
import type { Gpu } from "../gpu/gpu.ts";
import type { Tensor } from "../tensor.ts";
import {
  BOOLEAN,
  check,
  checkFinite,
  checkGpu,
  checkRows,
  checkTensor,
  checkTensorSize,
  COUNT,
  sameShape,
} from "../validate.ts";
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

/**
 * Wraps `trace` so that its backward pass first checks `dy` (a live tensor
 * of the output's GPU and shape, with finite values when known), that the
 * input is still alive, and that the trace was not released, before
 * recording anything. `owner` names the layer or model in messages.
 */
export function checkedTrace(owner: string, x: Tensor, trace: Trace): Trace {
  let released = false;
  return {
    y: trace.y,
    backward(dy, inputGrad) {
      const where = `${owner}.backward`;
      if (released) throw new KanError(`${where}: the trace was released; trace the input again`);
      checkTensor(`${where}: dy`, dy, trace.y.gpu);
      if (!sameShape(dy.shape, trace.y.shape)) {
        throw new KanError(
          `${where}: dy has shape ${formatShape(dy.shape)}, expected the output's ${
            formatShape(trace.y.shape)
          }`,
        );
      }
      checkFinite(`${where}: dy`, dy);
      checkTensor(`${where}: the traced input`, x, trace.y.gpu);
      const wanted = inputGrad === undefined ? false : check(`${where}: inputGrad`, inputGrad, BOOLEAN);
      return trace.backward(dy, wanted);
    },
    release() {
      released = true;
      trace.release();
    },
  };
}

/**
 * The base of every layer; subclasses define their parameters, `record` and
 * `reference`. A layer is a {@linkcode Module}: it trains, saves and loads on
 * its own, and a `Sequential` chains layers.
 *
 * @example
 * ```ts
 * import { Gpu, type Layer, Linear, ReLUKAN, Sequential } from "../../mod.ts";
 * const gpu = await Gpu.request();
 * const layers: Layer[] = [new ReLUKAN(gpu, 2, 4, { seed: 1 }), new Linear(gpu, 4, 1, { seed: 2 })];
 * const model = new Sequential(layers);
 * console.log(layers[0].inFeatures, layers[0].outFeatures, model.outFeatures); // 2 4 1
 * gpu.destroy();
 * ```
 */
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
    this.gpu = checkGpu(kind, gpu);
    this.kind = kind;
    this.inFeatures = check(`${kind}: inFeatures`, inFeatures, COUNT);
    this.outFeatures = check(`${kind}: outFeatures`, outFeatures, COUNT);
  }

  /**
   * Throws a {@linkcode KanError} naming the layer, the tensor and the limit
   * when a parameter `name` of `shape` would not fit the device; call before
   * allocating it.
   */
  protected checkParameterSize(name: string, shape: readonly number[]): void {
    const floats = shape.reduce((a, b) => a * b, 1);
    checkTensorSize(this.gpu, `${this.kind}: parameter "${name}" ${formatShape(shape)}`, floats);
  }

  /** Records the forward pass of a checked input. */
  protected abstract record(x: Tensor): Trace;

  /** Throws a {@linkcode KanError} unless `x` is a live `[B, inFeatures]` tensor of this GPU with finite values. */
  checkInput(x: Tensor): void {
    const where = `${this.kind}.forward`;
    checkTensor(`${where}: the input`, x, this.gpu);
    checkRows(where, "input", x, this.inFeatures);
    checkFinite(`${where}: the input`, x);
    checkTensorSize(
      this.gpu,
      `${where}: the output [${x.shape[0]}, ${this.outFeatures}]`,
      x.shape[0] * this.outFeatures,
    );
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
    return checkedTrace(this.kind, x, this.record(x));
  }

  /** The parameters by state-dict name. */
  namedParameters(prefix = ""): Map<string, Parameter> {
    return new Map(this.parameters().map((p) => [prefix + p.name, p]));
  }
}
