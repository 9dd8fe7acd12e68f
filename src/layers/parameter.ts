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
import { checkGpu, describe, FINITE, FLOAT32_MAX, isPlainObject, sameShape } from "../validate.ts";
import { inverseAxes, permute } from "./layout.ts";

/** One entry of a state dict: a shape and its row-major float32 data. */
export interface StateEntry {
  /** Dimensions (`[]` for a scalar). */
  shape: number[];
  /** Row-major values. */
  data: Float32Array;
}

/** Named tensors, keyed as in the reference implementations (`layers.<i>.<name>`). */
export type StateDict = Record<string, StateEntry>;

/**
 * A GPU tensor holding one or more parameters, with its gradient tensor (same
 * layout): a model's parameters share one block, so that an optimizer updates
 * them in one dispatch.
 *
 * @example
 * ```ts
 * import { Gpu, kan } from "../../mod.ts";
 * const gpu = await Gpu.request();
 * const model = kan(gpu, [2, 3, 1], { basis: "relu" });
 * const blocks = new Set(model.parameters().map((p) => p.block));
 * console.log(blocks.size); // 1
 * gpu.destroy();
 * ```
 */
export class ParameterBlock {
  /** The values. */
  readonly value: Tensor;
  #grad: Tensor | null = null;

  /** A block of `data` on `gpu` (or, given a tensor, a block over it). */
  constructor(gpu: Gpu, data: Float32Array | Tensor) {
    this.value = data instanceof Tensor ? data : Tensor.from(gpu, data, [data.length]);
  }

  /** Whether its gradient tensor exists (it is made on first use). */
  get hasGrad(): boolean {
    return this.#grad !== null;
  }

  /** The parameters that view this block. */
  readonly views: Set<Parameter> = new Set();

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

/**
 * A named view of `size(shape)` floats at `offset` in a {@linkcode ParameterBlock}.
 *
 * @example
 * ```ts
 * import { Gpu, Linear } from "../../mod.ts";
 * const gpu = await Gpu.request();
 * const layer = new Linear(gpu, 3, 2, { seed: 0 });
 * for (const [name, p] of layer.namedParameters()) console.log(name, p.shape, p.trainable);
 * // weight [2, 3] true, bias [2] true
 * gpu.destroy();
 * ```
 */
export class Parameter {
  /** The name within its layer, e.g. `"spline_weight"`. */
  readonly name: string;
  /** Its shape, as the reference's state dict has it. */
  readonly shape: readonly number[];
  /** Whether gradients are computed for it and an optimizer updates it. */
  trainable: boolean;
  /**
   * How the block holds it, when not as `shape` row-major: the block holds
   * `permute(value, shape, axes)` (torch's `value.permute(axes)`), e.g. a
   * reference's `[in, out, nBasis]` coefficients as the kernels' `[out, in, nBasis]`.
   * State dicts and gradients are given and taken in `shape`'s layout.
   */
  readonly axes: readonly number[] | null;
  #block: ParameterBlock;
  #offset: number;

  /** A view; see the class doc. */
  constructor(
    name: string,
    shape: readonly number[],
    block: ParameterBlock,
    offset = 0,
    trainable = true,
    axes: readonly number[] | null = null,
  ) {
    this.name = name;
    this.shape = shape;
    this.#block = block;
    this.#offset = offset;
    this.trainable = trainable;
    this.axes = axes;
    block.views.add(this);
  }

  /** `data` (in `shape`'s layout) as the block holds it (see {@linkcode Parameter.axes}). */
  toBlock(data: Float32Array<ArrayBuffer>): Float32Array<ArrayBuffer> {
    return this.axes ? permute(data, this.shape, this.axes) : data;
  }

  /** `data` as the block holds it, in `shape`'s layout (see {@linkcode Parameter.axes}). */
  fromBlock(data: Float32Array<ArrayBuffer>): Float32Array<ArrayBuffer> {
    return this.axes ? permute(data, this.axes.map((a) => this.shape[a]), inverseAxes(this.axes)) : data;
  }

  /** The block holding it. */
  get block(): ParameterBlock {
    return this.#block;
  }

  /** Offset in floats within the block. */
  get offset(): number {
    return this.#offset;
  }

  /** Moves the view to `offset` in `block` (the values must have been copied there; see `flat_parameters.ts`). */
  relocate(block: ParameterBlock, offset: number): void {
    this.#block.views.delete(this);
    this.#block = block;
    this.#offset = offset;
    block.views.add(this);
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
 * Throws a {@linkcode KanError} naming `owner` when the GPU of the parameters
 * was destroyed or a parameter was disposed, so that nothing is started then.
 */
export function checkParametersLive(owner: string, named: ReadonlyMap<string, Parameter>): void {
  for (const [key, p] of named) {
    checkGpu(owner, p.block.value.gpu);
    if (p.block.value.disposed) {
      throw new KanError(
        `${owner}: parameter "${key}" was disposed (model.dispose()); build the model again`,
      );
    }
  }
}

/**
 * Reads the values (or, with `"grad"`, the gradients of the trainable ones)
 * of the named parameters into a state dict, one readback per block. Every
 * read is started together and awaited together, so a failure of any of them
 * is one rejection, never an unhandled one.
 */
export async function readNamed(
  named: ReadonlyMap<string, Parameter>,
  what: "value" | "grad" = "value",
): Promise<StateDict> {
  checkParametersLive(what === "value" ? "stateDict" : "gradDict", named);
  const entries = [...named].filter(([, p]) => what === "value" || p.trainable);
  const blocks = [...new Set(entries.map(([, p]) => p.block))];
  const read = async (block: ParameterBlock) => await (what === "value" ? block.value : block.grad).read();
  const data = await Promise.all(blocks.map(read));
  const of = new Map(blocks.map((block, i) => [block, data[i]]));
  const dict: StateDict = {};
  for (const [key, p] of entries) {
    dict[key] = {
      shape: [...p.shape],
      data: p.fromBlock(of.get(p.block)!.slice(p.offset, p.offset + p.size)),
    };
  }
  return dict;
}

/**
 * Checks that `dict` has exactly the keys of `named` with their shapes and
 * finite float32 values, runs `check` (a module's own checks of the values),
 * then writes every entry. Throws a {@linkcode KanError} naming the first
 * missing, extra or misshaped entry, or the key and index of a value that is
 * not a finite float32 number, or what `check` refused, before writing anything.
 */
export function loadState(named: ReadonlyMap<string, Parameter>, dict: StateDict, check?: () => void): void {
  if (!isPlainObject(dict)) {
    throw new KanError(`loadStateDict: expected a plain object of entries, got ${describe(dict)}`);
  }
  checkParametersLive("loadStateDict", named);
  for (const key of named.keys()) {
    if (!(key in dict)) throw new KanError(`loadStateDict: missing entry "${key}"`);
  }
  for (const [key, entry] of Object.entries(dict)) {
    const p = named.get(key);
    if (!p) {
      throw new KanError(
        `loadStateDict: unexpected entry ${describe(key)} (expected ${[...named.keys()].join(", ")})`,
      );
    }
    const shape = (entry as Partial<StateEntry> | null)?.shape;
    if (!Array.isArray(shape) || !sameShape(shape, p.shape)) {
      throw new KanError(
        `loadStateDict: entry "${key}" has shape ${
          Array.isArray(shape) && shape.every((d) => typeof d === "number")
            ? formatShape(shape)
            : describe(shape)
        }, expected ${formatShape(p.shape)}`,
      );
    }
    const data = entry.data as ArrayLike<unknown> | undefined;
    if (typeof data !== "object" || data === null) {
      throw new KanError(
        `loadStateDict: entry "${key}" has data ${describe(data)}, expected ${p.size} numbers`,
      );
    }
    if (data.length !== p.size) {
      throw new KanError(
        `loadStateDict: entry "${key}" has ${describe(data.length)} values, expected ${p.size}`,
      );
    }
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (FINITE.test(v)) continue;
      const what = typeof v !== "number"
        ? `${describe(v)}, not a number,`
        : Number.isFinite(v)
        ? `${v}, beyond float32's range (|v| <= ${FLOAT32_MAX}),`
        : `a non-finite value (${v})`;
      throw new KanError(`loadStateDict: entry "${key}" holds ${what} at index ${i}`);
    }
  }
  check?.();
  for (const [key, p] of named) {
    const data = p.toBlock(Float32Array.from(dict[key].data));
    p.block.value.gpu.write(p.block.value.buffer, p.offset * 4, data);
  }
}
