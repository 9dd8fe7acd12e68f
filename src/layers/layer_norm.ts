/**
 * LayerNorm over the features of each row (torch.nn.LayerNorm: eps 1e-5,
 * biased variance, affine), forward and backward on the GPU. A row is one
 * invocation's work when its loops fit the loop-trip budget
 * (`src/gpu/loop_trips.ts`); longer rows are split into chunks of features,
 * and long batches into chunks of rows for the parameter gradients.
 *
 * @module
 */

import type { Gpu } from "../gpu/gpu.ts";
import { KernelSpecs } from "../gpu/kernel.ts";
import { unitsPerPart } from "../gpu/loop_trips.ts";
import { linearGrid, packParams } from "../gpu/params.ts";
import type { BufferRange } from "../gpu/recorder.ts";
import { reduceRows } from "../ops/reduce_rows.ts";
import { Tensor } from "../tensor.ts";
import forwardSource from "../../shaders/layer_norm_forward.wgsl" with { type: "text" };
import backwardSource from "../../shaders/layer_norm_backward.wgsl" with { type: "text" };

/** torch.nn.LayerNorm's default epsilon. */
export const LAYER_NORM_EPS = 1e-5;

const WG = 64;
const specs = new KernelSpecs();
/** Batch rows one invocation sums for the gamma and beta gradients (chunks are then summed). */
const PARAM_CHUNK_ROWS = 1024;
const FORWARD_BINDINGS = ["uniform", "read", "read", "read", "storage", "storage", "storage"] as const;
const BACKWARD_BINDINGS = [
  "uniform",
  "read",
  "read",
  "read",
  "read",
  "storage",
  "storage",
  "storage",
] as const;

/**
 * Features per chunk of a row when a kernel makes `passes` loops over it (each
 * charged its length plus one): the whole row when that fits the loop-trip budget.
 */
function featureChunk(what: string, dim: number, passes: number): number {
  return Math.min(dim, unitsPerPart(what, passes, passes));
}

/** Records `u = LN(x)` for `x` of `[rows, dim]`; `stats` (`[rows, 2]`) receives each row's mean and 1/std. */
export function layerNormForward(
  gpu: Gpu,
  rows: number,
  dim: number,
  x: BufferRange,
  gamma: BufferRange,
  beta: BufferRange,
  u: BufferRange,
  stats: BufferRange,
): void {
  const kernel = (entryPoint: string) =>
    gpu.kernel(specs.get(`forward.${entryPoint}`, () => ({
      name: `layer_norm_forward.${entryPoint}`,
      source: forwardSource,
      entryPoint,
      bindings: FORWARD_BINDINGS,
      constants: { WG },
    })));
  if (featureChunk("layer_norm_forward", dim, 3) === dim) {
    gpu.dispatch(
      kernel("main"),
      packParams("uufuu", rows, dim, LAYER_NORM_EPS, dim, 1),
      [x, gamma, beta, u, stats, gpu.placeholder(0)],
      linearGrid(rows, WG),
    );
    return;
  }
  const chunk = featureChunk("layer_norm_forward", dim, 2);
  const chunks = Math.ceil(dim / chunk);
  const params = packParams("uufuu", rows, dim, LAYER_NORM_EPS, chunk, chunks);
  const part = Tensor.empty(gpu, [rows, chunks, 3]);
  const buffers = [x, gamma, beta, u, stats, part.binding];
  gpu.dispatch(kernel("stats_partial"), params, buffers, linearGrid(rows * chunks, WG));
  gpu.dispatch(kernel("stats_combine"), params, buffers, linearGrid(rows, WG));
  gpu.dispatch(kernel("normalize"), params, buffers, linearGrid(rows * dim, WG));
  part.dispose();
}

/**
 * Records the backward pass of {@linkcode layerNormForward} for `du = dL/du`:
 * `dx` (when given; added to when `accumulate`) and, when `paramGrads` is
 * given, adds the gamma and beta gradients into them.
 */
export function layerNormBackward(
  gpu: Gpu,
  rows: number,
  dim: number,
  x: BufferRange,
  gamma: BufferRange,
  du: BufferRange,
  stats: BufferRange,
  dx: BufferRange | null,
  accumulate: boolean,
  paramGrads: { dgamma: BufferRange; dbeta: BufferRange } | null,
): void {
  const kernel = (entryPoint: string) =>
    gpu.kernel(specs.get(`backward.${entryPoint}`, () => ({
      name: `layer_norm_backward.${entryPoint}`,
      source: backwardSource,
      entryPoint,
      bindings: BACKWARD_BINDINGS,
      constants: { WG },
    })));
  const beta = accumulate ? 1 : 0;
  if (dx) {
    if (featureChunk("layer_norm_backward", dim, 2) === dim) {
      gpu.dispatch(
        kernel("input"),
        packParams("uufuuu", rows, dim, beta, dim, 1, 1),
        [x, gamma, du, stats, dx, gpu.placeholder(0), gpu.placeholder(1)],
        linearGrid(rows, WG),
      );
    } else {
      const chunk = featureChunk("layer_norm_backward", dim, 1);
      const chunks = Math.ceil(dim / chunk);
      const params = packParams("uufuuu", rows, dim, beta, chunk, chunks, 1);
      const part = Tensor.empty(gpu, [rows, chunks, 2]);
      const buffers = [x, gamma, du, stats, dx, part.binding, gpu.placeholder(1)];
      gpu.dispatch(kernel("input_partial"), params, buffers, linearGrid(rows * chunks, WG));
      gpu.dispatch(kernel("input_combine"), params, buffers, linearGrid(rows, WG));
      gpu.dispatch(kernel("input_apply"), params, buffers, linearGrid(rows * dim, WG));
      part.dispose();
    }
  }
  if (paramGrads) {
    const chunkRows = Math.min(rows, PARAM_CHUNK_ROWS, unitsPerPart("layer_norm_backward", 1, 1));
    const chunks = Math.ceil(rows / chunkRows);
    const params = packParams("uufuuu", rows, dim, beta, dim, 1, chunkRows);
    const partials = chunks > 1 ? [Tensor.empty(gpu, [chunks, dim]), Tensor.empty(gpu, [chunks, dim])] : null;
    const [dgamma, dbeta] = partials ? partials.map((t) => t.binding) : [paramGrads.dgamma, paramGrads.dbeta];
    gpu.dispatch(
      kernel("params"),
      params,
      [x, gamma, du, stats, gpu.placeholder(0), dgamma, dbeta],
      linearGrid(chunks * dim, WG),
    );
    if (partials) {
      reduceRows(gpu, dgamma, chunks, dim, paramGrads.dgamma, true);
      reduceRows(gpu, dbeta, chunks, dim, paramGrads.dbeta, true);
      for (const t of partials) t.dispose();
    }
  }
}
