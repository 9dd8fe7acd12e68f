/**
 * Seeded initialization, following the PyTorch schemes that each reference
 * implementation uses: kaiming-uniform, xavier-uniform, truncated normal,
 * torch's `Linear`/`Conv2d` defaults, and efficient-kan's least-squares fit
 * of spline coefficients to noise.
 *
 * @module
 */

import { KanError } from "../errors.ts";

/** A seeded generator of uniform and normal numbers (xoshiro128**, seeded by splitmix32). */
export class Rng {
  #s: Uint32Array;

  /** A generator whose whole sequence is fixed by `seed`. */
  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new KanError(`seed must be a finite number, got ${seed}`);
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

/** torch.nn.init.trunc_normal_(mean 0, std, a = -2, b = 2): normals redrawn until inside [a, b]. */
export function truncNormal(rng: Rng, n: number, std: number, a = -2, b = 2): Float32Array {
  return Float32Array.from({ length: n }, () => {
    for (;;) {
      const v = rng.normal() * std;
      if (v >= a && v <= b) return v;
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
 * The least-squares solution with the smallest norm of `A c = y` for a dense
 * `A` of `rows x cols` (row-major) and several right-hand sides `y` of
 * `rows x rhs`, as torch.linalg.lstsq gives for a full-rank `A`.
 */
export function leastSquares(
  a: Float64Array,
  rows: number,
  cols: number,
  y: Float64Array,
  rhs: number,
): Float64Array {
  // Normal equations on the smaller side: (A^T A) c = A^T y, or c = A^T (A A^T)^-1 y.
  const tall = rows >= cols;
  const n = tall ? cols : rows;
  const m = new Float64Array(n * n);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      let s = 0;
      if (tall) { for (let k = 0; k < rows; k++) s += a[k * cols + r] * a[k * cols + c]; }
      else for (let k = 0; k < cols; k++) s += a[r * cols + k] * a[c * cols + k];
      m[r * n + c] = s;
    }
  }
  const b = new Float64Array(n * rhs);
  for (let r = 0; r < n; r++) {
    for (let h = 0; h < rhs; h++) {
      let s = 0;
      if (tall) { for (let k = 0; k < rows; k++) s += a[k * cols + r] * y[k * rhs + h]; }
      else s = y[r * rhs + h];
      b[r * rhs + h] = s;
    }
  }
  solveInPlace(m, n, b, rhs);
  if (tall) return b;
  const c = new Float64Array(cols * rhs);
  for (let k = 0; k < cols; k++) {
    for (let h = 0; h < rhs; h++) {
      let s = 0;
      for (let r = 0; r < rows; r++) s += a[r * cols + k] * b[r * rhs + h];
      c[k * rhs + h] = s;
    }
  }
  return c;
}

/** Gaussian elimination with partial pivoting: `m x = b` for a square `m`, `x` written into `b`. */
function solveInPlace(m: Float64Array, n: number, b: Float64Array, rhs: number): void {
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r * n + col]) > Math.abs(m[pivot * n + col])) pivot = r;
    if (m[pivot * n + col] === 0) throw new KanError("leastSquares: the basis matrix is singular");
    if (pivot !== col) {
      for (let c = 0; c < n; c++) [m[col * n + c], m[pivot * n + c]] = [m[pivot * n + c], m[col * n + c]];
      for (let h = 0; h < rhs; h++) {
        [b[col * rhs + h], b[pivot * rhs + h]] = [b[pivot * rhs + h], b[col * rhs + h]];
      }
    }
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const f = m[r * n + col] / m[col * n + col];
      if (f === 0) continue;
      for (let c = col; c < n; c++) m[r * n + c] -= f * m[col * n + c];
      for (let h = 0; h < rhs; h++) b[r * rhs + h] -= f * b[col * rhs + h];
    }
  }
  for (let r = 0; r < n; r++) for (let h = 0; h < rhs; h++) b[r * rhs + h] /= m[r * n + r];
}
