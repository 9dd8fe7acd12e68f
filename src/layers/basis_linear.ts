/**
 * The one layer kernel of the family, with any basis plugged in:
 * `y = phi(x) W^T (+ bias)`, its weight gradient `dW = dY^T phi(x)`, and its
 * input gradient `dx = sum_j (dY W)_j * phi_j'(x)` (plus the basis's own
 * parameter gradients), each a tiled product that evaluates the bases while
 * loading its tiles, so the `[B, in, nBasis]` tensor is never in GPU memory.
 *
 * @module
 */

import type { Basis } from "../basis/basis.ts";
import type { Gpu } from "../gpu/gpu.ts";
import type { BindingKind, Kernel } from "../gpu/kernel.ts";
import { linearGrid, packParams } from "../gpu/params.ts";
import type { BufferRange } from "../gpu/recorder.ts";
import { Tensor } from "../tensor.ts";
import forwardSource from "../../shaders/kan_forward.wgsl" with { type: "text" };
import gradWeightSource from "../../shaders/kan_grad_weight.wgsl" with { type: "text" };
import gradInputSource from "../../shaders/kan_grad_input.wgsl" with { type: "text" };
import reduceRowsSource from "../../shaders/reduce_rows.wgsl" with { type: "text" };
import tileProductSource from "../../shaders/tile_product.wgsl" with { type: "text" };
import directBlockSource from "../../shaders/direct_block.wgsl" with { type: "text" };

/** Rows (and columns) of one output tile of the layer kernels. */
export const TILE = 64;

/** Threads per workgroup of the direct (untiled) entry points. */
const DIRECT_WG = 64;

/** The most rows (and columns) of the register block of one direct thread. */
const BLOCK = 4;

/** A direct entry point's register block over a `rows x cols` output, and how many blocks cover it. */
interface DirectBlock {
  constants: { BR: number; BC: number };
  count: number;
}

function directBlock(rows: number, cols: number): DirectBlock {
  const BR = Math.min(BLOCK, rows);
  const BC = Math.min(BLOCK, cols);
  return { constants: { BR, BC }, count: Math.ceil(rows / BR) * Math.ceil(cols / BC) };
}

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

/** Batch rows per chunk of the direct gradient kernels, whose chunks are then summed in order. */
const CHUNK_ROWS = 64;

function chunks(dims: LayerDims): number {
  return Math.ceil(dims.batch / CHUNK_ROWS);
}

function direct(dims: LayerDims, nb: number): boolean {
  if (kernelPath.mode !== "auto") return kernelPath.mode === "direct";
  return dims.outDim < DIRECT_BELOW || dims.batch * dims.outDim * dims.inDim * nb <= DIRECT_WORK;
}

/** The shapes of one call: batch `B`, input width, output width. */
export interface LayerDims {
  /** Batch rows. */
  batch: number;
  /** Input features. */
  inDim: number;
  /** Output features. */
  outDim: number;
}

function layerKernel(
  gpu: Gpu,
  basis: Basis,
  name: string,
  source: string,
  bindings: readonly BindingKind[],
  entryPoint = "main",
  block: DirectBlock | null = null,
): Kernel {
  return gpu.kernel({
    name: `${name}.${entryPoint}<${basis.name}>`,
    source: `${basis.source}\n${tileProductSource}\n${directBlockSource}\n${source}`,
    entryPoint,
    bindings,
    constants: { NB: basis.count, ...basis.constants, ...block?.constants },
  });
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
  gpu.dispatch(
    kernel,
    packParams("uuufu", dims.batch, dims.inDim, dims.outDim, accumulate ? 1 : 0, bias ? 1 : 0),
    [x, w, data ?? gpu.placeholder(0), bias ?? gpu.placeholder(1), y],
    block ? linearGrid(block.count, DIRECT_WG) : [tiles(dims.outDim), tiles(dims.batch)],
  );
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
  const dataRange = data ?? gpu.placeholder(0);
  if (!direct(dims, basis.count)) {
    const kernel = layerKernel(gpu, basis, "kan_grad_weight", gradWeightSource, bindings);
    const params = packParams("uuufu", dims.batch, dims.inDim, dims.outDim, accumulate ? 1 : 0, CHUNK_ROWS);
    gpu.dispatch(kernel, params, [x, dy, dataRange, dw], [tiles(columns), tiles(dims.outDim)]);
    return;
  }
  const block = directBlock(dims.outDim, columns);
  const kernel = layerKernel(gpu, basis, "kan_grad_weight", gradWeightSource, bindings, "direct", block);
  const n = chunks(dims);
  const size = dims.outDim * columns;
  if (n === 1) {
    const params = packParams("uuufu", dims.batch, dims.inDim, dims.outDim, accumulate ? 1 : 0, CHUNK_ROWS);
    gpu.dispatch(kernel, params, [x, dy, dataRange, dw], linearGrid(block.count, DIRECT_WG));
    return;
  }
  const partial = Tensor.empty(gpu, [n, size]);
  const params = packParams("uuufu", dims.batch, dims.inDim, dims.outDim, 0, CHUNK_ROWS);
  gpu.dispatch(kernel, params, [x, dy, dataRange, partial.binding], linearGrid(n * block.count, DIRECT_WG));
  reduceRows(gpu, partial.binding, n, size, dw, accumulate);
  partial.dispose();
}

/** Rows of the parameter partials that {@linkcode basisGradInput} writes (one per batch tile). */
export function paramPartialsRows(basis: Basis, dims: LayerDims): number {
  return direct(dims, basis.count) ? chunks(dims) : tiles(dims.batch);
}

/** Floats of the parameter partials that {@linkcode basisGradInput} writes. */
export function paramPartialsSize(basis: Basis, dims: LayerDims): number {
  return paramPartialsRows(basis, dims) * basis.paramCount * dims.inDim * basis.count;
}

/**
 * Records `dx = (accumulate ? dx : 0) + sum_j (dY W)_j * phi_j'(x)`. For a basis
 * with trainable parameters, `partials` (of {@linkcode paramPartialsSize}
 * floats) receives their gradient summed per batch tile; sum its rows with
 * {@linkcode reduceRows}.
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
  const params = packParams("uuufu", dims.batch, dims.inDim, dims.outDim, accumulate ? 1 : 0, CHUNK_ROWS);
  const buffers = [x, dy, w, data ?? gpu.placeholder(0), dx, partials ?? gpu.placeholder(1)];
  if (!direct(dims, basis.count)) {
    const kernel = layerKernel(gpu, basis, "kan_grad_input", gradInputSource, bindings);
    gpu.dispatch(kernel, params, buffers, [tiles(dims.inDim), tiles(dims.batch)]);
    return;
  }
  const block = directBlock(dims.batch, dims.inDim);
  const kernel = layerKernel(gpu, basis, "kan_grad_input", gradInputSource, bindings, "direct", block);
  gpu.dispatch(kernel, params, buffers, linearGrid(block.count, DIRECT_WG));
  if (partials) {
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
      params,
      buffers,
      linearGrid(chunks(dims) * basis.paramCount * dims.inDim * basis.count, DIRECT_WG),
    );
  }
}

const REDUCE_WG = 256;

/** Records `out[c] = (accumulate ? out[c] : 0) + sum_r a[r, c]` for `a` of shape `[rows, cols]`. */
export function reduceRows(
  gpu: Gpu,
  a: BufferRange,
  rows: number,
  cols: number,
  out: BufferRange,
  accumulate: boolean,
): void {
  const kernel = gpu.kernel({
    name: "reduce_rows",
    source: reduceRowsSource,
    bindings: ["uniform", "read", "storage"],
    constants: { WG: REDUCE_WG },
  });
  gpu.dispatch(
    kernel,
    packParams("uuf", rows, cols, accumulate ? 1 : 0),
    [a, out],
    linearGrid(cols, REDUCE_WG),
  );
}
