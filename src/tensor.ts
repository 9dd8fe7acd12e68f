/**
 * A float32 row-major tensor living in a GPU buffer of the pool.
 *
 * @module
 */

import { formatShape, KanError } from "./errors.ts";
import { type Gpu, STORAGE_USAGE } from "./gpu/gpu.ts";
import type { BufferRange } from "./gpu/recorder.ts";
import { checkGpu, checkTensorSize, describe } from "./validate.ts";

/** Checks a shape (an array of non-negative integers) and returns its element count. */
export function shapeSize(shape: readonly number[], what = "shape"): number {
  if (!Array.isArray(shape)) {
    throw new KanError(`${what} must be an array of dimensions, got ${describe(shape)}`);
  }
  let size = 1;
  for (const d of shape as unknown[]) {
    if (!Number.isSafeInteger(d) || (d as number) < 0) {
      throw new KanError(
        `${what} ${describe(shape)}: every dimension must be a non-negative integer, got ${describe(d)}`,
      );
    }
    size *= d as number;
  }
  if (!Number.isSafeInteger(size)) throw new KanError(`${what} ${describe(shape)} has too many elements`);
  return size;
}

/** The values of `data` as float32, checking that it is an array or typed array of numbers. */
function float32Values(data: unknown, size: number, shape: readonly number[]): Float32Array<ArrayBuffer> {
  const arrayLike = Array.isArray(data) || (ArrayBuffer.isView(data) && !(data instanceof DataView));
  if (!arrayLike) {
    throw new KanError(
      `Tensor.from: data must be an array or a typed array of numbers, got ${describe(data)}`,
    );
  }
  const values = data as ArrayLike<unknown>;
  if (values.length !== size) {
    throw new KanError(
      `Tensor.from: data has ${values.length} values but shape ${formatShape(shape)} needs ${size}`,
    );
  }
  if (data instanceof Float32Array && data.buffer instanceof ArrayBuffer) {
    return data as Float32Array<ArrayBuffer>;
  }
  if (Array.isArray(data) || data instanceof BigInt64Array || data instanceof BigUint64Array) {
    for (let i = 0; i < values.length; i++) {
      if (typeof values[i] !== "number") {
        throw new KanError(`Tensor.from: data[${i}] must be a number, got ${describe(values[i])}`);
      }
    }
  }
  return Float32Array.from(values as ArrayLike<number>);
}

/**
 * A float32 tensor on the GPU.
 *
 * @example
 * ```ts
 * import { Gpu, Tensor } from "../mod.ts";
 * const gpu = await Gpu.request();
 * const x = Tensor.from(gpu, [1, 2, 3, 4, 5, 6], [2, 3]);
 * console.log(x.shape, await x.read()); // [2, 3] Float32Array(6) [1, 2, 3, 4, 5, 6]
 * x.dispose();
 * gpu.destroy();
 * ```
 */
export class Tensor {
  /** The GPU this tensor lives on. */
  readonly gpu: Gpu;
  /** Dimensions, row-major. */
  readonly shape: readonly number[];
  /** Number of elements. */
  readonly size: number;
  /**
   * The index of the first NaN or infinite value when known from the upload
   * (`-1`: all finite), `null` when the GPU made the values.
   */
  firstNonFinite: number | null = null;
  #buffer: GPUBuffer | null;

  /** Wraps a pooled buffer of at least `4 * size(shape)` bytes; prefer {@linkcode Tensor.from} or {@linkcode Tensor.empty}. */
  constructor(gpu: Gpu, shape: readonly number[], buffer: GPUBuffer) {
    this.gpu = gpu;
    this.shape = Object.freeze([...shape]);
    this.size = shapeSize(shape);
    this.#buffer = buffer;
  }

  /** A tensor of `shape` holding `data` (converted to float32). */
  static from(gpu: Gpu, data: ArrayLike<number>, shape: readonly number[]): Tensor {
    checkGpu("Tensor.from", gpu);
    const size = shapeSize(shape, "Tensor.from: shape");
    checkTensorSize(gpu, `Tensor.from: a tensor of shape ${formatShape(shape)}`, size);
    const values = float32Values(data, size, shape);
    const tensor = Tensor.empty(gpu, shape);
    if (size > 0) gpu.write(tensor.buffer, 0, values);
    tensor.firstNonFinite = values.findIndex((v) => !Number.isFinite(v));
    return tensor;
  }

  /**
   * A tensor of `shape` whose contents are undefined until written. A tensor
   * larger than the device can bind to a kernel (`maxStorageBufferBindingSize`)
   * is a {@linkcode KanError}, before anything is allocated.
   */
  static empty(gpu: Gpu, shape: readonly number[]): Tensor {
    checkGpu("Tensor.empty", gpu);
    const size = shapeSize(shape, "Tensor.empty: shape");
    checkTensorSize(gpu, `a tensor of shape ${formatShape(shape)}`, size);
    return new Tensor(gpu, shape, gpu.pool.acquire(Math.max(4, size * 4), STORAGE_USAGE, "kan-tensor"));
  }

  /** A tensor of `shape` filled with zeros. */
  static zeros(gpu: Gpu, shape: readonly number[]): Tensor {
    const tensor = Tensor.empty(gpu, shape);
    gpu.clear(tensor.buffer, 0, tensor.byteLength);
    return tensor;
  }

  /** Whether {@linkcode Tensor.dispose} was called. */
  get disposed(): boolean {
    return this.#buffer === null;
  }

  /** Bytes of data (4 per element). */
  get byteLength(): number {
    return this.size * 4;
  }

  /** The GPU buffer; throws a {@linkcode KanError} after dispose. */
  get buffer(): GPUBuffer {
    if (!this.#buffer) {
      throw new KanError(`tensor of shape ${formatShape(this.shape)} was used after dispose()`);
    }
    return this.#buffer;
  }

  /** The buffer range to bind to a kernel (at least 4 bytes). */
  get binding(): BufferRange {
    return { buffer: this.buffer, offset: 0, size: Math.max(4, this.byteLength) };
  }

  /** A copy of the data, after all recorded work on the GPU (one readback). */
  async read(): Promise<Float32Array> {
    const bytes = await this.gpu.read(this.buffer, 0, this.byteLength);
    return new Float32Array(bytes);
  }

  /** Returns the buffer to the pool. Later use throws; a second dispose does nothing. */
  dispose(): void {
    if (!this.#buffer) return;
    this.gpu.pool.release(this.#buffer);
    this.#buffer = null;
  }

  /** {@linkcode dispose}, for `using x = Tensor.from(...)`. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}
