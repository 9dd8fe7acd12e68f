/**
 * Float64 reference of the sparsity regularization of one B-spline KAN layer
 * (`regularization.ts`): its value and gradients, written out by hand from
 * pykan's `MultKAN.reg` formulas, for tests.
 *
 * @module
 */

import type { BSplineKAN } from "../layers/bspline_kan.ts";
import { type RegularizationSettings, regularizationSettings } from "./regularization.ts";

/** What {@linkcode regularizationReference} returns; every number is of `lamb * reg`. */
export interface RegularizationReference {
  /** `lamb * reg` of the layer. */
  value: number;
  /** Gradients of `lamb * reg` by parameter name, in the state dict's layout. */
  grads: { base_weight: Float64Array; spline_weight: Float64Array; spline_scaler: Float64Array };
  /** Gradient of `lamb * reg` with respect to the input, `[B, in]`. */
  dx: Float64Array;
  /** Each edge's standard deviation over the batch (two-pass), `[out, in]`. */
  edgeStd: Float64Array;
  /** Each edge's mean over the batch, `[out, in]`. */
  edgeMean: Float64Array;
  /** Each input's standard deviation, `[in]`. */
  inputStd: Float64Array;
  /** Each input's mean, `[in]`. */
  inputMean: Float64Array;
}

function base(kind: string, v: number): [number, number] {
  if (kind === "silu") {
    const s = 1 / (1 + Math.exp(-v));
    return [v * s, s * (1 + v * (1 - s))];
  }
  return kind === "identity" ? [v, 1] : [0, 0];
}

const h = (p: number) => p * Math.log2(p + 1e-4);
const dh = (p: number) => Math.log2(p + 1e-4) + p / ((p + 1e-4) * Math.LN2);

/**
 * The float64 regularization of `layer`'s shape, basis and base branch with
 * the weights `state` (state-dict names: `grid`, `base_weight`,
 * `spline_weight`, `spline_scaler`) on `x` (`[batch, in]` row-major).
 *
 * @example
 * ```ts
 * import { BSplineKAN, Gpu } from "../../mod.ts";
 * import { regularizationReference } from "./reg_reference.ts";
 * const gpu = await Gpu.request();
 * const layer = new BSplineKAN(gpu, 2, 3, { seed: 1 });
 * const dict = await layer.stateDict();
 * const state = Object.fromEntries(Object.entries(dict).map(([k, v]) => [k, v.data]));
 * const ref = regularizationReference(layer, state, [0.1, -0.5, 0.7, 0.2, -0.3, 0.9], 3, { lamb: 1 });
 * console.log(ref.value, ref.grads.spline_weight.length); // ... 48
 * gpu.destroy();
 * ```
 */
export function regularizationReference(
  layer: BSplineKAN,
  state: Record<string, ArrayLike<number>>,
  x: ArrayLike<number>,
  batch: number,
  settings: RegularizationSettings,
): RegularizationReference {
  const s = regularizationSettings("regularizationReference", settings);
  const { inFeatures: n, outFeatures: m, basis } = layer;
  const nb = basis.count;
  const kind = layer.options.baseActivation;
  const { grid, base_weight: bw, spline_weight: w, spline_scaler: sc } = state;
  const e = m * n;
  // Activations, their spline parts and derivatives, [b, o, i].
  const phi = new Float64Array(batch * e);
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < n; i++) {
      const v = x[b * n + i];
      const bv = base(kind, v)[0];
      const values = Array.from({ length: nb }, (_, j) => basis.value(i, j, v, grid, n));
      for (let o = 0; o < m; o++) {
        const k = o * n + i;
        let sp = 0;
        for (let j = 0; j < nb; j++) sp += w[k * nb + j] * values[j];
        phi[b * e + k] = bw[k] * bv + sc[k] * sp;
      }
    }
  }
  const meanStd = (count: number, at: (b: number, c: number) => number) => {
    const mean = new Float64Array(count);
    const std = new Float64Array(count);
    for (let c = 0; c < count; c++) {
      let sum = 0;
      for (let b = 0; b < batch; b++) sum += at(b, c);
      mean[c] = sum / batch;
      let sq = 0;
      for (let b = 0; b < batch; b++) sq += (at(b, c) - mean[c]) ** 2;
      std[c] = Math.sqrt(sq / (batch - 1));
    }
    return { mean, std };
  };
  const edge = meanStd(e, (b, k) => phi[b * e + k]);
  const input = meanStd(n, (b, i) => x[b * n + i]);
  const vec = Float64Array.from({ length: e }, (_, k) => edge.std[k] / (input.std[k % n] + 0.1));
  const rows = new Float64Array(m);
  const cols = new Float64Array(n);
  vec.forEach((v, k) => {
    rows[Math.floor(k / n)] += v;
    cols[k % n] += v;
  });
  const pRow = vec.map((v, k) => v / (rows[Math.floor(k / n)] + 1));
  const pCol = vec.map((v, k) => v / (cols[k % n] + 1));
  let value = 0;
  const qRow = new Float64Array(m);
  const qCol = new Float64Array(n);
  for (let k = 0; k < e; k++) {
    value += s.lambL1 * vec[k] - s.lambEntropy * (h(pRow[k]) / m + h(pCol[k]) / n);
    qRow[Math.floor(k / n)] += dh(pRow[k]) * pRow[k];
    qCol[k % n] += dh(pCol[k]) * pCol[k];
  }
  const dw = new Float64Array(e * nb);
  const sign = Math.sign;
  for (let k = 0; k < e; k++) {
    for (let j = 0; j < nb; j++) {
      const t = k * nb + j;
      value += s.lambCoef * Math.abs(w[t]) / m;
      dw[t] += s.lamb * s.lambCoef * sign(w[t]) / m;
      if (j + 1 < nb) {
        value += s.lambCoefdiff * Math.abs(w[t + 1] - w[t]) / m;
        const d = s.lamb * s.lambCoefdiff * sign(w[t + 1] - w[t]) / m;
        dw[t + 1] += d;
        dw[t] -= d;
      }
    }
  }
  // d(lamb reg)/d std_phi and d/d std_x.
  const alpha = new Float64Array(e);
  const dStdX = new Float64Array(n);
  for (let k = 0; k < e; k++) {
    const o = Math.floor(k / n);
    const i = k % n;
    const g = s.lambL1 - s.lambEntropy * ((dh(pRow[k]) - qRow[o]) / ((rows[o] + 1) * m) +
          (dh(pCol[k]) - qCol[i]) / ((cols[i] + 1) * n));
    const gradStd = s.lamb * g / (input.std[i] + 0.1);
    dStdX[i] -= gradStd * vec[k];
    alpha[k] = edge.std[k] > 0 ? gradStd / ((batch - 1) * edge.std[k]) : 0;
  }
  const dbw = new Float64Array(e);
  const dsc = new Float64Array(e);
  const dx = new Float64Array(batch * n);
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < n; i++) {
      const v = x[b * n + i];
      const [bv, dbv] = base(kind, v);
      const values = Array.from({ length: nb }, (_, j) => basis.value(i, j, v, grid, n));
      const slopes = Array.from({ length: nb }, (_, j) => basis.dx(i, j, v, grid, n));
      let g = input.std[i] > 0 ? dStdX[i] * (v - input.mean[i]) / ((batch - 1) * input.std[i]) : 0;
      for (let o = 0; o < m; o++) {
        const k = o * n + i;
        const d = alpha[k] * (phi[b * e + k] - edge.mean[k]);
        let sp = 0;
        let dsp = 0;
        for (let j = 0; j < nb; j++) {
          sp += w[k * nb + j] * values[j];
          dsp += w[k * nb + j] * slopes[j];
          dw[k * nb + j] += d * sc[k] * values[j];
        }
        dbw[k] += d * bv;
        dsc[k] += d * sp;
        g += d * (bw[k] * dbv + sc[k] * dsp);
      }
      dx[b * n + i] = g;
    }
  }
  return {
    value: s.lamb * value,
    grads: { base_weight: dbw, spline_weight: dw, spline_scaler: dsc },
    dx,
    edgeStd: edge.std,
    edgeMean: edge.mean,
    inputStd: input.std,
    inputMean: input.mean,
  };
}
