/**
 * The per-edge entry points of the layer kernels: `y[b, o] = sum_i phi(x[b, i];
 * theta[., o, i])` for an edge function `phi` (`src/basis/edge_function.ts`),
 * its parameter gradients and its input gradient. Where a basis layer
 * (`basis_linear.ts`) is a product that evaluates the bases while loading its
 * tiles, an edge layer has no product to tile: every term is its own function
 * evaluation, so each invocation computes one output. The reductions are
 * split into parts as the basis kernels split theirs ({@linkcode edgePlan}),
 * so that no invocation loops past the loop-trip budget
 * (`src/gpu/loop_trips.ts`), and the parts are summed by `reduce_rows`.
 *
 * @module
 */

import type { EdgeFunction } from "../basis/edge_function.ts";
import type { Gpu } from "../gpu/gpu.ts";
import type { BindingKind, Kernel, KernelSpec } from "../gpu/kernel.ts";
import { loopTrips, unitsPerPart } from "../gpu/loop_trips.ts";
import { linearGrid } from "../gpu/params.ts";
import type { BufferRange } from "../gpu/recorder.ts";
import { reduceParts } from "../ops/reduce_rows.ts";
import type { LayerDims } from "./split_plan.ts";
import forwardSource from "../../shaders/edge_forward.wgsl" with { type: "text" };
import gradSource from "../../shaders/edge_grad.wgsl" with { type: "text" };

const WG = 64;
/** The most batch rows one invocation of the parameter gradient sums (fewer where the budget says). */
const CHUNK_ROWS = 256;

/** How the three edge entry points split their reductions. */
export interface EdgePlan {
  /** Forward: inputs per part. */
  partI: number;
  /** Parameter gradient: batch rows per part. */
  chunkRows: number;
  /** Input gradient: outputs per part. */
  partO: number;
}

/**
 * The split of each edge entry point for `edge` and `dims`, from the loops of
 * the WGSL counted as llvmpipe charges them (`n + 1` trips for `n` iterations).
 */
export function edgePlan(edge: EdgeFunction, dims: LayerDims): EdgePlan {
  const calls = edge.loopTrips ?? 0;
  const load = loopTrips(edge.planes); // edge_params
  // Forward, per input: its iteration, the parameter loads, edge_value; then the loop's last test.
  const partI = Math.min(dims.inDim, unitsPerPart("edge_forward", 1 + load + calls, 1));
  // Parameters, per row: its iteration, edge_derivs, the plane loop; fixed: the loads, the
  // accumulator init, the row loop's last test, the stores.
  const perRow = 1 + calls + loopTrips(edge.planes);
  const fixed = load + 2 * loopTrips(edge.planes) + 1;
  const chunkRows = Math.min(CHUNK_ROWS, dims.batch, unitsPerPart("edge_grad.params", perRow, fixed));
  // Input, per output: its iteration, the parameter loads, edge_derivs; the loop's last test.
  const partO = Math.min(dims.outDim, unitsPerPart("edge_grad.input", 1 + load + calls, 1));
  return { partI, chunkRows, partO };
}

const specs = new WeakMap<EdgeFunction, Map<string, KernelSpec>>();

function edgeKernel(gpu: Gpu, edge: EdgeFunction, name: string, source: string, entryPoint: string): Kernel {
  let of = specs.get(edge);
  if (!of) {
    of = new Map();
    specs.set(edge, of);
  }
  const key = `${name}.${entryPoint}`;
  let spec = of.get(key);
  if (!spec) {
    const bindings: BindingKind[] = ["uniform", "read", "read", "read", "storage"];
    spec = {
      name: `${name}.${entryPoint}<${edge.name}>`,
      source: `${edge.source}\n${source}`,
      entryPoint,
      bindings,
      constants: { ...edge.constants },
    };
    of.set(key, spec);
  }
  return gpu.kernel(spec);
}

/**
 * Records `y = (accumulate ? y : 0) + sum_i phi(x[., i]; theta[., ., i]) (+ bias)`;
 * `theta` holds the edge's planes `[planes, out, in]` from float `thetaBase`.
 */
export function edgeForward(
  gpu: Gpu,
  edge: EdgeFunction,
  dims: LayerDims,
  x: BufferRange,
  theta: BufferRange,
  thetaBase: number,
  bias: BufferRange | null,
  y: BufferRange,
  accumulate: boolean,
): void {
  const { partI } = edgePlan(edge, dims);
  const parts = Math.ceil(dims.inDim / partI);
  const kernel = edgeKernel(gpu, edge, "edge_forward", forwardSource, "main");
  const size = dims.batch * dims.outDim;
  const columnBias = bias ? { range: bias, period: dims.outDim } : null;
  reduceParts(gpu, parts, size, y, accumulate, columnBias, (base, count, out, last) => {
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
          partI,
          base,
          count,
          thetaBase,
        ],
      },
      [x, theta, bias ?? gpu.placeholder(0), out],
      linearGrid(count * size, WG),
    );
  });
}

/**
 * Records `dtheta += sum_b dy[b, o] dphi/dtheta_q` into `dtheta` (`[planes,
 * out, in]`, the gradient of the planes `theta` holds from `thetaBase`), for
 * the planes whose bit is set in `mask` (the others unchanged).
 */
export function edgeGradParams(
  gpu: Gpu,
  edge: EdgeFunction,
  dims: LayerDims,
  x: BufferRange,
  dy: BufferRange,
  theta: BufferRange,
  thetaBase: number,
  dtheta: BufferRange,
  mask: number,
): void {
  const { chunkRows } = edgePlan(edge, dims);
  const parts = Math.ceil(dims.batch / chunkRows);
  const kernel = edgeKernel(gpu, edge, "edge_grad", gradSource, "params");
  const plane = dims.outDim * dims.inDim;
  reduceParts(gpu, parts, edge.planes * plane, dtheta, true, null, (base, count, out, last) => {
    gpu.dispatch(
      kernel,
      {
        layout: "uuufuuuuu",
        values: [dims.batch, dims.inDim, dims.outDim, last ? 1 : 0, chunkRows, base, count, thetaBase, mask],
      },
      [x, dy, theta, out],
      linearGrid(count * plane, WG),
    );
  });
}

/** Records `dx = (accumulate ? dx : 0) + sum_o dy[b, o] dphi/dx(x[b, i]; theta[., o, i])`. */
export function edgeGradInput(
  gpu: Gpu,
  edge: EdgeFunction,
  dims: LayerDims,
  x: BufferRange,
  dy: BufferRange,
  theta: BufferRange,
  thetaBase: number,
  dx: BufferRange,
  accumulate: boolean,
): void {
  const { partO } = edgePlan(edge, dims);
  const parts = Math.ceil(dims.outDim / partO);
  const kernel = edgeKernel(gpu, edge, "edge_grad", gradSource, "input");
  const size = dims.batch * dims.inDim;
  reduceParts(gpu, parts, size, dx, accumulate, null, (base, count, out, last) => {
    gpu.dispatch(
      kernel,
      {
        layout: "uuufuuuuu",
        values: [
          dims.batch,
          dims.inDim,
          dims.outDim,
          last && accumulate ? 1 : 0,
          partO,
          base,
          count,
          thetaBase,
          0,
        ],
      },
      [x, dy, theta, out],
      linearGrid(count * size, WG),
    );
  });
}

/**
 * Float64 `y[b, o] = sum_i phi(x[b, i]; theta[., o, i])`; `theta` is `planes`
 * arrays of `[out, in]`.
 */
export function edgeForwardReference(
  edge: EdgeFunction,
  dims: LayerDims,
  x: ArrayLike<number>,
  theta: readonly ArrayLike<number>[],
): Float64Array {
  const { batch, inDim, outDim } = dims;
  const y = new Float64Array(batch * outDim);
  const th = new Float64Array(edge.planes);
  for (let o = 0; o < outDim; o++) {
    for (let i = 0; i < inDim; i++) {
      for (let q = 0; q < edge.planes; q++) th[q] = theta[q][o * inDim + i];
      for (let b = 0; b < batch; b++) y[b * outDim + o] += edge.value(x[b * inDim + i], th, i, inDim);
    }
  }
  return y;
}

/** Float64 gradients of {@linkcode edgeForwardReference} for `dy`: each plane's and the input's. */
export function edgeBackwardReference(
  edge: EdgeFunction,
  dims: LayerDims,
  x: ArrayLike<number>,
  theta: readonly ArrayLike<number>[],
  dy: ArrayLike<number>,
): { dtheta: Float64Array[]; dx: Float64Array } {
  const { batch, inDim, outDim } = dims;
  const dtheta = Array.from({ length: edge.planes }, () => new Float64Array(outDim * inDim));
  const dx = new Float64Array(batch * inDim);
  const th = new Float64Array(edge.planes);
  for (let o = 0; o < outDim; o++) {
    for (let i = 0; i < inDim; i++) {
      for (let q = 0; q < edge.planes; q++) th[q] = theta[q][o * inDim + i];
      for (let b = 0; b < batch; b++) {
        const g = dy[b * outDim + o];
        const d = edge.derivs(x[b * inDim + i], th, i, inDim);
        dx[b * inDim + i] += g * d[0];
        for (let q = 0; q < edge.planes; q++) dtheta[q][o * inDim + i] += g * d[q + 1];
      }
    }
  }
  return { dtheta, dx };
}
