/**
 * Wav-KAN's wavelets (zavareh1/Wav-KAN `KANLinear`) as a per-edge function
 * `w * psi((x - t) / s)`, with the float64 reference of the WGSL in
 * `shaders/edge/wavelet.wgsl`.
 *
 * @module
 */

import type { EdgeFunction } from "./edge_function.ts";
import source from "../../shaders/edge/wavelet.wgsl" with { type: "text" };

/** The wavelets of Wav-KAN's `wavelet_type`. */
export type WaveletType = "mexican_hat" | "morlet" | "dog" | "meyer" | "shannon";

/** Every {@linkcode WaveletType}, in the WGSL's `WAVELET` order. */
export const WAVELET_TYPES: readonly WaveletType[] = ["mexican_hat", "morlet", "dog", "meyer", "shannon"];

const MEXICAN_HAT_C = 2 / (Math.sqrt(3) * Math.PI ** 0.25);

/** Meyer's `nu(t)` and its derivative. */
function meyerNu(t: number): [number, number] {
  const p = 35 - 84 * t + 70 * t * t - 20 * t ** 3;
  const dp = -84 + 140 * t - 60 * t * t;
  return [t ** 4 * p, 4 * t ** 3 * p + t ** 4 * dp];
}

/** torch.hamming_window(n, periodic=False)[i]. */
export function hamming(i: number, n: number): number {
  return n === 1 ? 1 : 0.54 - 0.46 * Math.cos(2 * Math.PI * i / (n - 1));
}

/**
 * `[psi(u), dpsi/du]` of wavelet `type` on input `i` of `inDim` (only
 * Shannon's window depends on `i`), with torch's derivatives at the kinks.
 *
 * @example
 * ```ts
 * import { psi } from "./wavelet.ts";
 * console.log(psi("dog", 0, 0, 1)); // [-0, -1]
 * ```
 */
export function psi(type: WaveletType, u: number, i: number, inDim: number): [number, number] {
  const e = Math.exp(-0.5 * u * u);
  switch (type) {
    case "mexican_hat":
      return [MEXICAN_HAT_C * (u * u - 1) * e, MEXICAN_HAT_C * u * (3 - u * u) * e];
    case "morlet":
      return [e * Math.cos(5 * u), -e * (5 * Math.sin(5 * u) + u * Math.cos(5 * u))];
    case "dog":
      return [-u * e, (u * u - 1) * e];
    case "meyer": {
      const v = Math.abs(u);
      let aux = 0;
      let daux = 0;
      if (v <= 0.5) aux = 1;
      else if (v < 1) {
        const [n, dn] = meyerNu(2 * v - 1);
        aux = Math.cos(Math.PI / 2 * n);
        daux = -Math.sin(Math.PI / 2 * n) * Math.PI * dn;
      }
      const dv = Math.PI * Math.cos(Math.PI * v) * aux + Math.sin(Math.PI * v) * daux;
      return [Math.sin(Math.PI * v) * aux, Math.sign(u) * dv];
    }
    case "shannon": {
      const h = hamming(i, inDim);
      if (u === 0) return [h, 0];
      return [h * Math.sin(u) / u, h * (u * Math.cos(u) - Math.sin(u)) / (u * u)];
    }
  }
}

/**
 * The edge function of wavelet `type`: parameters `[scale, translation,
 * weight1, wavelet_weights]` (Wav-KAN's state-dict order; `weight1` is unused
 * by its forward, so its derivative is 0).
 *
 * @example
 * ```ts
 * import { waveletEdge } from "./wavelet.ts";
 * const edge = waveletEdge("mexican_hat");
 * console.log(edge.value(0, [1, 0, 0, 2], 0, 1)); // 2 * psi(0) = -1.73…
 * ```
 */
export function waveletEdge(type: WaveletType): EdgeFunction {
  return {
    name: `wavelet_${type}`,
    source,
    constants: { WAVELET: WAVELET_TYPES.indexOf(type) },
    planes: 4,
    value(x, th, i, inDim) {
      return th[3] * psi(type, (x - th[1]) / th[0], i, inDim)[0];
    },
    derivs(x, th, i, inDim) {
      const u = (x - th[1]) / th[0];
      const [f, df] = psi(type, u, i, inDim);
      const g = th[3] * df / th[0];
      return [g, -g * u, -g, 0, f];
    },
  };
}
