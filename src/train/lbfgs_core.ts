/**
 * The algorithm of torch.optim.LBFGS (two-loop recursion, optional
 * strong-Wolfe line search with cubic interpolation) in float64, on a flat
 * parameter vector, given a function that evaluates the loss and gradient.
 * The GPU optimizer `LBFGS` drives it; tests drive it on the CPU.
 *
 * @module
 */

/** The loss and gradient at a point. */
export interface Evaluated {
  /** The loss. */
  loss: number;
  /** Its gradient, one entry per parameter. */
  grad: Float64Array;
}

/** torch.optim.LBFGS's options. */
export interface LbfgsSettings {
  /** Step scale (torch: lr, default 1). */
  lr: number;
  /** Iterations per step (default 20). */
  maxIter: number;
  /** Function evaluations per step (default maxIter * 1.25). */
  maxEval: number;
  /** Stop when the largest gradient entry is at most this (default 1e-7). */
  toleranceGrad: number;
  /** Stop when the loss or the step changes less than this (default 1e-9). */
  toleranceChange: number;
  /** Curvature pairs kept (default 10, pykan's). */
  historySize: number;
  /** A curvature pair is kept only when y·s exceeds this (torch: 1e-10; pykan: 1e-32). */
  toleranceYs: number;
  /** `"strong_wolfe"` (pykan's) or `null` (fixed steps). */
  lineSearch: "strong_wolfe" | null;
}

/** What carries over between steps, as torch's optimizer state. */
export interface LbfgsState {
  /** Iterations so far. */
  nIter: number;
  /** Function evaluations so far. */
  funcEvals: number;
  d: Float64Array | null;
  t: number;
  oldDirs: Float64Array[];
  oldStps: Float64Array[];
  ro: number[];
  hDiag: number;
  prevFlatGrad: Float64Array | null;
  prevLoss: number;
}

/** A fresh state. */
export function newLbfgsState(): LbfgsState {
  return {
    nIter: 0,
    funcEvals: 0,
    d: null,
    t: 0,
    oldDirs: [],
    oldStps: [],
    ro: [],
    hDiag: 1,
    prevFlatGrad: null,
    prevLoss: Number.NaN,
  };
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
}

/** x + t * d. */
function step(x: Float64Array, t: number, d: Float64Array): Float64Array {
  return x.map((v, i) => v + t * d[i]);
}

/**
 * torch's `_cubic_interpolate`: the minimizer of the cubic through two points
 * and slopes, within bounds; the bounds' midpoint where there is none or where
 * a loss or slope is not finite.
 */
export function cubicInterpolate(
  x1: number,
  f1: number,
  g1: number,
  x2: number,
  f2: number,
  g2: number,
  bounds?: [number, number],
): number {
  const [lo, hi] = bounds ?? (x1 <= x2 ? [x1, x2] : [x2, x1]);
  const d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2);
  const d2Square = d1 * d1 - g1 * g2;
  if (d2Square >= 0) {
    const d2 = Math.sqrt(d2Square);
    const minPos = x1 <= x2
      ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
      : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
    // Unlike torch, a non-finite trial (a loss that overflowed) bisects instead of giving a NaN step.
    if (Number.isFinite(minPos)) return Math.min(Math.max(minPos, lo), hi);
  }
  return (lo + hi) / 2;
}

/** torch's `_strong_wolfe` line search along `d` from `x` (loss `f`, gradient `g`, slope `gtd`). */
export async function strongWolfe(
  evaluate: (x: Float64Array) => Promise<Evaluated>,
  x: Float64Array,
  t0: number,
  d: Float64Array,
  f: number,
  g: Float64Array,
  gtd: number,
  toleranceChange: number,
  c1 = 1e-4,
  c2 = 0.9,
  maxLs = 25,
): Promise<{ loss: number; grad: Float64Array; t: number; evals: number }> {
  let t = t0;
  const dNorm = maxAbs(d);
  let { loss: fNew, grad: gNew } = await evaluate(step(x, t, d));
  let evals = 1;
  let gtdNew = dot(gNew, d);
  let [tPrev, fPrev, gPrev, gtdPrev] = [0, f, g, gtd];
  let done = false;
  let lsIter = 0;
  let bracket: number[] = [];
  let bracketF: number[] = [];
  let bracketG: Float64Array[] = [];
  let bracketGtd: number[] = [];
  while (lsIter < maxLs) {
    if (fNew > f + c1 * t * gtd || (lsIter > 1 && fNew >= fPrev)) {
      [bracket, bracketF, bracketG, bracketGtd] = [[tPrev, t], [fPrev, fNew], [gPrev, gNew], [
        gtdPrev,
        gtdNew,
      ]];
      break;
    }
    if (Math.abs(gtdNew) <= -c2 * gtd) {
      [bracket, bracketF, bracketG] = [[t], [fNew], [gNew]];
      done = true;
      break;
    }
    if (gtdNew >= 0) {
      [bracket, bracketF, bracketG, bracketGtd] = [[tPrev, t], [fPrev, fNew], [gPrev, gNew], [
        gtdPrev,
        gtdNew,
      ]];
      break;
    }
    const minStep = t + 0.01 * (t - tPrev);
    const maxStep = t * 10;
    const previous = t;
    t = cubicInterpolate(tPrev, fPrev, gtdPrev, t, fNew, gtdNew, [minStep, maxStep]);
    [tPrev, fPrev, gPrev, gtdPrev] = [previous, fNew, gNew, gtdNew];
    ({ loss: fNew, grad: gNew } = await evaluate(step(x, t, d)));
    evals++;
    gtdNew = dot(gNew, d);
    lsIter++;
  }
  if (lsIter === maxLs) [bracket, bracketF, bracketG] = [[0, t], [f, fNew], [g, gNew]];

  let insufficientProgress = false;
  let [low, high] = bracketF[0] <= bracketF[bracketF.length - 1] ? [0, 1] : [1, 0];
  while (!done && lsIter < maxLs) {
    if (Math.abs(bracket[1] - bracket[0]) * dNorm < toleranceChange) break;
    t = cubicInterpolate(bracket[0], bracketF[0], bracketGtd[0], bracket[1], bracketF[1], bracketGtd[1]);
    const bMax = Math.max(...bracket);
    const bMin = Math.min(...bracket);
    const eps = 0.1 * (bMax - bMin);
    if (Math.min(bMax - t, t - bMin) < eps) {
      if (insufficientProgress || t >= bMax || t <= bMin) {
        t = Math.abs(t - bMax) < Math.abs(t - bMin) ? bMax - eps : bMin + eps;
        insufficientProgress = false;
      } else {
        insufficientProgress = true;
      }
    } else {
      insufficientProgress = false;
    }
    ({ loss: fNew, grad: gNew } = await evaluate(step(x, t, d)));
    evals++;
    gtdNew = dot(gNew, d);
    lsIter++;
    if (fNew > f + c1 * t * gtd || fNew >= bracketF[low]) {
      [bracket[high], bracketF[high], bracketG[high], bracketGtd[high]] = [t, fNew, gNew, gtdNew];
      [low, high] = bracketF[0] <= bracketF[1] ? [0, 1] : [1, 0];
    } else {
      if (Math.abs(gtdNew) <= -c2 * gtd) {
        done = true;
      } else if (gtdNew * (bracket[high] - bracket[low]) >= 0) {
        [bracket[high], bracketF[high], bracketG[high], bracketGtd[high]] = [
          bracket[low],
          bracketF[low],
          bracketG[low],
          bracketGtd[low],
        ];
      }
      [bracket[low], bracketF[low], bracketG[low], bracketGtd[low]] = [t, fNew, gNew, gtdNew];
    }
  }
  return { loss: bracketF[low], grad: bracketG[low], t: bracket[low], evals };
}

/**
 * One `optimizer.step(closure)` of torch.optim.LBFGS from `x` (updated in
 * place). `evaluate` computes the loss and gradient at a point. Returns the
 * loss at the starting point, as torch does.
 */
export async function lbfgsStep(
  s: LbfgsSettings,
  state: LbfgsState,
  x: Float64Array,
  evaluate: (x: Float64Array) => Promise<Evaluated>,
): Promise<number> {
  let { loss, grad: flatGrad } = await evaluate(x);
  const origLoss = loss;
  let currentEvals = 1;
  state.funcEvals++;
  if (maxAbs(flatGrad) <= s.toleranceGrad) return origLoss;
  let { d, t, hDiag, prevFlatGrad, prevLoss } = state;
  const { oldDirs, oldStps, ro } = state;
  let nIter = 0;
  while (nIter < s.maxIter) {
    nIter++;
    state.nIter++;
    if (state.nIter === 1 || d === null) {
      d = flatGrad.map((v) => -v);
      oldDirs.length = 0;
      oldStps.length = 0;
      ro.length = 0;
      hDiag = 1;
    } else {
      const y = flatGrad.map((v, i) => v - prevFlatGrad![i]);
      const sv = d.map((v) => v * t);
      const ys = dot(y, sv);
      if (ys > s.toleranceYs) {
        if (oldDirs.length === s.historySize) {
          oldDirs.shift();
          oldStps.shift();
          ro.shift();
        }
        oldDirs.push(y);
        oldStps.push(sv);
        ro.push(1 / ys);
        hDiag = ys / dot(y, y);
      }
      const al = new Array<number>(oldDirs.length);
      const q = flatGrad.map((v) => -v);
      for (let i = oldDirs.length - 1; i >= 0; i--) {
        al[i] = dot(oldStps[i], q) * ro[i];
        for (let k = 0; k < q.length; k++) q[k] -= al[i] * oldDirs[i][k];
      }
      const r = q.map((v) => v * hDiag);
      for (let i = 0; i < oldDirs.length; i++) {
        const be = dot(oldDirs[i], r) * ro[i];
        for (let k = 0; k < r.length; k++) r[k] += (al[i] - be) * oldStps[i][k];
      }
      d = r;
    }
    prevFlatGrad = Float64Array.from(flatGrad);
    prevLoss = loss;
    if (state.nIter === 1) {
      let sum = 0;
      for (const v of flatGrad) sum += Math.abs(v);
      t = Math.min(1, 1 / sum) * s.lr;
    } else {
      t = s.lr;
    }
    const gtd = dot(flatGrad, d);
    if (gtd > -s.toleranceChange) break;
    let lsEvals = 0;
    let optimal = false;
    if (s.lineSearch === "strong_wolfe") {
      const result = await strongWolfe(evaluate, x, t, d, loss, flatGrad, gtd, s.toleranceChange);
      ({ loss, grad: flatGrad, t, evals: lsEvals } = result);
      for (let i = 0; i < x.length; i++) x[i] += t * d[i];
      optimal = maxAbs(flatGrad) <= s.toleranceGrad;
    } else {
      for (let i = 0; i < x.length; i++) x[i] += t * d[i];
      if (nIter !== s.maxIter) {
        ({ loss, grad: flatGrad } = await evaluate(x));
        optimal = maxAbs(flatGrad) <= s.toleranceGrad;
        lsEvals = 1;
      }
    }
    currentEvals += lsEvals;
    state.funcEvals += lsEvals;
    if (nIter === s.maxIter || currentEvals >= s.maxEval || optimal) break;
    if (maxAbs(d) * Math.abs(t) <= s.toleranceChange) break;
    if (Math.abs(loss - prevLoss) < s.toleranceChange) break;
  }
  Object.assign(state, { d, t, hDiag, prevFlatGrad, prevLoss });
  return origLoss;
}
