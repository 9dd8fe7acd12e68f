/**
 * The shape shared by FastKAN and FasterKAN: an optional LayerNorm, a basis
 * expansion of the normalized input with a linear map (`spline_linear`), and
 * an optional SiLU base branch on the raw input (`base_linear`).
 *
 * @module
 */

import type { Basis } from "../basis/basis.ts";
import { siluBasis } from "../basis/single.ts";
import { Tensor } from "../tensor.ts";
import { basisForward, basisGradInput, basisGradWeight, reduceRows } from "./basis_linear.ts";
import { Layer, type ReferenceLayer, type Trace } from "./layer.ts";
import { LAYER_NORM_EPS, layerNormBackward, layerNormForward } from "./layer_norm.ts";
import type { Parameter } from "./parameter.ts";
import {
  basisBackwardReference,
  basisForwardReference,
  layerNormBackwardReference,
  layerNormReference,
} from "./reference_ops.ts";

/** The parameters of a {@linkcode NormalizedBasisLayer}, by role. */
export interface NormalizedBasisParameters {
  /** `layernorm.weight` and `layernorm.bias`, when the layer normalizes. */
  layerNorm: { weight: Parameter; bias: Parameter } | null;
  /** The basis's data (`rbf.grid`). */
  grid: Parameter;
  /** `spline_linear.weight`, `[out, in * nBasis]`. */
  spline: Parameter;
  /** `base_linear.weight` and `base_linear.bias`, when there is a base branch. */
  base: { weight: Parameter; bias: Parameter } | null;
  /** Further entries of the state dict (e.g. `rbf.inv_denominator`). */
  extra: Parameter[];
}

/**
 * The layer of FastKAN and FasterKAN: a LayerNorm, a basis of the normalized
 * input, a weight over the basis values and an optional base branch (see the
 * module doc); subclasses choose the basis, names and initialization.
 *
 * @example
 * ```ts
 * import { FastKAN, Gpu } from "../../mod.ts";
 * import type { NormalizedBasisLayer } from "../../kernels.ts";
 * const gpu = await Gpu.request();
 * const layer: NormalizedBasisLayer = new FastKAN(gpu, 4, 2, { seed: 0 });
 * console.log([...layer.namedParameters().keys()]);
 * gpu.destroy();
 * ```
 */
export abstract class NormalizedBasisLayer extends Layer {
  /** The parameters by role, set by the subclass's constructor. */
  protected abstract readonly parts: NormalizedBasisParameters;

  /** The basis in force. */
  abstract get basis(): Basis;

  /** Every parameter, in state-dict order. */
  parameters(): readonly Parameter[] {
    const { layerNorm, grid, spline, base, extra } = this.parts;
    return [
      ...(layerNorm ? [layerNorm.weight, layerNorm.bias] : []),
      grid,
      ...extra,
      spline,
      ...(base ? [base.weight, base.bias] : []),
    ];
  }

  /** Records the forward pass of `x`, keeping what the backward pass needs. */
  protected record(x: Tensor): Trace {
    const gpu = this.gpu;
    const basis = this.basis;
    const { layerNorm, grid, spline, base } = this.parts;
    const dims = { batch: x.shape[0], inDim: this.inFeatures, outDim: this.outFeatures };
    let u = x;
    let stats: Tensor | null = null;
    if (layerNorm) {
      u = Tensor.empty(gpu, x.shape);
      stats = Tensor.empty(gpu, [dims.batch, 2]);
      layerNormForward(
        gpu,
        dims.batch,
        dims.inDim,
        x.binding,
        layerNorm.weight.range,
        layerNorm.bias.range,
        u.binding,
        stats.binding,
      );
    }
    const y = Tensor.empty(gpu, [dims.batch, dims.outDim]);
    basisForward(gpu, basis, dims, u.binding, spline.range, grid.range, null, y.binding, false);
    if (base) {
      basisForward(
        gpu,
        siluBasis,
        dims,
        x.binding,
        base.weight.range,
        null,
        base.bias.range,
        y.binding,
        true,
      );
    }
    return {
      y,
      backward(dy, inputGrad) {
        if (spline.trainable) {
          basisGradWeight(gpu, basis, dims, u.binding, dy.binding, grid.range, spline.gradRange, true);
        }
        const normTrainable = layerNorm !== null && (layerNorm.weight.trainable || layerNorm.bias.trainable);
        let dx: Tensor | null = null;
        if (inputGrad || normTrainable) {
          const du = Tensor.empty(gpu, x.shape);
          basisGradInput(
            gpu,
            basis,
            dims,
            u.binding,
            dy.binding,
            spline.range,
            grid.range,
            du.binding,
            false,
            null,
          );
          if (layerNorm && stats) {
            if (inputGrad) dx = Tensor.empty(gpu, x.shape);
            layerNormBackward(
              gpu,
              dims.batch,
              dims.inDim,
              x.binding,
              layerNorm.weight.range,
              du.binding,
              stats.binding,
              dx?.binding ?? null,
              false,
              normTrainable ? { dgamma: layerNorm.weight.gradRange, dbeta: layerNorm.bias.gradRange } : null,
            );
            du.dispose();
          } else {
            dx = du;
          }
        }
        if (base) {
          if (base.weight.trainable) {
            basisGradWeight(gpu, siluBasis, dims, x.binding, dy.binding, null, base.weight.gradRange, true);
          }
          if (base.bias.trainable) {
            reduceRows(gpu, dy.binding, dims.batch, dims.outDim, base.bias.gradRange, true);
          }
          if (dx) {
            basisGradInput(
              gpu,
              siluBasis,
              dims,
              x.binding,
              dy.binding,
              base.weight.range,
              null,
              dx.binding,
              true,
              null,
            );
          }
        }
        return dx;
      },
      release() {
        if (u !== x) u.dispose();
        stats?.dispose();
      },
    };
  }

  /** The float64 version (state keys as in {@linkcode parameters}). */
  reference(state: Record<string, ArrayLike<number>>): ReferenceLayer {
    const basis = this.basis;
    const { inFeatures: inDim, outFeatures: outDim } = this;
    const hasNorm = this.parts.layerNorm !== null;
    const hasBase = this.parts.base !== null;
    const grid = state["rbf.grid"];
    const w = state["spline_linear.weight"];
    return {
      forward(x, batch) {
        const dims = { batch, inDim, outDim };
        const norm = hasNorm
          ? layerNormReference(
            x,
            batch,
            inDim,
            state["layernorm.weight"],
            state["layernorm.bias"],
            LAYER_NORM_EPS,
          )
          : null;
        const u = norm ? norm.u : x;
        const y = basisForwardReference(basis, dims, u, w, grid, null);
        if (hasBase) {
          basisForwardReference(
            siluBasis,
            dims,
            x,
            state["base_linear.weight"],
            [],
            state["base_linear.bias"],
          )
            .forEach((v, i) => y[i] += v);
        }
        return {
          y,
          backward(dy) {
            const g = basisBackwardReference(basis, dims, u, w, grid, dy);
            const grads: Record<string, Float64Array> = { "spline_linear.weight": g.dw };
            let dx = g.dx;
            if (norm) {
              const n = layerNormBackwardReference(x, batch, inDim, state["layernorm.weight"], norm, g.dx);
              grads["layernorm.weight"] = n.dgamma;
              grads["layernorm.bias"] = n.dbeta;
              dx = n.dx;
            }
            if (hasBase) {
              const gb = basisBackwardReference(siluBasis, dims, x, state["base_linear.weight"], [], dy);
              grads["base_linear.weight"] = gb.dw;
              grads["base_linear.bias"] = gb.dbias;
              dx = dx.map((v, i) => v + gb.dx[i]);
            }
            return { dx, grads };
          },
        };
      },
    };
  }
}
