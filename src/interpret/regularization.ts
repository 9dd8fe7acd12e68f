/**
 * pykan's sparsity regularization of a B-spline KAN layer, value and
 * gradients, on the GPU (pykan `MultKAN.reg` at ecde4ec with its default
 * `reg_metric = 'edge_forward_spline_n'`).
 *
 * Per layer, with `phi[b, o, i]` the edge's whole activation
 * (`base_weight * base(x) + spline_scaler * sum_j spline_weight * B_j(x)`, no bias),
 * `vec[o, i] = std_b(phi[b, o, i]) / (std_b(x[b, i]) + 0.1)` (unbiased standard
 * deviations, as `torch.std`; older pykan took the mean absolute activation,
 * ecde4ec takes this), and
 *
 * ```
 * reg = lambL1 * sum(vec) + lambEntropy * (entropy_row + entropy_col)
 *     + lambCoef * sum_{i,j} mean_o |w[o,i,j]| + lambCoefdiff * sum_{i,j} mean_o |w[o,i,j+1] - w[o,i,j]|
 * entropy_row = -mean_o sum_i p_row log2(p_row + 1e-4),  p_row = vec / (sum_i vec + 1)
 * entropy_col = -mean_i sum_o p_col log2(p_col + 1e-4),  p_col = vec / (sum_o vec + 1)
 * ```
 *
 * where `w` is `spline_weight` (pykan's `coef`, held there as `[in, out, nb]`).
 * The objective is `loss + lamb * sum over layers of reg`. Gradients flow into
 * `base_weight`, `spline_weight` and `spline_scaler` (those trainable) and into
 * the layer's input, through `phi(x)` and through `std(x)`, as autograd does in
 * pykan. An edge (or input) whose standard deviation is exactly 0 gets no
 * gradient through it (torch gives NaN there).
 *
 * Nothing is read back: the value goes into a GPU scalar, the gradients into
 * the parameters' gradient tensors.
 *
 * @module
 */

import { KanError } from "../errors.ts";
import type { Gpu } from "../gpu/gpu.ts";
import type { BufferRange } from "../gpu/recorder.ts";
import type { BSplineKAN } from "../layers/bspline_kan.ts";
import type { Parameter } from "../layers/parameter.ts";
import { reduceRows } from "../ops/reduce_rows.ts";
import { Tensor } from "../tensor.ts";
import { check, checkOptions, checkTensor, describe, FINITE, option } from "../validate.ts";
import { checkBatch, edgeLayer, recordEdgeMoments } from "./edge_statistics.ts";
import { type FinalizeParams, recordEdgeGradSums, recordFinalize, recordInputGrad } from "./reg_kernels.ts";

/** The weights of the regularization, named after pykan's `fit` arguments. */
export interface RegularizationSettings {
  /** pykan's `lamb`: the weight of the whole term in the objective. */
  lamb: number;
  /** pykan's `lamb_l1` (default 1). */
  lambL1?: number;
  /** pykan's `lamb_entropy` (default 2). */
  lambEntropy?: number;
  /** pykan's `lamb_coef` (default 0). */
  lambCoef?: number;
  /** pykan's `lamb_coefdiff` (default 0). */
  lambCoefdiff?: number;
}

/** The option names of {@linkcode RegularizationSettings}. */
export const REGULARIZATION_SETTINGS: readonly string[] = [
  "lamb",
  "lambL1",
  "lambEntropy",
  "lambCoef",
  "lambCoefdiff",
];

/**
 * `settings` checked (finite numbers, no unknown names; `lamb` required) with
 * pykan's defaults filled in. Throws a {@linkcode KanError} naming `owner` and
 * the setting.
 *
 * @example
 * ```ts
 * import { regularizationSettings } from "./regularization.ts";
 * console.log(regularizationSettings("fit", { lamb: 0.01 }));
 * // { lamb: 0.01, lambL1: 1, lambEntropy: 2, lambCoef: 0, lambCoefdiff: 0 }
 * ```
 */
export function regularizationSettings(owner: string, settings: unknown): Required<RegularizationSettings> {
  if (settings === undefined || settings === null) {
    throw new KanError(
      `${owner}: regularization settings must be an object with "lamb", got ${describe(settings)}`,
    );
  }
  checkOptions(owner, settings, REGULARIZATION_SETTINGS);
  const s = settings as RegularizationSettings;
  return {
    lamb: check(`${owner}: option "lamb"`, s.lamb, FINITE),
    lambL1: option(owner, s, "lambL1", FINITE, 1),
    lambEntropy: option(owner, s, "lambEntropy", FINITE, 2),
    lambCoef: option(owner, s, "lambCoef", FINITE, 0),
    lambCoefdiff: option(owner, s, "lambCoefdiff", FINITE, 0),
  };
}

/** Where {@linkcode recordRegularization} writes `lamb * reg` of its layer: one f32. */
export interface RegularizationTarget {
  /** The 4 bytes (or more: the first float is used) that receive the value. */
  range: BufferRange;
  /** Add to what is there instead of overwriting it (default false). */
  accumulate?: boolean;
}

/** The backward half of a recorded regularization. */
export interface RegularizationRecord {
  /**
   * Records the gradients of `lamb * reg`: added into the gradients of the
   * layer's trainable `base_weight`, `spline_weight` and `spline_scaler`, and,
   * when `dx` is given, into `dx` (`[B, in]`, the tensor the layer's backward
   * returns). Call once, after the forward part and before the parameters change.
   */
  backward(dx: Tensor | null): void;
  /** Releases what the record keeps. Call after `backward` (or instead of it). */
  release(): void;
}

/**
 * Records the regularization of `layer` on its input `x` (`[B, in]`, `B >= 2`):
 * writes `lamb * reg` into `out` (see {@linkcode RegularizationTarget}), and
 * returns the backward part. Meant to be called inside the layer's trace: this
 * when the layer records its forward pass, `backward(dx)` when its backward
 * runs. Nothing is read back. The work grows as `B * out * in * (k + 1)` basis
 * evaluations, as a forward pass; memory as `out * in * nb * chunks`.
 *
 * @example
 * ```ts
 * import { BSplineKAN, Gpu, Tensor } from "../../mod.ts";
 * import { recordRegularization } from "./regularization.ts";
 * const gpu = await Gpu.request();
 * const layer = new BSplineKAN(gpu, 2, 3, { seed: 1 });
 * const x = Tensor.from(gpu, [0.1, -0.5, 0.7, 0.2, -0.3, 0.9], [3, 2]);
 * const value = Tensor.zeros(gpu, [1]);
 * const record = recordRegularization(layer, x, { lamb: 0.01 }, { range: value.binding });
 * record.backward(null); // adds d(lamb * reg)/d(parameters) into the layer's gradients
 * record.release();
 * console.log(await value.read()); // lamb * reg
 * gpu.destroy();
 * ```
 */
export function recordRegularization(
  layer: BSplineKAN,
  x: Tensor,
  settings: RegularizationSettings,
  out: RegularizationTarget,
): RegularizationRecord {
  const where = "recordRegularization";
  const edges = edgeLayer(where, layer);
  const gpu = layer.gpu;
  checkBatch(where, gpu, x, edges.inDim);
  const s = regularizationSettings(where, settings);
  if (!out || typeof out !== "object" || !out.range || !(out.range.buffer instanceof GPUBuffer)) {
    throw new KanError(`${where}: out must be { range: a BufferRange of one f32 }, got ${describe(out)}`);
  }
  const { inDim, outDim } = edges;
  const nb = edges.basis.count;
  const e = outDim * inDim;
  const batch = x.shape[0];
  const params: FinalizeParams = {
    inDim,
    outDim,
    nb,
    n: batch,
    count: e + inDim,
    lamb: s.lamb,
    l1: s.lambL1,
    entropy: s.lambEntropy,
    coef: s.lambCoef,
    coefdiff: s.lambCoefdiff,
  };
  const temporaries: Tensor[] = [];
  const temp = (n: number) => {
    const t = Tensor.empty(gpu, [n]);
    temporaries.push(t);
    return t.binding;
  };
  const stats = recordEdgeMoments(gpu, edges, x);
  temporaries.push(stats);
  const [vec, vecT, rows, cols] = [temp(e), temp(e), temp(outDim), temp(inDim)];
  recordFinalize(gpu, "edge_vec", params, [stats.binding], [vec, vecT], e);
  reduceRows(gpu, vecT, inDim, outDim, rows, false);
  reduceRows(gpu, vec, outDim, inDim, cols, false);
  const [terms, rowTerms, colTerms] = [temp(e * (nb + 1)), temp(e), temp(e)];
  recordFinalize(gpu, "entropy", params, [stats.binding, rows, cols], [terms, rowTerms, colTerms], e);
  recordFinalize(gpu, "coef_value", params, [edges.splineWeight], [terms], e * nb);
  reduceRows(gpu, terms, e * (nb + 1), 1, out.range, out.accumulate ?? false);
  const [rowSums, colSums, z, zSums] = [temp(outDim), temp(inDim), temp(e), temp(inDim)];
  reduceRows(gpu, rowTerms, inDim, outDim, rowSums, false);
  reduceRows(gpu, colTerms, outDim, inDim, colSums, false);
  const coeffs = Tensor.empty(gpu, [2 * e + 2 * inDim]);
  recordFinalize(
    gpu,
    "edge_coeffs",
    params,
    [stats.binding, rows, cols, rowSums, colSums],
    [coeffs.binding, z],
    e,
  );
  reduceRows(gpu, z, outDim, inDim, zSums, false);
  recordFinalize(gpu, "input_coeffs", params, [stats.binding, zSums], [coeffs.binding], inDim);
  for (const t of temporaries) t.dispose();

  const named = layer.namedParameters();
  const get = (name: string): Parameter => named.get(name)!;
  let state: "recorded" | "done" | "released" = "recorded";
  return {
    backward(dx) {
      if (state !== "recorded") {
        throw new KanError(`${where}: backward was already called or the record was released`);
      }
      if (dx !== null) {
        checkTensor(`${where}: dx`, dx, gpu);
        if (dx.shape.length !== 2 || dx.shape[0] !== batch || dx.shape[1] !== inDim) {
          throw new KanError(
            `${where}: dx must have shape [${batch}, ${inDim}], got [${dx.shape.join(", ")}]`,
          );
        }
      }
      checkTensor(`${where}: the recorded input x`, x, gpu);
      state = "done";
      const [baseWeight, splineWeight, scaler] = [
        get("base_weight"),
        get("spline_weight"),
        get("spline_scaler"),
      ];
      if (baseWeight.trainable || splineWeight.trainable || scaler.trainable) {
        const sums = Tensor.empty(gpu, [e * (nb + 2)]);
        recordEdgeGradSums(gpu, edges, x.binding, batch, coeffs.binding, sums.binding);
        if (baseWeight.trainable) {
          recordFinalize(gpu, "apply_base", params, [sums.binding], [baseWeight.gradRange], e);
        }
        if (scaler.trainable) {
          recordFinalize(gpu, "apply_scaler", params, [sums.binding], [scaler.gradRange], e);
        }
        if (splineWeight.trainable) {
          recordFinalize(
            gpu,
            "apply_weight",
            params,
            [sums.binding, scaler.range, splineWeight.range],
            [splineWeight.gradRange],
            e * nb,
          );
        }
        sums.dispose();
      }
      if (dx) recordInputGrad(gpu, edges, x.binding, batch, coeffs.binding, dx.binding, true);
    },
    release() {
      if (state === "released") return;
      state = "released";
      coeffs.dispose();
    },
  };
}

/**
 * Records `to[0] += from[0]` (one f32 each): adds a layer's (or the layers'
 * accumulated) `lamb * reg` into the loss scalar that `fit` reads, after the
 * loss kernel wrote it.
 *
 * @example
 * ```ts
 * import { Gpu, Tensor } from "../../mod.ts";
 * import { addRegularization } from "./regularization.ts";
 * const gpu = await Gpu.request();
 * const loss = Tensor.from(gpu, [0.5], [1]);
 * const reg = Tensor.from(gpu, [0.25], [1]);
 * addRegularization(gpu, reg.binding, loss.binding);
 * console.log(await loss.read()); // Float32Array [0.75]
 * gpu.destroy();
 * ```
 */
export function addRegularization(gpu: Gpu, from: BufferRange, to: BufferRange): void {
  reduceRows(gpu, from, 1, 1, to, true);
}
