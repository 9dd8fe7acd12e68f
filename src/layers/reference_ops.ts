/**
 * Float64 references of the layer kernels, written as plainly as possible:
 * the basis-expanded product and its gradients, LayerNorm, activations and the
 * B-spline scaler. Every GPU kernel is tested against these.
 *
 * @module
 */

import type { Basis } from "../basis/basis.ts";
import { sigmoid } from "../basis/single.ts";
import type { LayerDims } from "./basis_linear.ts";

/** `y[b, o] = bias[o] + sum_{i, j} phi_j(x[b, i]) w[o, i * nb + j]`. */
export function basisForwardReference(
  basis: Basis,
  dims: LayerDims,
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  data: ArrayLike<number>,
  bias: ArrayLike<number> | null,
): Float64Array {
  const { batch, inDim, outDim } = dims;
  const nb = basis.count;
  const y = new Float64Array(batch * outDim);
  const phi = new Float64Array(inDim * nb);
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < inDim; i++) {
      for (let j = 0; j < nb; j++) phi[i * nb + j] = basis.value(i, j, x[b * inDim + i], data, inDim);
    }
    for (let o = 0; o < outDim; o++) {
      let s = bias ? bias[o] : 0;
      for (let k = 0; k < inDim * nb; k++) s += phi[k] * w[o * inDim * nb + k];
      y[b * outDim + o] = s;
    }
  }
  return y;
}

/** Gradients of {@linkcode basisForwardReference} given `dy`. */
export interface BasisGradients {
  /** d/dw, `[out, in * nb]`. */
  dw: Float64Array;
  /** d/dx, `[B, in]`. */
  dx: Float64Array;
  /** d/dbias, `[out]`. */
  dbias: Float64Array;
  /** d/d(basis parameters), `[paramCount, in, nb]` (empty without parameters). */
  ddata: Float64Array;
}

/** The gradients of {@linkcode basisForwardReference} with respect to every input. */
export function basisBackwardReference(
  basis: Basis,
  dims: LayerDims,
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  data: ArrayLike<number>,
  dy: ArrayLike<number>,
): BasisGradients {
  const { batch, inDim, outDim } = dims;
  const nb = basis.count;
  const k = inDim * nb;
  const dw = new Float64Array(outDim * k);
  const dx = new Float64Array(batch * inDim);
  const dbias = new Float64Array(outDim);
  const ddata = new Float64Array(basis.paramCount * k);
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < inDim; i++) {
      const xv = x[b * inDim + i];
      for (let j = 0; j < nb; j++) {
        const phi = basis.value(i, j, xv, data, inDim);
        let g = 0;
        for (let o = 0; o < outDim; o++) {
          const d = dy[b * outDim + o];
          g += d * w[o * k + i * nb + j];
          dw[o * k + i * nb + j] += d * phi;
        }
        dx[b * inDim + i] += g * basis.dx(i, j, xv, data, inDim);
        for (let q = 0; q < basis.paramCount; q++) {
          ddata[q * k + i * nb + j] += g * basis.dparam(i, j, xv, q, data, inDim);
        }
      }
    }
    for (let o = 0; o < outDim; o++) dbias[o] += dy[b * outDim + o];
  }
  return { dw, dx, dbias, ddata };
}

/** LayerNorm over the last dimension, biased variance: returns `u` and the row statistics. */
export function layerNormReference(
  x: ArrayLike<number>,
  rows: number,
  dim: number,
  gamma: ArrayLike<number>,
  beta: ArrayLike<number>,
  eps: number,
): { u: Float64Array; mean: Float64Array; rstd: Float64Array } {
  const u = new Float64Array(rows * dim);
  const mean = new Float64Array(rows);
  const rstd = new Float64Array(rows);
  for (let b = 0; b < rows; b++) {
    let m = 0;
    for (let i = 0; i < dim; i++) m += x[b * dim + i];
    m /= dim;
    let v = 0;
    for (let i = 0; i < dim; i++) v += (x[b * dim + i] - m) ** 2;
    v /= dim;
    const r = 1 / Math.sqrt(v + eps);
    for (let i = 0; i < dim; i++) u[b * dim + i] = (x[b * dim + i] - m) * r * gamma[i] + beta[i];
    mean[b] = m;
    rstd[b] = r;
  }
  return { u, mean, rstd };
}

/** Gradients of {@linkcode layerNormReference} given `du`. */
export function layerNormBackwardReference(
  x: ArrayLike<number>,
  rows: number,
  dim: number,
  gamma: ArrayLike<number>,
  stats: { mean: ArrayLike<number>; rstd: ArrayLike<number> },
  du: ArrayLike<number>,
): { dx: Float64Array; dgamma: Float64Array; dbeta: Float64Array } {
  const dx = new Float64Array(rows * dim);
  const dgamma = new Float64Array(dim);
  const dbeta = new Float64Array(dim);
  for (let b = 0; b < rows; b++) {
    const { [b]: m } = stats.mean;
    const { [b]: r } = stats.rstd;
    let m1 = 0;
    let m2 = 0;
    for (let i = 0; i < dim; i++) {
      const xhat = (x[b * dim + i] - m) * r;
      const g = du[b * dim + i] * gamma[i];
      m1 += g;
      m2 += g * xhat;
      dgamma[i] += du[b * dim + i] * xhat;
      dbeta[i] += du[b * dim + i];
    }
    m1 /= dim;
    m2 /= dim;
    for (let i = 0; i < dim; i++) {
      const xhat = (x[b * dim + i] - m) * r;
      dx[b * dim + i] = r * (du[b * dim + i] * gamma[i] - m1 - xhat * m2);
    }
  }
  return { dx, dgamma, dbeta };
}

/** The activations of `Linear`. */
export type Activation = "none" | "silu" | "relu" | "tanh";

/** Value and derivative of an activation at `v`. */
export function activationReference(kind: Activation, v: number): [number, number] {
  switch (kind) {
    case "none":
      return [v, 1];
    case "silu": {
      const s = sigmoid(v);
      return [v * s, s * (1 + v * (1 - s))];
    }
    case "relu":
      return [Math.max(v, 0), v > 0 ? 1 : 0];
    case "tanh": {
      const t = Math.tanh(v);
      return [t, 1 - t * t];
    }
  }
}
