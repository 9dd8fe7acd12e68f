/**
 * Snapping a sampled curve to a symbolic function: {@linkcode fitSymbol}
 * fits `y ≈ c·f(a·x + b) + d` for one library function as pykan's
 * `fit_params` does, and {@linkcode suggestSymbols} ranks the library as
 * pykan's `suggest_symbolic` does.
 *
 * How the fit works (pykan's sweep, made cheaper and exact at the end):
 *
 * 1. A grid of `gridNumber × gridNumber` values of `(a, b)` over `aRange ×
 *    bRange` (41 × 41 by default; pykan: 101 × 101 over [-10, 10]²). Each point is scored by the R²
 *    of the best linear fit of `c, d`, on at most 64 of the samples taken
 *    evenly by rank of x (the curve of an edge is smooth; the subsample keeps
 *    the sweep cheap). A point where `f(a·x + b)` is not finite at some sample
 *    scores 0, as pykan's `nan_to_num` makes it.
 * 2. The best grid point is zoomed on twice (a 21 × 21 grid spanning one step
 *    of the grid before, as pykan zooms), then it and the three best local
 *    maxima of the grid are refined on all samples by Levenberg–Marquardt over
 *    `(a, b, c, d)` with `a, b` kept in their ranges (pykan stops at its
 *    zoomed grid, which leaves `a, b` within about 1e-4 of a grid optimum).
 * 3. The answer is the best refined fit (with `a > 0` for an odd or even
 *    function, the sign moved into `c`); `c, d` are the least-squares line
 *    and `r2` is its exact coefficient of determination on all samples
 *    (pykan adds 1e-4 to the denominator of its R², which only matters for
 *    nearly flat curves).
 *
 * `x` needs no search (`a = 1, b = 0`); `sgn`, which has no slope to follow,
 * also gets the exact best step over every split of the samples; `0` gives
 * `c = 0` and `d` the mean with R² 0, and a flat curve (spread below 1e-12 of
 * its magnitude) gives R² 0 for every function.
 *
 * @module
 */

import { KanError } from "../errors.ts";
import { checkInteger, checkOptionNames, checkRange, checkSamples } from "./checks.ts";
import { SYMBOLIC_LIBRARY, type SymbolicFunction, symbolicFunction } from "./library.ts";

/** A fitted symbol: the edge computes `c·f(a·x + b) + d` with `f` the library function `name`. */
export interface SymbolFit {
  /** The library function (pykan's name). */
  readonly name: string;
  /** The scale of the argument. */
  readonly a: number;
  /** The shift of the argument. */
  readonly b: number;
  /** The scale of the value. */
  readonly c: number;
  /** The shift of the value. */
  readonly d: number;
  /** The coefficient of determination of the fit on the samples, in [0, 1]. */
  readonly r2: number;
}

/** Options of {@linkcode fitSymbol}. */
export interface FitSymbolOptions {
  /** The range of `a` the sweep covers (default `[-10, 10]`, pykan's). */
  aRange?: [number, number];
  /** The range of `b` the sweep covers (default `[-10, 10]`, pykan's). */
  bRange?: [number, number];
  /** Grid points per axis of the first sweep (default 41; pykan's `grid_number` is 101). */
  gridNumber?: number;
}

/** A ranked suggestion of {@linkcode suggestSymbols}. */
export interface SymbolSuggestion extends SymbolFit {
  /** The function's complexity in the library. */
  readonly complexity: number;
  /** `weightSimple·complexity + (1 − weightSimple)·log2(1 + 1e-5 − r2)`; lower is better. */
  readonly score: number;
}

/** Options of {@linkcode suggestSymbols}. */
export interface SuggestSymbolsOptions extends FitSymbolOptions {
  /** The library functions to try (names or aliases; default: the whole library). */
  lib?: readonly string[];
  /** How many suggestions to return (default 5, pykan's `topk`). */
  topK?: number;
  /** The weight of simplicity against R², in [0, 1] (default 0.8, pykan's `weight_simple`). */
  weightSimple?: number;
}

const SUBSAMPLE = 32;
const CANDIDATES = 3;
const ZOOM = 10;

interface Curve {
  xs: Float64Array;
  ys: Float64Array;
  /** The subsample of the sweep. */
  sx: Float64Array;
  /** Its y, centered on its own mean. */
  sy: Float64Array;
  syy: number;
  mean: number;
  /** Whether the samples are one value, to float64's precision (then every R² is 0). */
  flat: boolean;
}

function prepare(xs: Float64Array, ys: Float64Array): Curve {
  const n = xs.length;
  let mean = 0;
  for (let k = 0; k < n; k++) mean += ys[k];
  mean /= n;
  let yy = 0, scale = 0;
  for (let k = 0; k < n; k++) {
    yy += (ys[k] - mean) ** 2;
    scale = Math.max(scale, Math.abs(ys[k]));
  }
  const flat = !(Math.sqrt(yy / n) > 1e-12 * scale);
  const order = Array.from({ length: n }, (_, k) => k).sort((p, q) => xs[p] - xs[q]);
  const m = Math.min(n, SUBSAMPLE);
  const sx = new Float64Array(m), sy = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    const k = order[m === 1 ? 0 : Math.round(i * (n - 1) / (m - 1))];
    sx[i] = xs[k];
    sy[i] = ys[k];
  }
  let smean = 0;
  for (let i = 0; i < m; i++) smean += sy[i];
  smean /= m;
  let syy = 0;
  for (let i = 0; i < m; i++) {
    sy[i] -= smean;
    syy += sy[i] * sy[i];
  }
  return { xs, ys, sx, sy, syy, mean, flat };
}

/** The least-squares line of `ys` on `f(a·x + b)` and its R² (0 for a flat or non-finite `f`). */
function line(
  f: SymbolicFunction,
  xs: Float64Array,
  ys: Float64Array,
  a: number,
  b: number,
): { c: number; d: number; r2: number } {
  const n = xs.length;
  let fm = 0, ym = 0;
  for (let k = 0; k < n; k++) {
    const v = f.value(a * xs[k] + b);
    if (!Number.isFinite(v)) return { c: 0, d: 0, r2: -1 };
    fm += v;
    ym += ys[k];
  }
  fm /= n;
  ym /= n;
  let ff = 0, fy = 0, yy = 0;
  for (let k = 0; k < n; k++) {
    const v = f.value(a * xs[k] + b) - fm, w = ys[k] - ym;
    ff += v * v;
    fy += v * w;
    yy += w * w;
  }
  if (!(ff > 1e-300) || !(yy > 0)) return { c: 0, d: ym, r2: 0 };
  const c = fy / ff;
  return { c, d: ym - c * fm, r2: Math.min(1, (fy * fy) / (ff * yy)) };
}

/** R² of the sweep's subsample at `(a, b)`: -1 where `f` is not finite. */
function sweepScore(f: SymbolicFunction, curve: Curve, a: number, b: number, buffer: Float64Array): number {
  const { sx, sy, syy } = curve;
  const m = sx.length;
  let fm = 0;
  for (let k = 0; k < m; k++) {
    const v = f.value(a * sx[k] + b);
    buffer[k] = v;
    fm += v;
  }
  if (!Number.isFinite(fm)) return -1;
  fm /= m;
  let ff = 0, fy = 0;
  for (let k = 0; k < m; k++) {
    const v = buffer[k] - fm;
    ff += v * v;
    fy += v * sy[k];
  }
  if (!(ff > 1e-300) || !Number.isFinite(ff)) return 0;
  return (fy * fy) / (ff * syy);
}

/** The best local maxima of the sweep grid, best first. */
function sweep(
  f: SymbolicFunction,
  curve: Curve,
  aRange: [number, number],
  bRange: [number, number],
  g: number,
): { a: number; b: number }[] {
  const as = Array.from({ length: g }, (_, i) => aRange[0] + (aRange[1] - aRange[0]) * i / (g - 1));
  const bs = Array.from({ length: g }, (_, j) => bRange[0] + (bRange[1] - bRange[0]) * j / (g - 1));
  const score = new Float64Array(g * g);
  const buffer = new Float64Array(curve.sx.length);
  for (let i = 0; i < g; i++) {
    for (let j = 0; j < g; j++) score[i * g + j] = sweepScore(f, curve, as[i], bs[j], buffer);
  }
  const peaks: number[] = [];
  for (let i = 0; i < g; i++) {
    for (let j = 0; j < g; j++) {
      const s = score[i * g + j];
      if (!(s > 0)) continue;
      let peak = true;
      for (let di = -1; di <= 1 && peak; di++) {
        for (let dj = -1; dj <= 1; dj++) {
          const p = i + di, q = j + dj;
          if ((di || dj) && p >= 0 && p < g && q >= 0 && q < g && score[p * g + q] > s) {
            peak = false;
            break;
          }
        }
      }
      if (peak) peaks.push(i * g + j);
    }
  }
  peaks.sort((p, q) => score[q] - score[p]);
  const chosen = peaks.slice(0, CANDIDATES);
  if (chosen.length === 0) return [{ a: as[Math.floor(g / 2)], b: bs[Math.floor(g / 2)] }];
  const points = chosen.map((id) => ({ a: as[Math.floor(id / g)], b: bs[id % g] }));
  // Zoom on the best point twice, as pykan does (there over the whole grid at each level): it helps
  // where the admissible (a, b) form a thin region, e.g. arcsin's |a·x + b| <= 1.
  let best = points[0], bestScore = score[chosen[0]];
  let da = (aRange[1] - aRange[0]) / (g - 1), db = (bRange[1] - bRange[0]) / (g - 1);
  for (let level = 0; level < 2; level++) {
    const center = best;
    for (let i = -ZOOM; i <= ZOOM; i++) {
      for (let j = -ZOOM; j <= ZOOM; j++) {
        const a = center.a + i * da / ZOOM, b = center.b + j * db / ZOOM;
        if (a < aRange[0] || a > aRange[1] || b < bRange[0] || b > bRange[1]) continue;
        const s = sweepScore(f, curve, a, b, buffer);
        if (s > bestScore) [best, bestScore] = [{ a, b }, s];
      }
    }
    da /= ZOOM;
    db /= ZOOM;
  }
  return [best, ...points];
}

/** Solves the 4×4 system `m·x = v` in place (Gaussian elimination with pivoting); false when singular. */
function solve4(m: Float64Array, v: Float64Array): boolean {
  for (let col = 0; col < 4; col++) {
    let pivot = col;
    for (let r = col + 1; r < 4; r++) if (Math.abs(m[r * 4 + col]) > Math.abs(m[pivot * 4 + col])) pivot = r;
    if (!(Math.abs(m[pivot * 4 + col]) > 1e-300)) return false;
    if (pivot !== col) {
      for (let c = 0; c < 4; c++) [m[col * 4 + c], m[pivot * 4 + c]] = [m[pivot * 4 + c], m[col * 4 + c]];
      [v[col], v[pivot]] = [v[pivot], v[col]];
    }
    for (let r = col + 1; r < 4; r++) {
      const factor = m[r * 4 + col] / m[col * 4 + col];
      for (let c = col; c < 4; c++) m[r * 4 + c] -= factor * m[col * 4 + c];
      v[r] -= factor * v[col];
    }
  }
  for (let r = 3; r >= 0; r--) {
    let s = v[r];
    for (let c = r + 1; c < 4; c++) s -= m[r * 4 + c] * v[c];
    v[r] = s / m[r * 4 + r];
  }
  return v.every(Number.isFinite);
}

function sse(f: SymbolicFunction, xs: Float64Array, ys: Float64Array, p: readonly number[]): number {
  let s = 0;
  for (let k = 0; k < xs.length; k++) s += (ys[k] - (p[2] * f.value(p[0] * xs[k] + p[1]) + p[3])) ** 2;
  return Number.isFinite(s) ? s : Infinity;
}

/**
 * Levenberg–Marquardt over (a, b, c, d) on the samples `xs, ys` from `start`
 * (with the least-squares c, d there), a and b clamped to their ranges, for at
 * most `iterations` steps.
 */
function levenbergMarquardt(
  f: SymbolicFunction,
  xs: Float64Array,
  ys: Float64Array,
  start: { a: number; b: number },
  aRange: [number, number],
  bRange: [number, number],
  iterations: number,
): { a: number; b: number } {
  const first = line(f, xs, ys, start.a, start.b);
  if (first.r2 < 0) return start;
  let p = [start.a, start.b, first.c, first.d];
  let cost = sse(f, xs, ys, p);
  let lambda = 1e-3;
  const jtj = new Float64Array(16),
    jtr = new Float64Array(4),
    m = new Float64Array(16),
    v = new Float64Array(4);
  const row = new Float64Array(4);
  for (let iteration = 0; iteration < iterations && cost > 0; iteration++) {
    jtj.fill(0);
    jtr.fill(0);
    for (let k = 0; k < xs.length; k++) {
      const u = p[0] * xs[k] + p[1];
      const value = f.value(u), slope = p[2] * f.derivative(u);
      row[0] = slope * xs[k];
      row[1] = slope;
      row[2] = value;
      row[3] = 1;
      const r = ys[k] - (p[2] * value + p[3]);
      for (let s = 0; s < 4; s++) {
        jtr[s] += row[s] * r;
        for (let t = s; t < 4; t++) jtj[s * 4 + t] += row[s] * row[t];
      }
    }
    for (let s = 0; s < 4; s++) for (let t = 0; t < s; t++) jtj[s * 4 + t] = jtj[t * 4 + s];
    if (!jtj.every(Number.isFinite)) break;
    let improved = false;
    for (let tries = 0; tries < 12; tries++) {
      m.set(jtj);
      v.set(jtr);
      for (let s = 0; s < 4; s++) m[s * 5] += lambda * jtj[s * 5] + 1e-12 * (jtj[s * 5] + 1e-300);
      if (solve4(m, v)) {
        const next = [
          Math.min(aRange[1], Math.max(aRange[0], p[0] + v[0])),
          Math.min(bRange[1], Math.max(bRange[0], p[1] + v[1])),
          p[2] + v[2],
          p[3] + v[3],
        ];
        const nextCost = sse(f, xs, ys, next);
        if (nextCost < cost) {
          improved = (cost - nextCost) / cost > 1e-12;
          p = next;
          cost = nextCost;
          lambda = Math.max(lambda / 3, 1e-12);
          break;
        }
      }
      lambda *= 8;
    }
    if (!improved) break;
  }
  return { a: p[0], b: p[1] };
}

/** Refines a sweep point: LM on the sweep's subsample, then a few LM steps on all samples. */
function refine(
  f: SymbolicFunction,
  curve: Curve,
  start: { a: number; b: number },
  aRange: [number, number],
  bRange: [number, number],
): { a: number; b: number } {
  const coarse = levenbergMarquardt(f, curve.sx, curve.sy, start, aRange, bRange, 40);
  return levenbergMarquardt(f, curve.xs, curve.ys, coarse, aRange, bRange, 6);
}

/**
 * `sgn` has no slope to follow: its best fit is the best two-level step, found exactly over every split
 * between consecutive distinct x (prefix sums), placed at `a = 1` (or the range's end nearest 1).
 */
function bestStep(
  f: SymbolicFunction,
  curve: Curve,
  aRange: [number, number],
  bRange: [number, number],
): SymbolFit | undefined {
  const { xs, ys } = curve;
  const n = xs.length;
  const order = Array.from({ length: n }, (_, k) => k).sort((p, q) => xs[p] - xs[q]);
  let total = 0;
  for (let k = 0; k < n; k++) total += ys[k];
  let left = 0, bestGain = -1, split = NaN;
  for (let i = 0; i < n - 1; i++) {
    left += ys[order[i]];
    const x0 = xs[order[i]], x1 = xs[order[i + 1]];
    if (x0 === x1) continue;
    // The SSE of a two-level fit is Σy² − (L²/nL + R²/nR): maximise the second term.
    const gain = left * left / (i + 1) + (total - left) ** 2 / (n - i - 1);
    if (gain > bestGain) [bestGain, split] = [gain, (x0 + x1) / 2];
  }
  if (Number.isNaN(split)) return undefined;
  const a = Math.min(aRange[1], Math.max(aRange[0], 1));
  const b = -a * split;
  if (a === 0 || b < bRange[0] || b > bRange[1]) return undefined;
  return { name: f.name, a, b, ...line(f, xs, ys, a, b) };
}

function fitCurve(
  f: SymbolicFunction,
  curve: Curve,
  aRange: [number, number],
  bRange: [number, number],
  gridNumber: number,
): SymbolFit {
  const { xs, ys } = curve;
  if (f.name === "0" || curve.flat) {
    return { name: f.name, a: 1, b: 0, c: 0, d: curve.mean, r2: 0 };
  }
  if (f.name === "x") return { name: f.name, a: 1, b: 0, ...line(f, xs, ys, 1, 0) };
  let best: SymbolFit | undefined = f.name === "sgn" ? bestStep(f, curve, aRange, bRange) : undefined;
  for (const start of sweep(f, curve, aRange, bRange, gridNumber)) {
    for (const point of [refine(f, curve, start, aRange, bRange), start]) {
      const fit = line(f, xs, ys, point.a, point.b);
      if (best === undefined || fit.r2 > best.r2) best = { name: f.name, a: point.a, b: point.b, ...fit };
    }
  }
  // Every candidate was non-finite at some sample: the function cannot describe the curve.
  if (best === undefined || best.r2 < 0) return { name: f.name, a: 1, b: 0, c: 0, d: curve.mean, r2: 0 };
  // An odd or even function reads better with a > 0: f(-u) = ±f(u) moves the sign into c (same curve).
  const symmetric = -best.a >= aRange[0] && -best.b >= bRange[0] && -best.b <= bRange[1];
  if (best.a < 0 && symmetric && f.parity !== undefined) {
    return { ...best, a: -best.a, b: -best.b, c: f.parity === "odd" ? -best.c : best.c };
  }
  return best;
}

function sweepOptions(owner: string, options: FitSymbolOptions) {
  return {
    aRange: checkRange(owner, "aRange", options.aRange ?? [-10, 10]),
    bRange: checkRange(owner, "bRange", options.bRange ?? [-10, 10]),
    gridNumber: checkInteger(owner, "gridNumber", options.gridNumber ?? 41, 3, 1001),
  };
}

/**
 * Fits `ys ≈ c·f(a·xs + b) + d` for the library function `name` (see the
 * module doc for how). Non-finite samples, arrays of different lengths or
 * fewer than 2 samples, and names outside the library are `KanError`s.
 *
 * @example
 * ```ts
 * import { fitSymbol } from "./fit_symbol.ts";
 * const xs = Array.from({ length: 200 }, (_, k) => -1 + 2 * k / 199);
 * const ys = xs.map((x) => 2 * Math.sin(3 * x - 1) + 0.5);
 * const fit = fitSymbol(xs, ys, "sin");
 * console.log(fit.r2 > 0.9999, fit); // true, a = ±3, b, c = ±2, d = 0.5
 * ```
 */
export function fitSymbol(
  xs: ArrayLike<number>,
  ys: ArrayLike<number>,
  name: string,
  options: FitSymbolOptions = {},
): SymbolFit {
  const owner = "fitSymbol";
  const f = symbolicFunction(name, owner);
  const { aRange, bRange, gridNumber } = sweepOptions(
    owner,
    checkOptionNames(owner, options, ["aRange", "bRange", "gridNumber"]),
  );
  const samples = checkSamples(owner, xs, ys);
  return fitCurve(f, prepare(samples.xs, samples.ys), aRange, bRange, gridNumber);
}

/**
 * Fits every function of the library (or of `lib`) to the curve and ranks
 * them as pykan's `suggest_symbolic`: score `weightSimple·complexity + (1 −
 * weightSimple)·log2(1 + 1e-5 − r2)`, lower first; returns the best `topK`.
 *
 * @example
 * ```ts
 * import { suggestSymbols } from "./fit_symbol.ts";
 * const xs = Array.from({ length: 101 }, (_, k) => -1 + k / 50);
 * const best = suggestSymbols(xs, xs.map((x) => 3 * x * x - 1), { topK: 3 });
 * console.log(best.map((s) => `${s.name} r2=${s.r2.toFixed(6)}`)); // x^2 first
 * ```
 */
export function suggestSymbols(
  xs: ArrayLike<number>,
  ys: ArrayLike<number>,
  options: SuggestSymbolsOptions = {},
): SymbolSuggestion[] {
  const owner = "suggestSymbols";
  const o = checkOptionNames(owner, options, [
    "aRange",
    "bRange",
    "gridNumber",
    "lib",
    "topK",
    "weightSimple",
  ]);
  const { aRange, bRange, gridNumber } = sweepOptions(owner, o);
  const topK = checkInteger(owner, "topK", o.topK ?? 5, 1);
  const weightSimple = o.weightSimple ?? 0.8;
  if (typeof weightSimple !== "number" || !(weightSimple >= 0 && weightSimple <= 1)) {
    throw new KanError(
      `${owner}: weightSimple must be a number in [0, 1], got ${JSON.stringify(weightSimple)}`,
    );
  }
  if (o.lib !== undefined && (!Array.isArray(o.lib) || o.lib.length === 0)) {
    throw new KanError(
      `${owner}: lib must be a non-empty array of function names, got ${JSON.stringify(o.lib)}`,
    );
  }
  const library = o.lib === undefined
    ? SYMBOLIC_LIBRARY
    : [...new Set(o.lib.map((n) => symbolicFunction(n, owner)))];
  const samples = checkSamples(owner, xs, ys);
  const curve = prepare(samples.xs, samples.ys);
  const ranked = library.map((f, order) => {
    const fit = fitCurve(f, curve, aRange, bRange, gridNumber);
    const score = weightSimple * f.complexity + (1 - weightSimple) * Math.log2(1 + 1e-5 - fit.r2);
    return { ...fit, complexity: f.complexity, score, order };
  });
  ranked.sort((p, q) => p.score - q.score || p.order - q.order);
  return ranked.slice(0, topK).map(({ order: _, ...s }) => s);
}
