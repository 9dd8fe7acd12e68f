/**
 * The kernels of the edge statistics and the sparsity regularization
 * (`shaders/interpret/edge_moments.wgsl`, `shaders/interpret/reg_finalize.wgsl`)
 * and how each splits its loops so that no invocation loops past the loop-trip
 * budget (`src/gpu/loop_trips.ts`), whatever the batch or the layer's width:
 * the batch loops run over chunks of rows whose partial sums
 * {@linkcode reduceParts} adds up, and the input gradient's loop over the
 * outputs runs in parts. Internal to `src/interpret/`.
 *
 * @module
 */

import { type Basis, basisLoopTrips } from "../basis/basis.ts";
import type { Gpu } from "../gpu/gpu.ts";
import { type Kernel, KernelSpecs } from "../gpu/kernel.ts";
import { loopTrips, unitsPerPart } from "../gpu/loop_trips.ts";
import { linearGrid } from "../gpu/params.ts";
import type { BufferRange } from "../gpu/recorder.ts";
import type { BaseActivation } from "../layers/bspline_kan.ts";
import { reduceParts } from "../ops/reduce_rows.ts";
import momentsSource from "../../shaders/interpret/edge_moments.wgsl" with { type: "text" };
import finalizeSource from "../../shaders/interpret/reg_finalize.wgsl" with { type: "text" };

const WG = 64;

/** What the edge kernels read of a layer: its shape, basis, base branch and parameter ranges. */
export interface EdgeLayer {
  /** Input width. */
  inDim: number;
  /** Output width. */
  outDim: number;
  /** The spline basis. */
  basis: Basis;
  /** The base branch. */
  baseActivation: BaseActivation;
  /** The basis data (the grid). */
  grid: BufferRange;
  /** `base_weight [out, in]`. */
  baseWeight: BufferRange;
  /** `spline_weight [out, in, nb]`. */
  splineWeight: BufferRange;
  /** `spline_scaler [out, in]`. */
  scaler: BufferRange;
}

const BASE_CODE: Record<BaseActivation, number> = { zero: 0, identity: 1, silu: 2 };

const momentSpecs = new WeakMap<Basis, KernelSpecs>();

function momentKernel(gpu: Gpu, layer: EdgeLayer, entryPoint: string): Kernel {
  let specs = momentSpecs.get(layer.basis);
  if (!specs) {
    specs = new KernelSpecs();
    momentSpecs.set(layer.basis, specs);
  }
  const { basis, baseActivation } = layer;
  return gpu.kernel(specs.get(`${entryPoint}.${baseActivation}`, () => ({
    name: `edge_moments.${entryPoint}<${basis.name}>`,
    source: `${basis.source}\n${momentsSource}`,
    entryPoint,
    bindings: ["uniform", "read", "read", "read", "read", "read", "read", "storage"],
    constants: { NB: basis.count, BASE: BASE_CODE[baseActivation], WG, ...basis.constants },
  })));
}

/** The loop trips of evaluating one edge's spline at one point: the range, then its functions. */
function splineTrips(basis: Basis, perFunction: number): number {
  const trips = basisLoopTrips(basis);
  return trips.range + loopTrips(basis.support ?? basis.count, perFunction);
}

function dispatchMoments(
  gpu: Gpu,
  layer: EdgeLayer,
  entryPoint: string,
  x: BufferRange,
  dims: { batch: number; inDim: number; edges: boolean },
  chunk: { rows: number; base: number; count: number; partO: number; beta: number },
  coeffs: BufferRange,
  out: BufferRange,
  workers: number,
): void {
  gpu.dispatch(
    momentKernel(gpu, layer, entryPoint),
    {
      layout: "uuuuuuuuf",
      values: [
        dims.batch,
        dims.inDim,
        layer.outDim,
        dims.edges ? 1 : 0,
        chunk.rows,
        chunk.base,
        chunk.count,
        chunk.partO,
        chunk.beta,
      ],
    },
    [x, layer.grid, layer.baseWeight, layer.splineWeight, layer.scaler, coeffs, out],
    linearGrid(workers, WG),
  );
}

/**
 * Records the shifted column sums of a `[batch, inDim]` input `x` and (when
 * `edges`) of every edge's activation: `shifts` receives each column's value
 * at row 0 (`E + in` or `in` floats, edge columns first), `sums` (twice as
 * many) the sums of `v - shift` and of its squares.
 */
export function recordMoments(
  gpu: Gpu,
  layer: EdgeLayer,
  x: BufferRange,
  batch: number,
  inDim: number,
  edges: boolean,
  shifts: BufferRange,
  sums: BufferRange,
): void {
  const cols = (edges ? layer.outDim * inDim : 0) + inDim;
  const dims = { batch, inDim, edges };
  const none = { rows: 0, base: 0, count: 0, partO: 0, beta: 0 };
  dispatchMoments(gpu, layer, "shifts", x, dims, none, gpu.placeholder(0), shifts, cols);
  // Per row: its iteration and one edge activation; the row loop's last test.
  const perRow = 1 + (edges ? splineTrips(layer.basis, basisLoopTrips(layer.basis).value) : 0);
  const rows = Math.min(batch, unitsPerPart("edge_moments", perRow, 1));
  const chunks = Math.ceil(batch / rows);
  reduceParts(gpu, chunks, 2 * cols, sums, false, null, (base, count, out) => {
    const chunk = { rows, base, count, partO: 0, beta: 0 };
    dispatchMoments(gpu, layer, "moments", x, dims, chunk, shifts, out, count * cols);
  });
}

/**
 * Records `out[e, 0..nb+2) = sum_b d_b [base(x_b), spline(x_b), B_j(x_b)]` with
 * `d_b = alpha[e] (phi_b - mean[e])` (`coeffs` = `[alpha (E) | mean (E) | ...]`).
 */
export function recordEdgeGradSums(
  gpu: Gpu,
  layer: EdgeLayer,
  x: BufferRange,
  batch: number,
  coeffs: BufferRange,
  out: BufferRange,
): void {
  const edges = layer.outDim * layer.inDim;
  const width = layer.basis.count + 2;
  const value = basisLoopTrips(layer.basis).value;
  // The zeroing loop and the row loop's last test; per row its iteration, the activation (range
  // and functions) and the loop over the same functions.
  const fixed = loopTrips(width) + 1;
  const perRow = 1 + splineTrips(layer.basis, value) +
    loopTrips(layer.basis.support ?? layer.basis.count, value);
  const rows = Math.min(batch, unitsPerPart("edge_moments.grad_edges", perRow, fixed));
  const chunks = Math.ceil(batch / rows);
  const dims = { batch, inDim: layer.inDim, edges: true };
  reduceParts(gpu, chunks, edges * width, out, false, null, (base, count, target) => {
    const chunk = { rows, base, count, partO: 0, beta: 0 };
    dispatchMoments(gpu, layer, "grad_edges", x, dims, chunk, coeffs, target, count * edges);
  });
}

/**
 * Records `dx (+)= sum_o alpha[e] (phi - mean[e]) dphi/dx + beta_i (x - mean_x[i])`
 * (`coeffs` = `[alpha (E) | mean (E) | beta (in) | mean_x (in)]`).
 */
export function recordInputGrad(
  gpu: Gpu,
  layer: EdgeLayer,
  x: BufferRange,
  batch: number,
  coeffs: BufferRange,
  dx: BufferRange,
  accumulate: boolean,
): void {
  const trips = basisLoopTrips(layer.basis);
  // The range and the o loop's last test; per output its iteration and the functions' values
  // and derivatives.
  const fixed = trips.range + 1;
  const perOutput = 1 + loopTrips(layer.basis.support ?? layer.basis.count, trips.value + trips.dx);
  const partO = Math.min(layer.outDim, unitsPerPart("edge_moments.grad_input", perOutput, fixed));
  const parts = Math.ceil(layer.outDim / partO);
  const size = batch * layer.inDim;
  const dims = { batch, inDim: layer.inDim, edges: true };
  reduceParts(gpu, parts, size, dx, accumulate, null, (base, count, out, last) => {
    const chunk = { rows: 0, base, count, partO, beta: last && accumulate ? 1 : 0 };
    dispatchMoments(gpu, layer, "grad_input", x, dims, chunk, coeffs, out, count * size);
  });
}

/** The scalars of the finalizing kernels. */
export interface FinalizeParams {
  /** Input width. */
  inDim: number;
  /** Output width. */
  outDim: number;
  /** Spline functions per input. */
  nb: number;
  /** Batch rows. */
  n: number;
  /** Columns (`finalize_moments`). */
  count: number;
  /** The weights: `lamb`, `lambL1`, `lambEntropy`, `lambCoef`, `lambCoefdiff`. */
  lamb: number;
  /** pykan's `lamb_l1`. */
  l1: number;
  /** pykan's `lamb_entropy`. */
  entropy: number;
  /** pykan's `lamb_coef`. */
  coef: number;
  /** pykan's `lamb_coefdiff`. */
  coefdiff: number;
}

const finalizeSpecs = new KernelSpecs();

/**
 * Records entry point `entryPoint` of `reg_finalize.wgsl` over `workers`
 * threads, with up to 5 read and 3 written ranges (placeholders for the rest).
 */
export function recordFinalize(
  gpu: Gpu,
  entryPoint: string,
  params: FinalizeParams,
  reads: readonly BufferRange[],
  writes: readonly BufferRange[],
  workers: number,
): void {
  const kernel = gpu.kernel(finalizeSpecs.get(entryPoint, () => ({
    name: `reg_finalize.${entryPoint}`,
    source: finalizeSource,
    entryPoint,
    bindings: ["uniform", "read", "read", "read", "read", "read", "storage", "storage", "storage"],
    constants: { WG },
  })));
  const bound = [
    ...Array.from({ length: 5 }, (_, k) => reads[k] ?? gpu.placeholder(k)),
    ...Array.from({ length: 3 }, (_, k) => writes[k] ?? gpu.placeholder(5 + k)),
  ];
  const p = params;
  gpu.dispatch(
    kernel,
    {
      layout: "uuuuufffff",
      values: [p.inDim, p.outDim, p.nb, p.n, p.count, p.lamb, p.l1, p.entropy, p.coef, p.coefdiff],
    },
    bound,
    linearGrid(workers, WG),
  );
}
