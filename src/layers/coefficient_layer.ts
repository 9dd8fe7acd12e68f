/**
 * The shape shared by ChebyKAN, JacobiKAN and FourierKAN: a basis of the raw
 * input with no data of its own, one coefficient tensor stored in the
 * original's layout (`[in, out, nBasis]`, `[2, out, in, G]`) that the block
 * holds permuted into the kernels' `[out, in * nBasis]` (see
 * {@linkcode Parameter.axes}), and an optional bias.
 *
 * @module
 */

import type { Basis } from "../basis/basis.ts";
import type { Gpu } from "../gpu/gpu.ts";
import { Tensor } from "../tensor.ts";
import { basisForward, basisGradInput, basisGradWeight, reduceRows } from "./basis_linear.ts";
import { Layer, type ReferenceLayer, type Trace } from "./layer.ts";
import { inverseAxes, permute } from "./layout.ts";
import { Parameter, ParameterBlock } from "./parameter.ts";
import { basisBackwardReference, basisForwardReference } from "./reference_ops.ts";

/** The parameters of a {@linkcode CoefficientLayer}, by role. */
export interface CoefficientParameters {
  /** The coefficients, in the original's shape, held as `[out, in * nBasis]`. */
  coeffs: Parameter;
  /** The bias (`[out]` or `[1, out]`), or null. */
  bias: Parameter | null;
  /** Further entries of the state dict (e.g. ChebyKAN's `arange` buffer), not trained. */
  extra: Parameter[];
}

/**
 * A parameter `name` of `shape` (the original's) whose block holds
 * `permute(data, shape, axes)`, the kernels' `[out, in * nBasis]`.
 */
export function coefficientParameter(
  gpu: Gpu,
  name: string,
  shape: readonly number[],
  axes: readonly number[],
  data: Float32Array,
): Parameter {
  return new Parameter(name, shape, new ParameterBlock(gpu, permute(data, shape, axes)), 0, true, axes);
}

/**
 * `y = phi(x) W^T (+ bias)` with a data-free basis and coefficients in the
 * original's layout; subclasses choose the basis, names and initialization.
 *
 * @example
 * ```ts
 * import { ChebyKAN } from "./cheby_kan.ts";
 * import type { CoefficientLayer } from "./coefficient_layer.ts";
 * import { Gpu } from "../gpu/gpu.ts";
 * const gpu = await Gpu.request();
 * const layer: CoefficientLayer = new ChebyKAN(gpu, 4, 2, { degree: 3 });
 * console.log([...layer.namedParameters().keys()]); // cheby_coeffs, arange
 * gpu.destroy();
 * ```
 */
export abstract class CoefficientLayer extends Layer {
  /** The parameters by role, set by the subclass's constructor. */
  protected abstract readonly parts: CoefficientParameters;

  /** The basis in force. */
  abstract get basis(): Basis;

  /** The coefficient parameter (its block holds it as `[out, in * nBasis]`). */
  get coefficients(): Parameter {
    return this.parts.coeffs;
  }

  /** Every parameter, in state-dict order: the coefficients, the bias, the extra entries. */
  parameters(): readonly Parameter[] {
    const { coeffs, bias, extra } = this.parts;
    return [coeffs, ...(bias ? [bias] : []), ...extra];
  }

  /** Records the forward pass of `x`, keeping what the backward pass needs. */
  protected record(x: Tensor): Trace {
    const gpu = this.gpu;
    const basis = this.basis;
    const { coeffs, bias } = this.parts;
    const dims = { batch: x.shape[0], inDim: this.inFeatures, outDim: this.outFeatures };
    const y = Tensor.empty(gpu, [dims.batch, dims.outDim]);
    basisForward(gpu, basis, dims, x.binding, coeffs.range, null, bias?.range ?? null, y.binding, false);
    return {
      y,
      backward(dy, inputGrad) {
        if (coeffs.trainable) {
          basisGradWeight(gpu, basis, dims, x.binding, dy.binding, null, coeffs.gradRange, true);
        }
        if (bias?.trainable) reduceRows(gpu, dy.binding, dims.batch, dims.outDim, bias.gradRange, true);
        if (!inputGrad) return null;
        const dx = Tensor.empty(gpu, x.shape);
        basisGradInput(gpu, basis, dims, x.binding, dy.binding, coeffs.range, null, dx.binding, false, null);
        return dx;
      },
      release() {},
    };
  }

  /** The float64 version (state in the original's layout; gradients likewise). */
  reference(state: Record<string, ArrayLike<number>>): ReferenceLayer {
    const basis = this.basis;
    const { inFeatures: inDim, outFeatures: outDim } = this;
    const { coeffs, bias } = this.parts;
    const axes = coeffs.axes ?? coeffs.shape.map((_, a) => a);
    const w = permute(Float64Array.from(state[coeffs.name]), coeffs.shape, axes);
    const b = bias ? state[bias.name] : null;
    return {
      forward(x, batch) {
        const dims = { batch, inDim, outDim };
        const y = basisForwardReference(basis, dims, x, w, [], b);
        return {
          y,
          backward(dy) {
            const g = basisBackwardReference(basis, dims, x, w, [], dy);
            const grads: Record<string, Float64Array> = {
              [coeffs.name]: permute(g.dw, axes.map((a) => coeffs.shape[a]), inverseAxes(axes)),
            };
            if (bias) grads[bias.name] = g.dbias;
            return { dx: g.dx, grads };
          },
        };
      },
    };
  }
}
