/**
 * KAT's group-rational activation (`src/basis/rational.ts`) as elementwise
 * kernels, so that `RationalKAN` runs as `fc(act(x))` with `fc` on the dense
 * (identity-basis) layer kernels: the forward pass `a = phi(x)`, and, given
 * `g = dY W` from the dense input gradient, `dx = g * phi'(x)` with the
 * gradients of `weight_numerator` and `weight_denominator` in one pass over
 * `[B, in]` (per-chunk partials) and one group sum.
 *
 * @module
 */

import type { Basis } from "../basis/basis.ts";
import { RATIONAL_PARAMS } from "../basis/rational.ts";
import type { Gpu } from "../gpu/gpu.ts";
import { type KernelSpec, KernelSpecs } from "../gpu/kernel.ts";
import { loopTrips, unitsPerPart } from "../gpu/loop_trips.ts";
import { linearGrid } from "../gpu/params.ts";
import type { BufferRange } from "../gpu/recorder.ts";
import { reduceRows } from "../ops/reduce_rows.ts";
import { Tensor } from "../tensor.ts";
import activationSource from "../../shaders/rational_activation.wgsl" with { type: "text" };
import groupSumSource from "../../shaders/rational_group_sum.wgsl" with { type: "text" };

const WG = 64;
const specs = new KernelSpecs();

/** The elementwise kernel's entry point `entryPoint` for `basis` (whose `GROUP_SIZE` differs per layer). */
function activationKernel(gpu: Gpu, basis: Basis, entryPoint: "forward" | "backward") {
  const groupSize = basis.constants.GROUP_SIZE ?? 1;
  return gpu.kernel(specs.get(`${entryPoint}.${groupSize}`, () => ({
    name: `rational_activation.${entryPoint}`,
    source: `${basis.source}\n${activationSource}`,
    entryPoint,
    bindings: ["uniform", "read", "read", "read", "storage", "storage"],
    constants: { NB: 1, WG, GROUP_SIZE: groupSize },
  })));
}

const GROUP_SUM: KernelSpec = {
  name: "rational_group_sum",
  source: groupSumSource,
  bindings: ["uniform", "read", "storage"],
};

/** The most (row, input) pairs one invocation of the group sum adds (fewer when the loop-trip budget is lower). */
const GROUP_SUM_CHUNK = 4096;

/**
 * About how many invocations the backward pass aims at (its rows per
 * invocation follow, within the loop-trip budget). Tests lower it to give one
 * invocation many rows.
 */
export const rationalInvocations: { target: number } = { target: 16384 };

/**
 * Rows per invocation of the backward pass for `rows` rows of `inDim`
 * inputs: enough invocations to fill a GPU, within the loop-trip budget.
 *
 * @example
 * ```ts
 * import { rationalChunkRows } from "./rational_activation.ts";
 * console.log(rationalChunkRows(1000, 64)); // 4
 * ```
 */
export function rationalChunkRows(rows: number, inDim: number): number {
  const chunks = Math.max(1, Math.floor(rationalInvocations.target / inDim));
  const wanted = Math.ceil(rows / chunks);
  // The one loop: chunk_rows iterations with no inner loop.
  const budget = unitsPerPart("rational_activation.backward", 1, loopTrips(0));
  return Math.max(1, Math.min(wanted, budget));
}

/** Records `a = phi(x)` over `[rows, inDim]`; `data` is `weight_numerator` then `weight_denominator`. */
export function rationalForward(
  gpu: Gpu,
  basis: Basis,
  rows: number,
  inDim: number,
  x: BufferRange,
  data: BufferRange,
  a: BufferRange,
): void {
  const n = rows * inDim;
  gpu.dispatch(
    activationKernel(gpu, basis, "forward"),
    { layout: "uuuuuu", values: [rows, inDim, 1, 0, 0, 0] },
    [x, gpu.placeholder(0), data, a, gpu.placeholder(1)],
    linearGrid(n, WG),
  );
}

/**
 * Records the backward pass of the activation for `g = dL/da` (`[rows, inDim]`):
 * `dx = g * phi'(x)` into `dx` when given, and `grad += ` the gradients of
 * `weight_numerator` then `weight_denominator` (`6 + 4 * groups` floats) when
 * `grad` is given.
 */
export function rationalBackward(
  gpu: Gpu,
  basis: Basis,
  rows: number,
  inDim: number,
  groups: number,
  x: BufferRange,
  g: BufferRange,
  data: BufferRange,
  dx: BufferRange | null,
  grad: BufferRange | null,
): void {
  if (!dx && !grad) return;
  const chunkRows = rationalChunkRows(rows, inDim);
  const chunks = Math.ceil(rows / chunkRows);
  const partials = grad ? Tensor.empty(gpu, [chunks, RATIONAL_PARAMS, inDim]) : null;
  gpu.dispatch(
    activationKernel(gpu, basis, "backward"),
    { layout: "uuuuuu", values: [rows, inDim, chunkRows, chunks, dx ? 1 : 0, partials ? 1 : 0] },
    [x, g, data, dx ?? gpu.placeholder(0), partials?.binding ?? gpu.placeholder(1)],
    linearGrid(chunks * inDim, WG),
  );
  if (partials && grad) {
    addGroupSums(gpu, partials.binding, chunks, inDim, groups, grad);
    partials.dispose();
  }
}

/**
 * Records `grad += ` the group sums of the per-input parameter partials
 * (`[rows, 10, in]`) into the gradient of `weight_numerator` then
 * `weight_denominator` (`6 + 4 * groups` floats).
 */
function addGroupSums(
  gpu: Gpu,
  partials: BufferRange,
  rows: number,
  inDim: number,
  groups: number,
  grad: BufferRange,
): void {
  const chunk = Math.min(GROUP_SUM_CHUNK, unitsPerPart("rational_group_sum", 1, 1));
  const chunks = Math.ceil(rows * inDim / chunk);
  const coefficients = 6 + 4 * groups;
  const sums = Tensor.empty(gpu, [chunks, coefficients]);
  gpu.dispatch(
    gpu.kernel(GROUP_SUM),
    { layout: "uuuuuu", values: [rows, inDim, inDim / groups, groups, chunk, chunks] },
    [partials, sums.binding],
    linearGrid(chunks * coefficients, 64),
  );
  reduceRows(gpu, sums.binding, chunks, coefficients, grad, true);
  sums.dispose();
}
