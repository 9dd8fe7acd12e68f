/**
 * Minibatches: a seeded permutation per epoch, uploaded once, and a kernel
 * that gathers the rows of a batch on the GPU.
 *
 * @module
 */

import type { Gpu } from "../gpu/gpu.ts";
import { STORAGE_USAGE } from "../gpu/gpu.ts";
import type { KernelSpec } from "../gpu/kernel.ts";
import { linearGrid } from "../gpu/params.ts";
import type { BufferRange } from "../gpu/recorder.ts";
import type { Rng } from "../layers/init.ts";
import { Tensor } from "../tensor.ts";
import source from "../../shaders/train/gather_rows.wgsl" with { type: "text" };

const WG = 256;

const SPEC: KernelSpec = {
  name: "gather_rows",
  source,
  bindings: ["uniform", "read", "read", "storage"],
  constants: { WG },
};

/** A Fisher-Yates permutation of `0 .. n-1` from `rng` (identity when `shuffle` is false). */
export function permutation(n: number, rng: Rng | null): Uint32Array<ArrayBuffer> {
  const order = Uint32Array.from({ length: n }, (_, i) => i);
  if (!rng) return order;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/** The row order of one epoch on the GPU, and the gathering of batches from it. */
export class EpochOrder {
  #gpu: Gpu;
  #buffer: GPUBuffer;
  #rows: number;

  /** Uploads an order of `rows` rows. */
  constructor(gpu: Gpu, order: Uint32Array<ArrayBuffer>) {
    this.#gpu = gpu;
    this.#rows = order.length;
    this.#buffer = gpu.pool.acquire(Math.max(4, order.byteLength), STORAGE_USAGE, "kan-epoch-order");
    gpu.write(this.#buffer, 0, order);
  }

  /** The order on the GPU (u32 row indices), for kernels that read rows through it. */
  get range(): BufferRange {
    return { buffer: this.#buffer, offset: 0, size: Math.max(4, this.#rows * 4) };
  }

  /** Records a new tensor holding rows `order[start .. start + count)` of `src` (`[N, ...]`). */
  gather(src: Tensor, start: number, count: number): Tensor {
    const cols = src.size / src.shape[0];
    const dst = Tensor.empty(this.#gpu, [count, ...src.shape.slice(1)]);
    const kernel = this.#gpu.kernel(SPEC);
    this.#gpu.dispatch(
      kernel,
      { layout: "uuu", values: [count, cols, start] },
      [src.binding, this.range, dst.binding],
      linearGrid(count * cols, WG),
    );
    return dst;
  }

  /** Returns the order's buffer to the pool. */
  dispose(): void {
    this.#gpu.pool.release(this.#buffer);
  }
}
