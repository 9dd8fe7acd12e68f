/**
 * BatchNorm1d over the features of a `[rows, F]` batch (torch.nn.BatchNorm1d:
 * eps 1e-5, momentum 0.1, affine, running statistics), forward and backward on
 * the GPU, with its float64 reference. In training mode it normalizes by the
 * batch's mean and biased variance and moves the running statistics
 * (`running_mean`, the unbiased `running_var`, `num_batches_tracked`) on the GPU;
 * in evaluation mode it normalizes by the running statistics. Its parameters
 * lie together in the layer's parameter range from float `bnBase`: weight,
 * bias, running_mean, running_var (`[F]` each), num_batches_tracked (one float).
 *
 * @module
 */

import { KanError } from "../errors.ts";
import type { Gpu } from "../gpu/gpu.ts";
import { KernelSpecs } from "../gpu/kernel.ts";
import { unitsPerPart } from "../gpu/loop_trips.ts";
import { linearGrid, packParams } from "../gpu/params.ts";
import type { BufferRange } from "../gpu/recorder.ts";
import { reduceRows } from "../ops/reduce_rows.ts";
import { Tensor } from "../tensor.ts";
import source from "../../shaders/batch_norm.wgsl" with { type: "text" };

/** torch.nn.BatchNorm1d's default epsilon. */
export const BATCH_NORM_EPS = 1e-5;
/** torch.nn.BatchNorm1d's default momentum. */
export const BATCH_NORM_MOMENTUM = 0.1;

const WG = 64;
/** The most rows one invocation sums (fewer where the loop-trip budget says). */
const CHUNK_ROWS = 1024;
const specs = new KernelSpecs();
const BINDINGS = ["uniform", "read", "read", "read", "storage", "storage"] as const;

function kernel(gpu: Gpu, entryPoint: string) {
  return gpu.kernel(specs.get(entryPoint, () => ({
    name: `batch_norm.${entryPoint}`,
    source,
    entryPoint,
    bindings: BINDINGS,
  })));
}

/** Rows per chunk of the column sums: a loop of `chunk` iterations costs `chunk + 1` trips. */
function chunkRows(rows: number): number {
  return Math.min(rows, CHUNK_ROWS, unitsPerPart("batch_norm", 1, 1));
}

/** The floats of the `stats` tensor that {@linkcode batchNormForward} fills and the backward reads. */
export function batchNormStatsSize(features: number): number {
  return 4 * features;
}

/**
 * Records `y = BN(z)` for `z` of `[rows, features]`: with batch statistics
 * (moving the running ones) when `training`, else with the running ones.
 * `state` is the parameter range holding the norm's entries from float
 * `bnBase`; `stats` ({@linkcode batchNormStatsSize} floats) receives the mean
 * and 1/std used, for the backward pass. Training on one row is a `KanError`,
 * as in PyTorch.
 */
export function batchNormForward(
  gpu: Gpu,
  rows: number,
  features: number,
  z: BufferRange,
  state: BufferRange,
  bnBase: number,
  training: boolean,
  stats: BufferRange,
  y: BufferRange,
  owner = "BatchNorm1d",
): void {
  if (training && rows < 2) {
    throw new KanError(
      `${owner}.forward: training mode needs more than 1 row per batch to take batch statistics, got ${rows} ` +
        `(as PyTorch's BatchNorm1d); call model.eval() to use the running statistics`,
    );
  }
  const chunk = chunkRows(rows);
  const chunks = Math.ceil(rows / chunk);
  const params = (flag: number) =>
    packParams("uuuuffuu", rows, features, chunk, bnBase, BATCH_NORM_EPS, BATCH_NORM_MOMENTUM, flag, 0);
  const ph = (slot: number) => gpu.placeholder(slot);
  const grid = (n: number) => linearGrid(n, WG);
  if (training) {
    const partial = Tensor.empty(gpu, [chunks, features]);
    const sum = Tensor.empty(gpu, [features]);
    const m2 = Tensor.empty(gpu, [features]);
    gpu.dispatch(
      kernel(gpu, "sum_partial"),
      params(0),
      [z, ph(0), ph(1), ph(2), partial.binding],
      grid(chunks * features),
    );
    reduceRows(gpu, partial.binding, chunks, features, sum.binding, false);
    gpu.dispatch(
      kernel(gpu, "sq_partial"),
      params(0),
      [z, sum.binding, ph(1), ph(2), partial.binding],
      grid(chunks * features),
    );
    reduceRows(gpu, partial.binding, chunks, features, m2.binding, false);
    gpu.dispatch(
      kernel(gpu, "finalize_train"),
      params(1),
      [sum.binding, m2.binding, ph(1), state, stats],
      grid(features),
    );
    for (const t of [partial, sum, m2]) t.dispose();
  } else {
    gpu.dispatch(
      kernel(gpu, "finalize_eval"),
      params(0),
      [ph(0), ph(1), ph(2), state, stats],
      grid(features),
    );
  }
  gpu.dispatch(kernel(gpu, "normalize"), params(0), [z, ph(1), stats, state, y], grid(rows * features));
}

/**
 * Records the backward pass of {@linkcode batchNormForward} for `dy`: `dz`
 * (when given; overwritten) and, for the bits of `mask` (1: weight, 2: bias),
 * adds the weight and bias gradients into `grads` (the gradient range laid out
 * as `state`). `training` must be the forward pass's.
 */
export function batchNormBackward(
  gpu: Gpu,
  rows: number,
  features: number,
  z: BufferRange,
  dy: BufferRange,
  state: BufferRange,
  bnBase: number,
  training: boolean,
  stats: Tensor,
  dz: BufferRange | null,
  grads: BufferRange | null,
  mask: number,
): void {
  const chunk = chunkRows(rows);
  const chunks = Math.ceil(rows / chunk);
  const params = (flag: number) =>
    packParams("uuuuffuu", rows, features, chunk, bnBase, BATCH_NORM_EPS, BATCH_NORM_MOMENTUM, flag, 0);
  const ph = (slot: number) => gpu.placeholder(slot);
  const partial = Tensor.empty(gpu, [chunks, 2 * features]);
  const sums = Tensor.empty(gpu, [2 * features]);
  gpu.dispatch(
    kernel(gpu, "grad_partial"),
    params(0),
    [z, dy, stats.binding, ph(2), partial.binding],
    linearGrid(chunks * features, WG),
  );
  reduceRows(gpu, partial.binding, chunks, 2 * features, sums.binding, false);
  gpu.copy(sums.buffer, 0, stats.buffer, 8 * features, 8 * features);
  for (const t of [partial, sums]) t.dispose();
  if (dz) {
    gpu.dispatch(
      kernel(gpu, "grad_input"),
      params(training ? 1 : 0),
      [z, dy, stats.binding, state, dz],
      linearGrid(rows * features, WG),
    );
  }
  if (grads && mask !== 0) {
    gpu.dispatch(
      kernel(gpu, "grad_params"),
      params(mask),
      [ph(0), ph(1), stats.binding, state, grads],
      linearGrid(features, WG),
    );
  }
}

/** What the float64 {@linkcode batchNormReference} keeps for its backward pass. */
export interface BatchNormTrace {
  /** The output `[rows, F]`. */
  y: Float64Array;
  /** The normalized input. */
  zhat: Float64Array;
  /** 1/std per feature. */
  invStd: Float64Array;
  /** The batch mean and unbiased variance (training), for the running statistics. */
  mean: Float64Array;
  /** The unbiased batch variance (training). */
  varUnbiased: Float64Array;
}

/** Float64 BatchNorm1d forward (`training`: batch statistics, else `runningMean`, `runningVar`). */
export function batchNormReference(
  z: ArrayLike<number>,
  rows: number,
  features: number,
  weight: ArrayLike<number>,
  bias: ArrayLike<number>,
  runningMean: ArrayLike<number>,
  runningVar: ArrayLike<number>,
  training: boolean,
): BatchNormTrace {
  const mean = new Float64Array(features);
  const variance = new Float64Array(features);
  const varUnbiased = new Float64Array(features);
  for (let f = 0; f < features; f++) {
    if (training) {
      let s = 0;
      for (let r = 0; r < rows; r++) s += z[r * features + f];
      mean[f] = s / rows;
      let m2 = 0;
      for (let r = 0; r < rows; r++) m2 += (z[r * features + f] - mean[f]) ** 2;
      variance[f] = m2 / rows;
      varUnbiased[f] = m2 / (rows - 1);
    } else {
      mean[f] = runningMean[f];
      variance[f] = runningVar[f];
    }
  }
  const invStd = variance.map((v) => 1 / Math.sqrt(v + BATCH_NORM_EPS));
  const zhat = new Float64Array(rows * features);
  const y = new Float64Array(rows * features);
  for (let e = 0; e < rows * features; e++) {
    const f = e % features;
    zhat[e] = (z[e] - mean[f]) * invStd[f];
    y[e] = weight[f] * zhat[e] + bias[f];
  }
  return { y, zhat, invStd, mean, varUnbiased };
}

/** Float64 backward of {@linkcode batchNormReference}: `dz`, and the weight and bias gradients. */
export function batchNormBackwardReference(
  t: BatchNormTrace,
  rows: number,
  features: number,
  weight: ArrayLike<number>,
  dy: ArrayLike<number>,
  training: boolean,
): { dz: Float64Array; dweight: Float64Array; dbias: Float64Array } {
  const dweight = new Float64Array(features);
  const dbias = new Float64Array(features);
  for (let e = 0; e < rows * features; e++) {
    dweight[e % features] += dy[e] * t.zhat[e];
    dbias[e % features] += dy[e];
  }
  const dz = new Float64Array(rows * features);
  for (let e = 0; e < rows * features; e++) {
    const f = e % features;
    const g = training ? dy[e] - dbias[f] / rows - t.zhat[e] * dweight[f] / rows : dy[e];
    dz[e] = weight[f] * t.invStd[f] * g;
  }
  return { dz, dweight, dbias };
}
