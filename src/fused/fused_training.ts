/**
 * The fused step inside `fit` and `evaluate`: the buffers a run keeps (the
 * partial gradients, the per-workgroup sums) and the dispatches of one step or
 * one evaluated chunk.
 *
 * @module
 */

import type { Gpu } from "../gpu/gpu.ts";
import type { BufferRange } from "../gpu/recorder.ts";
import type { Layer } from "../layers/layer.ts";
import type { Parameter } from "../layers/parameter.ts";
import { Tensor } from "../tensor.ts";
import { type LossName, recordSum } from "../train/loss.ts";
import type { GpuOptimizer } from "../train/optimizer.ts";
import type { GradNormClipper } from "../train/clip_grad_norm.ts";
import { reduceRows } from "../ops/reduce_rows.ts";
import {
  fusedBlocks,
  fusedFits,
  type FusedModel,
  fusedModel,
  fusedSumsLayout,
  recordFused,
} from "./fused_step.ts";

/** What the fused step needs of a model. */
export interface FusableModel {
  /** The GPU. */
  readonly gpu: Gpu;
  /** The layers, when the model is a list of them. */
  readonly layers?: readonly Layer[];
  /** Whether the fused step may run (default true). */
  readonly fused?: boolean;
}

/** A run's fused steps on a model; see the module doc. */
export class FusedTraining {
  #gpu: Gpu;
  #model: FusedModel;
  #parameters: readonly Parameter[];
  #rows: number;
  #partials: Tensor | null = null;
  #sums: Tensor;

  private constructor(gpu: Gpu, model: FusedModel, parameters: readonly Parameter[], rows: number) {
    this.#gpu = gpu;
    this.#model = model;
    this.#parameters = parameters;
    this.#rows = rows;
    this.#sums = Tensor.empty(gpu, [fusedSumsLayout(model, rows).size]);
  }

  /**
   * The fused steps of `model` (whose parameters are `parameters`) on batches
   * of at most `rows` rows, or null when it does not run fused.
   */
  static of(model: FusableModel, parameters: readonly Parameter[], rows: number): FusedTraining | null {
    if (model.fused === false || !model.layers) return null;
    const fused = fusedModel(model.gpu, { layers: model.layers, parameters: () => parameters });
    if (!fused || !fusedFits(fused, rows)) return null;
    return new FusedTraining(model.gpu, fused, parameters, rows);
  }

  /**
   * Records one training step on `count` rows of (`x`, `y`) (through `index`
   * when given): the fused kernel, the optimizer's update from its partial
   * gradients, and, when `lossOut` is given, the loss into `lossOut[0]`.
   * With `clip`, the partial gradients are first summed into the gradient
   * buffer (in the order the optimizer kernel sums them), clipped there, and
   * the optimizer reads that buffer.
   */
  step(
    optimizer: GpuOptimizer,
    loss: LossName,
    x: Tensor,
    y: Tensor,
    count: number,
    index: { range: BufferRange; start: number } | null,
    lossOut: BufferRange | null,
    clip: GradNormClipper | null = null,
  ): void {
    const size = this.#model.block.value.size;
    this.#partials ??= Tensor.zeros(this.#gpu, [fusedBlocks(this.#model, this.#rows) * size]);
    const blocks = fusedBlocks(this.#model, count);
    recordFused(this.#gpu, this.#model, {
      mode: 2,
      loss,
      x,
      target: y,
      rows: count,
      index,
      partials: this.#partials.binding,
      sums: this.#sums.binding,
      out: null,
    });
    if (clip) {
      reduceRows(this.#gpu, this.#partials.binding, blocks, size, this.#model.block.grad.binding, false);
      clip.record();
      optimizer.step(this.#parameters);
    } else {
      optimizer.step(this.#parameters, { range: this.#partials.binding, rows: blocks, stride: size });
    }
    if (lossOut) recordSum(this.#gpu, this.#sums.binding, blocks, lossOut, 0);
  }

  /**
   * Records the loss of `count` rows into `out[slot]` and, for crossEntropy,
   * the count of correct rows into `out[slot + 1]`.
   */
  evaluate(
    loss: LossName,
    x: Tensor,
    y: Tensor,
    count: number,
    index: { range: BufferRange; start: number } | null,
    out: BufferRange,
    slot: number,
  ): void {
    recordFused(this.#gpu, this.#model, {
      mode: 1,
      loss,
      x,
      target: y,
      rows: count,
      index,
      partials: null,
      sums: this.#sums.binding,
      out: null,
    });
    const blocks = fusedBlocks(this.#model, count);
    recordSum(this.#gpu, this.#sums.binding, blocks, out, slot);
    if (loss === "crossEntropy") {
      const at = fusedSumsLayout(this.#model, count).correctAt;
      recordSum(
        this.#gpu,
        { buffer: this.#sums.buffer, offset: at * 4, size: blocks * 4 },
        blocks,
        out,
        slot + 1,
      );
    }
  }

  /** Releases the run's buffers. */
  dispose(): void {
    this.#partials?.dispose();
    this.#sums.dispose();
  }
}
