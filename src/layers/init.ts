/**
 * Seeded initialization, following the PyTorch schemes that each reference
 * implementation uses: kaiming-uniform, xavier-uniform, truncated normal,
 * torch's `Linear`/`Conv2d` defaults, and efficient-kan's least-squares fit
 * of spline coefficients to noise.
 *
 * @module
 */

import { KanError } from "../errors.ts";
import { check, SEED } from "../validate.ts";

/** A seeded generator of uniform and normal numbers (xoshiro128**, seeded by splitmix32). */
export class Rng {
  #s: Uint32Array;

  /** A generator whose whole sequence is fixed by `seed`. */
  constructor(seed: number) {
    check("Rng: seed", seed, SEED);
    this.#s = new Uint32Array(4);
    let z = (Math.trunc(seed) ^ 0x9e3779b9) >>> 0;
    for (let i = 0; i < 4; i++) {
      z = (z + 0x9e3779b9) >>> 0;
      let t = z;
      t = Math.imul(t ^ (t >>> 16), 0x85ebca6b);
      t = Math.imul(t ^ (t >>> 13), 0xc2b2ae35);
      this.#s[i] = (t ^ (t >>> 16)) >>> 0;
    }
  }

  /** Uniform on [0, 1), 32 bits of randomness. */
  uniform(): number {
    const s = this.#s;
    const result = Math.imul(((Math.imul(s[1], 5) << 7) | (Math.imul(s[1], 5) >>> 25)) >>> 0, 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = ((s[3] << 11) | (s[3] >>> 21)) >>> 0;
    return result / 4294967296;
  }

  /** Uniform on [lo, hi). */
  between(lo: number, hi: number): number {
    return lo + (hi - lo) * this.uniform();
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    const u = 1 - this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.uniform());
  }
}

/** `n` values uniform on [-bound, bound). */
export function uniformArray(rng: Rng, n: number, bound: number): Float32Array {
  return Float32Array.from({ length: n }, () => rng.between(-bound, bound));
}

/** torch.nn.init.kaiming_uniform_ with leaky-ReLU slope `a` for a weight whose fan-in is `fanIn`. */
export function kaimingUniform(rng: Rng, n: number, fanIn: number, a: number): Float32Array {
  const gain = Math.sqrt(2 / (1 + a * a));
  return uniformArray(rng, n, Math.sqrt(3) * gain / Math.sqrt(fanIn));
}

/** torch.nn.init.xavier_uniform_ (gain 1). */
export function xavierUniform(rng: Rng, fanIn: number, fanOut: number): Float32Array {
  return uniformArray(rng, fanIn * fanOut, Math.sqrt(6 / (fanIn + fanOut)));
}

/**
 * torch.nn.init.trunc_normal_(mean 0, std, a = -2, b = 2), for `a < 0 < b`:
 * normals redrawn until inside [a, b] while `std` is at most the bound's
 * size (each draw is kept with probability >= 0.68); for a wider `std`,
 * uniform draws on [a, b] kept with probability `exp(-v^2 / (2 std^2))` (>= 0.6),
 * so that a huge `std` never loops for long.
 */
export function truncNormal(rng: Rng, n: number, std: number, a = -2, b = 2): Float32Array {
  const spread = Math.abs(std);
  const narrow = spread <= Math.max(-a, b);
  return Float32Array.from({ length: n }, () => {
    for (;;) {
      if (narrow) {
        const v = rng.normal() * std;
        if (v >= a && v <= b) return v;
      } else {
        const v = rng.between(a, b);
        if (rng.uniform() < Math.exp(-v * v / (2 * spread * spread))) return v;
      }
    }
  });
}

/** torch.nn.Linear / Conv2d default: weight kaiming-uniform(a = sqrt 5), bias uniform(±1/sqrt(fanIn)). */
export function torchDefaultInit(
  rng: Rng,
  outDim: number,
  fanIn: number,
): { weight: Float32Array; bias: Float32Array } {
  const weight = kaimingUniform(rng, outDim * fanIn, fanIn, Math.sqrt(5));
  const bias = uniformArray(rng, outDim, 1 / Math.sqrt(fanIn));
  return { weight, bias };
}

/**
 * A matrix whose rows are non-zero only in a window of `width` columns:
 * row `r` holds `values[r * width + t]` at column `first[r] + t` (columns past
 * `cols` are ignored), with `first` non-decreasing, as a B-spline collocation
 * matrix is.
 */
export interface BandedRows {
  /** Number of rows. */
  rows: number;
  /** Number of columns. */
  cols: number;
  /** Columns of each row's window. */
  width: number;
  /** First column of each row's window (non-decreasing). */
  first: Int32Array;
  /** `rows * width` values. */
  values: Float64Array;
}

/**
 * The least-squares solution with the smallest norm of `A c = y` for a
 * banded `A` and several right-hand sides `y` of `rows x rhs` (returns
 * `cols x rhs`, row-major), as torch.linalg.lstsq gives for a full-rank `A`.
 * The normal equations (`A^T A c = A^T y` when `A` is tall, `c = A^T (A A^T)^-1 y`
 * when wide) are banded too, so time and memory grow linearly with the size.
 */
export function leastSquares(a: BandedRows, y: Float64Array, rhs: number): Float64Array {
  const { rows, cols, width, first, values } = a;
  const at = (r: number, t: number) => first[r] + t < cols ? values[r * width + t] : 0;
  const tall = rows >= cols;
  const n = tall ? cols : rows;
  // Half-bandwidth of the normal matrix.
  let w = width - 1;
  if (!tall) {
    w = 0;
    for (let r = 0; r < rows; r++) {
      for (let s = r + 1; s < rows && first[s] < first[r] + width; s++) w = Math.max(w, s - r);
    }
  }
  const band = 2 * w + 1;
  const m = new Float64Array(n * band);
  const idx = (i: number, j: number) => i * band + (j - i + w);
  const b = new Float64Array(n * rhs);
  if (tall) {
    for (let r = 0; r < rows; r++) {
      for (let t = 0; t < width; t++) {
        const i = first[r] + t;
        if (i >= cols) break;
        for (let u = 0; u < width && first[r] + u < cols; u++) m[idx(i, first[r] + u)] += at(r, t) * at(r, u);
        for (let h = 0; h < rhs; h++) b[i * rhs + h] += at(r, t) * y[r * rhs + h];
      }
    }
  } else {
    for (let r = 0; r < rows; r++) {
      for (let s = Math.max(0, r - w); s <= Math.min(rows - 1, r + w); s++) {
        let sum = 0;
        for (let t = 0; t < width; t++) {
          const u = first[r] + t - first[s];
          if (u >= 0 && u < width) sum += at(r, t) * at(s, u);
        }
        m[idx(r, s)] = sum;
      }
    }
    b.set(y.subarray(0, n * rhs));
  }
  solveBanded(m, n, w, b, rhs);
  if (tall) return b;
  const c = new Float64Array(cols * rhs);
  for (let r = 0; r < rows; r++) {
    for (let t = 0; t < width && first[r] + t < cols; t++) {
      const k = first[r] + t;
      for (let h = 0; h < rhs; h++) c[k * rhs + h] += at(r, t) * b[r * rhs + h];
    }
  }
  return c;
}

/**
 * Gaussian elimination of a symmetric positive definite `m` of half-bandwidth
 * `w` (row `i` stores columns `i - w .. i + w`): `m x = b`, `x` written into `b`.
 */
function solveBanded(m: Float64Array, n: number, w: number, b: Float64Array, rhs: number): void {
  const band = 2 * w + 1;
  const idx = (i: number, j: number) => i * band + (j - i + w);
  for (let col = 0; col < n; col++) {
    const pivot = m[idx(col, col)];
    if (!(Math.abs(pivot) > 0)) throw new KanError("leastSquares: the basis matrix is singular");
    const end = Math.min(n - 1, col + w);
    for (let r = col + 1; r <= end; r++) {
      const f = m[idx(r, col)] / pivot;
      if (f === 0) continue;
      for (let c = col; c <= end; c++) m[idx(r, c)] -= f * m[idx(col, c)];
      for (let h = 0; h < rhs; h++) b[r * rhs + h] -= f * b[col * rhs + h];
    }
  }
  for (let r = n - 1; r >= 0; r--) {
    const end = Math.min(n - 1, r + w);
    for (let h = 0; h < rhs; h++) {
      let v = b[r * rhs + h];
      for (let c = r + 1; c <= end; c++) v -= m[idx(r, c)] * b[c * rhs + h];
      b[r * rhs + h] = v / m[idx(r, r)];
    }
  }
}
