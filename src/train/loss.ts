/**
 * Losses on the GPU, mean-reduced as torch does, with float64 references:
 * `mse` (over all elements) and `crossEntropy` (log-softmax + NLL over
 * integer class ids). The loss value is written into a slot of a GPU buffer
 * and stays there until the caller reads it.
 *
 * @module
 */

import { formatShape, KanError } from "../errors.ts";
import type { Gpu } from "../gpu/gpu.ts";
import { type Kernel, type KernelSpec, KernelSpecs } from "../gpu/kernel.ts";
import { unitsPerPart } from "../gpu/loop_trips.ts";
import { linearGrid, packParams } from "../gpu/params.ts";
import type { BufferRange } from "../gpu/recorder.ts";
import { chunkSums, MAX_CHUNK_ROWS } from "../ops/reduce_rows.ts";
import { Tensor } from "../tensor.ts";
import lossSource from "../../shaders/train/loss.wgsl" with { type: "text" };
import reduceSource from "../../shaders/train/reduce.wgsl" with { type: "text" };

/** The losses of `fit` and `evaluate`. */
export type LossName = "mse" | "crossEntropy";

/** The loss names, for checks. */
export const LOSSES: readonly LossName[] = ["mse", "crossEntropy"];

const WG = 64;
const specs = new KernelSpecs();
const SUM_SPEC: KernelSpec = {
  name: "reduce_sum",
  source: reduceSource,
  bindings: ["uniform", "read", "storage"],
};

/** The most classes of crossEntropy: class ids travel as float32, exact up to 2^24. */
const MAX_CLASSES = 2 ** 24;

/** Threads of the one workgroup of reduce.wgsl. */
const SUM_THREADS = 256;

/**
 * Records `out[slot] = sum(a[0 .. n))` in a fixed order: one workgroup, after
 * levels of chunk sums while `n` is longer than its threads' loops may be.
 */
export function recordSum(gpu: Gpu, a: BufferRange, n: number, out: BufferRange, slot: number): void {
  const kernel = gpu.kernel(SUM_SPEC);
  // Each thread loops ceil(n / 256) times, then the 8 levels of the tree (each loop charged one more).
  const limit = SUM_THREADS * unitsPerPart("reduce_sum", 1, 10);
  const chunkRows = Math.min(MAX_CHUNK_ROWS, unitsPerPart("reduce_rows", 1, 1));
  let source = a;
  let count = n;
  const temporaries: Tensor[] = [];
  while (count > limit) {
    const sums = chunkSums(gpu, source, count, 1, chunkRows);
    temporaries.push(sums);
    source = sums.binding;
    count = sums.shape[0];
  }
  gpu.dispatch(kernel, packParams("uu", count, slot), [source, out], [1]);
  for (const t of temporaries) t.dispose();
}

/** Checks that `target` fits predictions of shape `[rows, cols]` under `loss`. */
export function checkTarget(loss: LossName, rows: number, cols: number, target: Tensor): void {
  if (loss === "crossEntropy" && cols > MAX_CLASSES) {
    throw new KanError(
      `crossEntropy: ${cols} classes, past the ${MAX_CLASSES} whose ids float32 holds exactly`,
    );
  }
  const expected = loss === "mse" ? [rows, cols] : [rows];
  const ok = target.shape.length === expected.length && target.shape.every((d, i) => d === expected[i]);
  if (!ok) {
    throw new KanError(
      `${loss}: target has shape ${formatShape(target.shape)}, expected ${formatShape(expected)}${
        loss === "crossEntropy" ? " (class ids)" : ""
      }`,
    );
  }
}

/**
 * Records the loss of predictions `z` (`[rows, cols]`) against `target`:
 * returns `dL/dz` (a new tensor), writes the loss into `out[slot]` and, for
 * `crossEntropy` when `accuracySlot` is given, the accuracy into
 * `out[accuracySlot]`.
 */
export function recordLoss(
  gpu: Gpu,
  loss: LossName,
  z: Tensor,
  target: Tensor,
  out: BufferRange,
  slot: number,
  accuracySlot: number | null = null,
): Tensor {
  const [rows, cols] = z.shape;
  checkTarget(loss, rows, cols, target);
  const kernel = (entryPoint: string) =>
    gpu.kernel(specs.get(entryPoint, () => ({
      name: `loss.${entryPoint}`,
      source: lossSource,
      entryPoint,
      bindings: ["uniform", "read", "read", "storage", "storage", "storage", "storage"],
      constants: { WG },
    })));
  const dz = Tensor.empty(gpu, z.shape);
  const termCount = loss === "mse" ? rows * cols : rows;
  const terms = Tensor.empty(gpu, [termCount]);
  const correct = loss === "crossEntropy" && accuracySlot !== null ? Tensor.empty(gpu, [rows]) : null;
  const buffers = (part: BufferRange) => [
    z.binding,
    target.binding,
    dz.binding,
    terms.binding,
    correct?.binding ?? gpu.placeholder(0),
    part,
  ];
  if (loss === "mse") {
    gpu.dispatch(
      kernel("mse"),
      packParams("uuuu", rows, cols, cols, 1),
      buffers(gpu.placeholder(1)),
      linearGrid(rows * cols, WG),
    );
  } else {
    recordCrossEntropy(gpu, rows, cols, kernel, buffers);
  }
  recordSum(gpu, terms.binding, termCount, out, slot);
  if (correct && accuracySlot !== null) recordSum(gpu, correct.binding, rows, out, accuracySlot);
  terms.dispose();
  correct?.dispose();
  return dz;
}

/**
 * Records cross entropy's kernels: one invocation per row when its three
 * passes over the classes fit the loop-trip budget, else chunks of classes.
 */
function recordCrossEntropy(
  gpu: Gpu,
  rows: number,
  cols: number,
  kernel: (entryPoint: string) => Kernel,
  buffers: (part: BufferRange) => BufferRange[],
): void {
  if (Math.min(cols, unitsPerPart("loss.cross_entropy", 3, 3)) === cols) {
    const params = packParams("uuuu", rows, cols, cols, 1);
    gpu.dispatch(kernel("cross_entropy"), params, buffers(gpu.placeholder(1)), linearGrid(rows, WG));
    return;
  }
  const chunk = unitsPerPart("loss.cross_entropy", 2, 2);
  const chunks = Math.ceil(cols / chunk);
  const params = packParams("uuuu", rows, cols, chunk, chunks);
  const part = Tensor.empty(gpu, [rows, chunks, 3]);
  gpu.dispatch(kernel("ce_partial"), params, buffers(part.binding), linearGrid(rows * chunks, WG));
  gpu.dispatch(kernel("ce_combine"), params, buffers(part.binding), linearGrid(rows, WG));
  gpu.dispatch(kernel("ce_grad"), params, buffers(part.binding), linearGrid(rows * cols, WG));
  part.dispose();
}

/** Float64 MSE: the loss and its gradient. */
export function mseReference(
  z: ArrayLike<number>,
  target: ArrayLike<number>,
): { loss: number; dz: Float64Array } {
  const n = z.length;
  let loss = 0;
  const dz = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    loss += (z[i] - target[i]) ** 2 / n;
    dz[i] = 2 * (z[i] - target[i]) / n;
  }
  return { loss, dz };
}

/** Float64 cross entropy over class ids: the loss, its gradient and the count of correct argmaxes. */
export function crossEntropyReference(
  z: ArrayLike<number>,
  labels: ArrayLike<number>,
  rows: number,
  cols: number,
): { loss: number; dz: Float64Array; correct: number } {
  const dz = new Float64Array(rows * cols);
  let loss = 0;
  let correct = 0;
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < cols; c++) if (z[r * cols + c] > z[r * cols + best]) best = c;
    const zmax = z[r * cols + best];
    let sum = 0;
    for (let c = 0; c < cols; c++) sum += Math.exp(z[r * cols + c] - zmax);
    const lse = zmax + Math.log(sum);
    const label = labels[r];
    for (let c = 0; c < cols; c++) {
      dz[r * cols + c] = (Math.exp(z[r * cols + c] - lse) - (c === label ? 1 : 0)) / rows;
    }
    loss += (lse - z[r * cols + label]) / rows;
    if (best === label) correct++;
  }
  return { loss, dz, correct };
}
