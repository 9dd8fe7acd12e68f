/**
 * The one layer kernel of the family, with any basis plugged in:
 * `y = phi(x) W^T (+ bias)`, its weight gradient `dW = dY^T phi(x)`, and its
 * input gradient `dx = sum_j (dY W)_j * phi_j'(x)` (plus the basis's own
 * parameter gradients), each a tiled product that evaluates the bases while
 * loading its tiles, so the `[B, in, nBasis]` tensor is never in GPU memory.
 * Each splits its reduction into parts (`split_plan.ts`) so that no
 * invocation loops past the loop-trip budget, whatever the shape.
 *
 * @module
 */

import type { Basis } from "../basis/basis.ts";
import type { Gpu } from "../gpu/gpu.ts";
import type { BindingKind, Kernel, KernelSpec } from "../gpu/kernel.ts";
import { linearGrid, MAX_WORKGROUPS_PER_DIMENSION } from "../gpu/params.ts";
import type { BufferRange } from "../gpu/recorder.ts";
import { reduceParts } from "../ops/reduce_rows.ts";
import {
  type DirectBlock,
  directBlock,
  forwardPlan,
  gradInputPlan,
  gradWeightPlan,
  type LayerDims,
  TILE,
} from "./split_plan.ts";
import forwardSource from "../../shaders/kan_forward.wgsl" with { type: "text" };
import gradWeightSource from "../../shaders/kan_grad_weight.wgsl" with { type: "text" };
import gradInputSource from "../../shaders/kan_grad_input.wgsl" with { type: "text" };
import tileProductSource from "../../shaders/tile_product.wgsl" with { type: "text" };
import directBlockSource from "../../shaders/direct_block.wgsl" with { type: "text" };

export { reduceRows } from "../ops/reduce_rows.ts";
export { type LayerDims, TILE } from "./split_plan.ts";

/** Threads per workgroup of the direct (untiled) entry points. */
const DIRECT_WG = 64;

/**
 * Which entry points the layer kernels use: `"tiled"` (64 x 64 output tiles in
 * workgroup memory), `"direct"` (each thread a block of up to 4 x 4 outputs,
 * no workgroup memory), or `"auto"`: direct for layers with fewer than {@linkcode DIRECT_BELOW}
 * outputs, whose tiles would be mostly empty, and for products of at most
 * {@linkcode DIRECT_WORK} multiply-adds, where the tiles' barriers cost more
 * than they save. Tests set it to check both.
 */
export const kernelPath: { mode: "auto" | "tiled" | "direct" } = { mode: "auto" };

/** `"auto"` picks the direct entry points below this many outputs. */
export const DIRECT_BELOW = 16;

/** `"auto"` picks the direct entry points for products of at most this many multiply-adds. */
export const DIRECT_WORK = 2 ** 22;

/**
 * Whether the direct entry points run: as {@linkcode kernelPath} says, and
 * always when the tiles of a dimension would outnumber the workgroups a
 * dispatch may have along it (the direct grid spills into a second dimension).
 */
function direct(dims: LayerDims, nb: number): boolean {
  const dimensions = [dims.batch, dims.inDim, dims.outDim, dims.inDim * nb];
  if (dimensions.some((n) => tiles(n) > MAX_WORKGROUPS_PER_DIMENSION)) return true;
  if (kernelPath.mode !== "auto") return kernelPath.mode === "direct";
  return dims.outDim < DIRECT_BELOW || dims.batch * dims.outDim * dims.inDim * nb <= DIRECT_WORK;
}

/** Each basis's kernel specs, built once (so that a dispatch finds its kernel by identity). */
const specs = new WeakMap<Basis, Map<string, KernelSpec>>();

function layerKernel(
  gpu: Gpu,
  basis: Basis,
  name: string,
  source: string,
  bindings: readonly BindingKind[],
  entryPoint = "main",
  block: DirectBlock | null = null,
): Kernel {
  let ofBasis = specs.get(basis);
  if (!ofBasis) {
    ofBasis = new Map();
    specs.set(basis, ofBasis);
  }
  const key = `${name}.${entryPoint}.${block?.constants.BR ?? 0}.${block?.constants.BC ?? 0}`;
  let spec = ofBasis.get(key);
  if (!spec) {
    spec = {
      name: `${name}.${entryPoint}<${basis.name}>`,
      source: `${basis.source}\n${tileProductSource}\n${directBlockSource}\n${source}`,
      entryPoint,
      bindings,
      constants: { NB: basis.count, ...basis.constants, ...block?.constants },
    };
    ofBasis.set(key, spec);
  }
  return gpu.kernel(spec);
}

function tiles(n: number): number {
  return Math.ceil(n / TILE);
}

/** Records `y = (accumulate ? y : 0) + phi(x) W^T + bias`. */
export function basisForward(
  gpu: Gpu,
  basis: Basis,
  dims: LayerDims,
  x: BufferRange,
  w: BufferRange,
  data: BufferRange | null,
  bias: BufferRange | null,
  y: BufferRange,
  accumulate: boolean,
): void {
  const block = direct(dims, basis.count) ? directBlock(dims.batch, dims.outDim) : null;
  const plan = forwardPlan(basis, dims, block);
  const bindings: BindingKind[] = ["uniform", "read", "read", "read", "read", "storage"];
  const kernel = layerKernel(
    gpu,
    basis,
    "kan_forward",
    forwardSource,
    bindings,
    block ? "direct" : "main",
    block,
  );
  const size = dims.batch * dims.outDim;
  const columnBias = bias ? { range: bias, period: dims.outDim } : null;
  reduceParts(gpu, plan.parts, size, y, accumulate, columnBias, (base, count, out, last) => {
    gpu.dispatch(
      kernel,
      {
        layout: "uuufuuuuu",
        values: [
          dims.batch,
          dims.inDim,
          dims.outDim,
          last && accumulate ? 1 : 0,
          last && bias ? 1 : 0,
          plan.partK,
          plan.partJ,
          base,
          count,
        ],
      },
      [x, w, data ?? gpu.placeholder(0), bias ?? gpu.placeholder(1), out],
      block ? linearGrid(count * block.count, DIRECT_WG) : [tiles(dims.outDim), tiles(dims.batch), count],
    );
  });
}

/** Records `dW = (accumulate ? dW : 0) + dY^T phi(x)`, `dW` of shape `[out, in * nBasis]`. */
export function basisGradWeight(
  gpu: Gpu,
  basis: Basis,
  dims: LayerDims,
  x: BufferRange,
  dy: BufferRange,
  data: BufferRange | null,
  dw: BufferRange,
  accumulate: boolean,
): void {
  const bindings: BindingKind[] = ["uniform", "read", "read", "read", "storage"];
  const columns = dims.inDim * basis.count;
  const block = direct(dims, basis.count) ? directBlock(dims.outDim, columns) : null;
  const plan = gradWeightPlan(basis, dims, block);
  const kernel = layerKernel(
    gpu,
    basis,
    "kan_grad_weight",
    gradWeightSource,
    bindings,
    block ? "direct" : "main",
    block,
  );
  const dataRange = data ?? gpu.placeholder(0);
  reduceParts(gpu, plan.chunks, dims.outDim * columns, dw, accumulate, null, (base, count, out, last) => {
    gpu.dispatch(
      kernel,
      {
        layout: "uuufuuu",
        values: [
          dims.batch,
          dims.inDim,
          dims.outDim,
          last && accumulate ? 1 : 0,
          plan.chunkRows,
          base,
          count,
        ],
      },
      [x, dy, dataRange, out],
      block ? linearGrid(count * block.count, DIRECT_WG) : [tiles(columns), tiles(dims.outDim), count],
    );
  });
}

/** Rows of the parameter partials that {@linkcode basisGradInput} writes. */
export function paramPartialsRows(basis: Basis, dims: LayerDims): number {
  const block = direct(dims, basis.count) ? directBlock(dims.batch, dims.inDim) : null;
  return gradInputPlan(basis, dims, block).paramRows;
}

/** Floats of the parameter partials that {@linkcode basisGradInput} writes. */
export function paramPartialsSize(basis: Basis, dims: LayerDims): number {
  return paramPartialsRows(basis, dims) * basis.paramCount * dims.inDim * basis.count;
}

/**
 * Records `dx = (accumulate ? dx : 0) + sum_j (dY W)_j * phi_j'(x)`. For a basis
 * with trainable parameters, `partials` (of {@linkcode paramPartialsSize}
 * floats) receives their gradient in partial sums; sum its
 * {@linkcode paramPartialsRows} rows with {@linkcode reduceRows}.
 */
export function basisGradInput(
  gpu: Gpu,
  basis: Basis,
  dims: LayerDims,
  x: BufferRange,
  dy: BufferRange,
  w: BufferRange,
  data: BufferRange | null,
  dx: BufferRange,
  accumulate: boolean,
  partials: BufferRange | null,
): void {
  const bindings: BindingKind[] = ["uniform", "read", "read", "read", "read", "storage", "storage"];
  const block = direct(dims, basis.count) ? directBlock(dims.batch, dims.inDim) : null;
  const plan = gradInputPlan(basis, dims, block);
  const params = (base: number, count: number, beta: boolean) => ({
    layout: "uuufuuuuu",
    values: [
      dims.batch,
      dims.inDim,
      dims.outDim,
      beta ? 1 : 0,
      plan.chunkRows,
      plan.partJ,
      plan.partO,
      base,
      count,
    ],
  });
  const kernel = layerKernel(
    gpu,
    basis,
    "kan_grad_input",
    gradInputSource,
    bindings,
    block ? "direct" : "main",
    block,
  );
  const size = dims.batch * dims.inDim;
  const partialRange = partials ?? gpu.placeholder(1);
  const dataRange = data ?? gpu.placeholder(0);
  reduceParts(gpu, plan.parts, size, dx, accumulate, null, (base, count, out, last) => {
    gpu.dispatch(
      kernel,
      params(base, count, last && accumulate),
      [x, dy, w, dataRange, out, partialRange],
      block ? linearGrid(count * block.count, DIRECT_WG) : [tiles(dims.inDim), tiles(dims.batch), count],
    );
  });
  if (block && partials) {
    const paramsKernel = layerKernel(
      gpu,
      basis,
      "kan_grad_input",
      gradInputSource,
      bindings,
      "direct_params",
    );
    gpu.dispatch(
      paramsKernel,
      params(0, 1, false),
      [x, dy, w, dataRange, gpu.placeholder(2), partials],
      linearGrid(plan.paramRows * basis.paramCount * dims.inDim * basis.count, DIRECT_WG),
    );
  }
}
