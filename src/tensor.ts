/**
 * A float32 row-major tensor living in a GPU buffer of the pool.
 *
 * @module
 */

import { formatShape, KanError } from "./errors.ts";
import { type Gpu, STORAGE_USAGE } from "./gpu/gpu.ts";
import type { BufferRange } from "./gpu/recorder.ts";

/** Checks a shape and returns its element count. */
export function shapeSize(shape: readonly number[], what = "shape"): number {
  if (!Array.isArray(shape)) {
    throw new KanError(`${what} must be an array of dimensions, got ${typeof shape}`);
  }
  let size = 1;
  for (const d of shape) {
    if (typeof d !== "number" || !Number.isInteger(d) || d < 0) {
      throw new KanError(
        `${what} ${formatShape(shape)}: every dimension must be a non-negative integer, got ${d}`,
      );
    }
    size *= d;
  }
  return size;
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
    const size = shapeSize(shape, "Tensor.from: shape");
    if (data?.length !== size) {
      throw new KanError(
        `Tensor.from: data has ${data?.length} values but shape ${formatShape(shape)} needs ${size}`,
      );
    }
    const tensor = Tensor.empty(gpu, shape);
    const values = data instanceof Float32Array && data.buffer instanceof ArrayBuffer
      ? data as Float32Array<ArrayBuffer>
      : Float32Array.from(data);
    if (size > 0) gpu.write(tensor.buffer, 0, values);
    tensor.firstNonFinite = values.findIndex((v) => !Number.isFinite(v));
    return tensor;
  }

  /** A tensor of `shape` whose contents are undefined until written. */
  static empty(gpu: Gpu, shape: readonly number[]): Tensor {
    const size = shapeSize(shape, "Tensor.empty: shape");
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
}
