/**
 * What every optimizer shares: the trainable ranges of each parameter block,
 * and per-block state tensors created on first use.
 *
 * @module
 */

import type { Gpu } from "../gpu/gpu.ts";
import type { Parameter, ParameterBlock } from "../layers/parameter.ts";
import { Tensor } from "../tensor.ts";

/** A contiguous trainable run of a block: `count` floats from `offset`. */
export interface TrainableRange {
  /** The block. */
  block: ParameterBlock;
  /** Offset in floats. */
  offset: number;
  /** Number of floats. */
  count: number;
}

/** The trainable runs of `parameters`, adjacent views of one block merged. */
export function trainableRanges(parameters: readonly Parameter[]): TrainableRange[] {
  const ranges: TrainableRange[] = [];
  const sorted = parameters.filter((p) => p.trainable && p.size > 0);
  for (const p of sorted) {
    const last = ranges.find((r) => r.block === p.block && r.offset + r.count === p.offset);
    if (last) last.count += p.size;
    else ranges.push({ block: p.block, offset: p.offset, count: p.size });
  }
  return ranges;
}

/** An optimizer that updates parameters on the GPU from their gradients, with no CPU round trip. */
export interface GpuOptimizer {
  /** Its name, for messages. */
  readonly name: string;
  /** Records one update of every trainable parameter. */
  step(parameters: readonly Parameter[]): void;
  /** Releases its state. */
  dispose(): void;
}

/** Zeroed state tensors per block (momentum buffers, moments), created on first use. */
export class BlockState {
  #tensors = new Map<ParameterBlock, Tensor[]>();
  #count: number;

  /** `count` state tensors per block. */
  constructor(count: number) {
    this.#count = count;
  }

  /** Whether `block` already has state. */
  has(block: ParameterBlock): boolean {
    return this.#tensors.has(block);
  }

  /** The state tensors of `block`. */
  of(gpu: Gpu, block: ParameterBlock): Tensor[] {
    let state = this.#tensors.get(block);
    if (!state) {
      state = Array.from({ length: this.#count }, () => Tensor.zeros(gpu, [block.value.size]));
      this.#tensors.set(block, state);
    }
    return state;
  }

  /** Releases every state tensor. */
  dispose(): void {
    for (const list of this.#tensors.values()) for (const t of list) t.dispose();
    this.#tensors.clear();
  }
}
