/**
 * LayerNorm over the features of each row (torch.nn.LayerNorm: eps 1e-5,
 * biased variance, affine), forward and backward on the GPU.
 *
 * @module
 */

import type { Gpu } from "../gpu/gpu.ts";
import { linearGrid, packParams } from "../gpu/params.ts";
import type { BufferRange } from "../gpu/recorder.ts";
import forwardSource from "../../shaders/layer_norm_forward.wgsl" with { type: "text" };
import backwardSource from "../../shaders/layer_norm_backward.wgsl" with { type: "text" };

/** torch.nn.LayerNorm's default epsilon. */
export const LAYER_NORM_EPS = 1e-5;

const WG = 64;
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
  const kernel = gpu.kernel({
    name: "layer_norm_forward",
    source: forwardSource,
    bindings: ["uniform", "read", "read", "read", "storage", "storage"],
    constants: { WG },
  });
  gpu.dispatch(
    kernel,
    packParams("uuf", rows, dim, LAYER_NORM_EPS),
    [x, gamma, beta, u, stats],
    linearGrid(rows, WG),
  );
}

/**
 * Records the backward pass for `du`: `dx = (accumulate ? dx : 0) + dL/dx`
 * when `dx` is given, and `dgamma += ...`, `dbeta += ...` when given.
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
  const params = packParams("uuf", rows, dim, accumulate ? 1 : 0);
  const kernel = (entryPoint: string) =>
    gpu.kernel({
      name: `layer_norm_backward.${entryPoint}`,
      source: backwardSource,
      entryPoint,
      bindings: BACKWARD_BINDINGS,
      constants: { WG },
    });
  if (dx) {
    gpu.dispatch(kernel("input"), params, [
      x,
      gamma,
      du,
      stats,
      dx,
      gpu.placeholder(0),
      gpu.placeholder(1),
    ], linearGrid(rows, WG));
  }
  if (paramGrads) {
    gpu.dispatch(kernel("params"), params, [
      x,
      gamma,
      du,
      stats,
      gpu.placeholder(0),
      paramGrads.dgamma,
      paramGrads.dbeta,
    ], linearGrid(dim, WG));
  }
}
