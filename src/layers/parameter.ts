/**
 * Trainable (or frozen) tensors of a layer, named as in the reference
 * implementation's `state_dict()`, and the reading and loading of state dicts.
 *
 * @module
 */

import { formatShape, KanError } from "../errors.ts";
import type { Gpu } from "../gpu/gpu.ts";
import type { BufferRange } from "../gpu/recorder.ts";
import { shapeSize, Tensor } from "../tensor.ts";

/** One entry of a state dict: a shape and its row-major float32 data. */
export interface StateEntry {
  /** Dimensions (`[]` for a scalar). */
  shape: number[];
  /** Row-major values. */
  data: Float32Array;
}

/** Named tensors, keyed as in the reference implementations (`layers.<i>.<name>`). */
export type StateDict = Record<string, StateEntry>;

/** A GPU tensor holding one or more parameters, with its gradient tensor (same layout). */
export class ParameterBlock {
  /** The values. */
  readonly value: Tensor;
  #grad: Tensor | null = null;

  /** A block of `data` on `gpu`. */
  constructor(gpu: Gpu, data: Float32Array) {
    this.value = Tensor.from(gpu, data, [data.length]);
  }

  /** The gradient tensor, created as zeros on first use. */
  get grad(): Tensor {
    this.#grad ??= Tensor.zeros(this.value.gpu, [this.value.size]);
    return this.#grad;
  }

  /** Records zeroing the gradient (if it exists). */
  zeroGrad(): void {
    if (this.#grad) this.value.gpu.clear(this.#grad.buffer, 0, this.#grad.byteLength);
  }

  /** Releases both tensors. */
  dispose(): void {
    this.value.dispose();
    this.#grad?.dispose();
    this.#grad = null;
  }
}

/** A named view of `size(shape)` floats at `offset` in a {@linkcode ParameterBlock}. */
export class Parameter {
  /** The name within its layer, e.g. `"spline_weight"`. */
  readonly name: string;
  /** Its shape, as the reference's state dict has it. */
  readonly shape: readonly number[];
  /** The block holding it. */
  readonly block: ParameterBlock;
  /** Offset in floats within the block. */
  readonly offset: number;
  /** Whether gradients are computed for it and an optimizer updates it. */
  trainable: boolean;

  /** A view; see the class doc. */
  constructor(name: string, shape: readonly number[], block: ParameterBlock, offset = 0, trainable = true) {
    this.name = name;
    this.shape = shape;
    this.block = block;
    this.offset = offset;
    this.trainable = trainable;
  }

  /** A parameter that owns a new block holding `data`. */
  static of(
    gpu: Gpu,
    name: string,
    shape: readonly number[],
    data: Float32Array,
    trainable = true,
  ): Parameter {
    return new Parameter(name, shape, new ParameterBlock(gpu, data), 0, trainable);
  }

  /** Number of floats. */
  get size(): number {
    return shapeSize(this.shape);
  }

  /** The byte range of the values, to bind to kernels. */
  get range(): BufferRange {
    return { buffer: this.block.value.buffer, offset: this.offset * 4, size: Math.max(4, this.size * 4) };
  }

  /** The byte range of the gradient (created as zeros on first use). */
  get gradRange(): BufferRange {
    return { buffer: this.block.grad.buffer, offset: this.offset * 4, size: Math.max(4, this.size * 4) };
  }
}

/**
 * Reads the values (or, with `"grad"`, the gradients of the trainable ones)
 * of the named parameters into a state dict, one readback per block.
 */
export async function readNamed(
  named: ReadonlyMap<string, Parameter>,
  what: "value" | "grad" = "value",
): Promise<StateDict> {
  const entries = [...named].filter(([, p]) => what === "value" || p.trainable);
  const blocks = new Map<ParameterBlock, Promise<Float32Array>>();
  for (const [, p] of entries) {
    if (!blocks.has(p.block)) blocks.set(p.block, (what === "value" ? p.block.value : p.block.grad).read());
  }
  const dict: StateDict = {};
  for (const [key, p] of entries) {
    const data = (await blocks.get(p.block)!).slice(p.offset, p.offset + p.size);
    dict[key] = { shape: [...p.shape], data };
  }
  return dict;
}

/**
 * Checks that `dict` has exactly the keys of `named` with their shapes and
 * finite values, runs `check` (a module's own checks of the values), then
 * writes every entry. Throws a {@linkcode KanError} naming the first missing,
 * extra, misshaped or non-finite entry, or what `check` refused, before writing anything.
 */
export function loadState(named: ReadonlyMap<string, Parameter>, dict: StateDict, check?: () => void): void {
  if (typeof dict !== "object" || dict === null) {
    throw new KanError("loadStateDict: expected an object of entries");
  }
  for (const key of named.keys()) {
    if (!(key in dict)) throw new KanError(`loadStateDict: missing entry "${key}"`);
  }
  for (const [key, entry] of Object.entries(dict)) {
    const p = named.get(key);
    if (!p) {
      throw new KanError(
        `loadStateDict: unexpected entry "${key}" (expected ${[...named.keys()].join(", ")})`,
      );
    }
    const shape = entry?.shape;
    const same = Array.isArray(shape) && shape.length === p.shape.length &&
      shape.every((d, i) => d === p.shape[i]);
    if (!same) {
      throw new KanError(
        `loadStateDict: entry "${key}" has shape ${
          Array.isArray(shape) ? formatShape(shape) : String(shape)
        }, expected ${formatShape(p.shape)}`,
      );
    }
    if (entry.data?.length !== p.size) {
      throw new KanError(
        `loadStateDict: entry "${key}" has ${entry.data?.length} values, expected ${p.size}`,
      );
    }
    for (let i = 0; i < entry.data.length; i++) {
      if (!Number.isFinite(entry.data[i])) {
        throw new KanError(
          `loadStateDict: entry "${key}" holds a non-finite value (${entry.data[i]}) at index ${i}`,
        );
      }
    }
  }
  check?.();
  for (const [key, p] of named) {
    const data = Float32Array.from(dict[key].data);
    p.block.value.gpu.write(p.block.value.buffer, p.offset * 4, data);
  }
}
