/**
 * Column sums on the GPU (`out[c] = sum_r a[r, c]`), in levels of bounded
 * chunks so that no invocation loops past the loop-trip budget, and the
 * split-reduction pattern of the layer kernels built on it.
 *
 * @module
 */

import type { Gpu } from "../gpu/gpu.ts";
import { unitsPerPart } from "../gpu/loop_trips.ts";
import type { KernelSpec } from "../gpu/kernel.ts";
import { linearGrid, MAX_WORKGROUPS_PER_DIMENSION } from "../gpu/params.ts";
import type { BufferRange } from "../gpu/recorder.ts";
import { Tensor } from "../tensor.ts";
import source from "../../shaders/reduce_rows.wgsl" with { type: "text" };

const WG = 256;

const SPEC: KernelSpec = {
  name: "reduce_rows",
  source,
  bindings: ["uniform", "read", "read", "storage"],
  constants: { WG },
};

/** The most rows one invocation sums (fewer when the loop-trip budget is lower). */
export const MAX_CHUNK_ROWS = 4096;

/**
 * The most floats of partial sums one split reduction keeps at once: the
 * device's binding size, or less where tests set `floats` to force groups.
 */
export const partialLimit: { floats: number } = { floats: Infinity };

/** A bias added to column `c` of a reduction: `bias[c % period]`. */
export interface ColumnBias {
  /** The bias values. */
  range: BufferRange;
  /** Its length: column `c` gets `bias[c % period]`. */
  period: number;
}

function dispatchLevel(
  gpu: Gpu,
  a: BufferRange,
  rows: number,
  cols: number,
  chunkRows: number,
  out: BufferRange,
  accumulate: boolean,
  bias: ColumnBias | null,
): void {
  gpu.dispatch(
    gpu.kernel(SPEC),
    { layout: "uuufu", values: [rows, cols, chunkRows, accumulate ? 1 : 0, bias?.period ?? 0] },
    [a, bias?.range ?? gpu.placeholder(0), out],
    linearGrid(Math.ceil(rows / chunkRows) * cols, WG),
  );
}

/**
 * Records the sums of each chunk of `chunkRows` rows of `a` (`[rows, cols]`)
 * into a new tensor of `[ceil(rows / chunkRows), cols]`, one invocation per
 * (chunk, column).
 */
export function chunkSums(gpu: Gpu, a: BufferRange, rows: number, cols: number, chunkRows: number): Tensor {
  const sums = Tensor.empty(gpu, [Math.ceil(rows / chunkRows), cols]);
  dispatchLevel(gpu, a, rows, cols, chunkRows, sums.binding, false, null);
  return sums;
}

/**
 * Records `out[c] = (accumulate ? out[c] : 0) + sum_r a[r, c] (+ bias[c % period])`
 * for `a` of shape `[rows, cols]`: one dispatch when `rows` fits one chunk,
 * else a level of chunk sums first (repeated as needed). Deterministic.
 *
 * @example
 * ```ts
 * import { Gpu, Tensor } from "../../mod.ts";
 * import { reduceRows } from "./reduce_rows.ts";
 * const gpu = await Gpu.request();
 * const a = Tensor.from(gpu, [1, 2, 3, 4, 5, 6], [3, 2]);
 * const out = Tensor.empty(gpu, [2]);
 * reduceRows(gpu, a.binding, 3, 2, out.binding, false);
 * console.log(await out.read()); // Float32Array [9, 12]
 * gpu.destroy();
 * ```
 */
export function reduceRows(
  gpu: Gpu,
  a: BufferRange,
  rows: number,
  cols: number,
  out: BufferRange,
  accumulate: boolean,
  bias: ColumnBias | null = null,
): void {
  const chunkRows = Math.min(MAX_CHUNK_ROWS, unitsPerPart("reduce_rows", 1, 1));
  let source = a;
  let n = rows;
  const temporaries: Tensor[] = [];
  while (n > chunkRows) {
    const sums = chunkSums(gpu, source, n, cols, chunkRows);
    temporaries.push(sums);
    source = sums.binding;
    n = sums.shape[0];
  }
  dispatchLevel(gpu, source, n, cols, Math.max(n, 1), out, accumulate, bias);
  for (const t of temporaries) t.dispose();
}

/**
 * Records a reduction split into `parts` parts of `size` floats each, summed
 * into `target`. `record(base, count, out, last)` records parts `base ..
 * base + count - 1` writing part `base + t` at row `t` of `out`; with one part
 * it writes `target` itself (`last` true: the kernel applies `accumulate` and
 * the bias). With several, the parts go through a temporary of at most the
 * device's binding size, in groups, each group summed into `target` by
 * {@linkcode reduceRows} (the first with `accumulate` and the bias, the others
 * accumulating).
 */
export function reduceParts(
  gpu: Gpu,
  parts: number,
  size: number,
  target: BufferRange,
  accumulate: boolean,
  bias: ColumnBias | null,
  record: (base: number, count: number, out: BufferRange, last: boolean) => void,
): void {
  if (parts === 1) {
    record(0, 1, target, true);
    return;
  }
  const limit = Math.min(partialLimit.floats, Math.floor(gpu.device.limits.maxStorageBufferBindingSize / 4));
  // A tiled kernel's parts of one group are its z workgroups.
  const most = MAX_WORKGROUPS_PER_DIMENSION;
  const group = Math.max(1, Math.min(parts, most, Math.floor(limit / Math.max(1, size))));
  const partial = Tensor.empty(gpu, [group, size]);
  for (let base = 0; base < parts; base += group) {
    const count = Math.min(group, parts - base);
    record(base, count, partial.binding, false);
    reduceRows(gpu, partial.binding, count, size, target, accumulate || base > 0, base === 0 ? bias : null);
  }
  partial.dispose();
}
