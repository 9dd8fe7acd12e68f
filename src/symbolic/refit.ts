/**
 * Refitting the numeric constants of a formula to data: Levenberg–Marquardt
 * in float64 with the Jacobian by reverse-mode differentiation of the tree
 * (exact, one backward pass for all rows). This is the last step of the KAN
 * paper's workflow: the snapped formula's constants come from per-edge fits,
 * and refitting them together recovers `pi` and the exact coefficients.
 *
 * @module
 */

import { KanError } from "../errors.ts";
import { checkInteger, checkOptionNames } from "./checks.ts";
import { checkFitData, CONSTANTS } from "./expression.ts";
import { type Expr, mapChildren, num } from "./expr.ts";
import { UNARY_FUNCTIONS } from "./functions.ts";

/** Options of {@linkcode refitConstants}. */
export interface RefitOptions {
  /** The most Levenberg–Marquardt steps (default 100). */
  steps?: number;
  /** Whether exponents (the `2` of `x1^2`) are refit too (default false: they stay as written). */
  exponents?: boolean;
}

/** What {@linkcode refitConstants} returns. */
export interface RefitResult {
  /** The expression with its refit constants. */
  readonly expr: Expr;
  /** The mean squared error against the targets before the refit. */
  readonly mseBefore: number;
  /** The mean squared error after it (never above `mseBefore`). */
  readonly mseAfter: number;
  /** The number of accepted steps. */
  readonly steps: number;
  /** How many constants were refit. */
  readonly parameters: number;
}

/** Numbers to refit, each with its index. */
function collect(expr: Expr, exponents: boolean): Map<Expr, number> {
  const ids = new Map<Expr, number>();
  const walk = (e: Expr, inExponent: boolean) => {
    switch (e.kind) {
      case "number":
        if ((!inExponent || exponents) && !ids.has(e)) ids.set(e, ids.size);
        return;
      case "constant":
      case "variable":
        return;
      case "call":
      case "negate":
        return walk(e.arg, inExponent);
      case "binary":
        walk(e.left, inExponent);
        walk(e.right, inExponent || e.op === "^");
    }
  };
  walk(expr, false);
  return ids;
}

function substitute(expr: Expr, ids: Map<Expr, number>, values: Float64Array): Expr {
  const walk = (e: Expr): Expr => {
    const id = e.kind === "number" ? ids.get(e) : undefined;
    return id !== undefined ? num(values[id]) : mapChildren(e, walk);
  };
  return walk(expr);
}

/** Values at every row and, when `jacobian` is given, `∂value/∂constant` into it (`[n, P]`). */
function evaluate(
  expr: Expr,
  columns: Float64Array[],
  n: number,
  ids: Map<Expr, number>,
  values: Float64Array,
  jacobian?: Float64Array,
): Float64Array {
  const cache = new Map<Expr, Float64Array>();
  const hasParameter = new Map<Expr, boolean>();
  const forward = (e: Expr): Float64Array => {
    const known = cache.get(e);
    if (known !== undefined) return known;
    let out: Float64Array;
    let withParameter = false;
    switch (e.kind) {
      case "number": {
        const id = ids.get(e);
        withParameter = id !== undefined;
        out = new Float64Array(n).fill(id === undefined ? e.value : values[id]);
        break;
      }
      case "constant":
        out = new Float64Array(n).fill(CONSTANTS[e.name]);
        break;
      case "variable":
        out = columns[e.index];
        break;
      case "negate":
      case "call": {
        const x = forward(e.arg);
        withParameter = hasParameter.get(e.arg)!;
        const f = e.kind === "call" ? UNARY_FUNCTIONS[e.name].value : (v: number) => -v;
        out = new Float64Array(n);
        for (let r = 0; r < n; r++) out[r] = f(x[r]);
        break;
      }
      case "binary": {
        const x = forward(e.left), y = forward(e.right);
        withParameter = hasParameter.get(e.left)! || hasParameter.get(e.right)!;
        out = new Float64Array(n);
        for (let r = 0; r < n; r++) {
          const p = x[r], q = y[r];
          out[r] = e.op === "+"
            ? p + q
            : e.op === "-"
            ? p - q
            : e.op === "*"
            ? p * q
            : e.op === "/"
            ? p / q
            : p ** q;
        }
      }
    }
    cache.set(e, out);
    hasParameter.set(e, withParameter);
    return out;
  };
  const result = forward(expr);
  if (jacobian === undefined) return result;
  const P = ids.size;
  jacobian.fill(0);
  const backward = (e: Expr, adjoint: Float64Array) => {
    if (!hasParameter.get(e)) return;
    const scaled = (g: (r: number) => number) => {
      const out = new Float64Array(n);
      for (let r = 0; r < n; r++) out[r] = adjoint[r] * g(r);
      return out;
    };
    switch (e.kind) {
      case "number": {
        const id = ids.get(e)!;
        for (let r = 0; r < n; r++) jacobian[r * P + id] += adjoint[r];
        return;
      }
      case "negate":
        return backward(e.arg, scaled(() => -1));
      case "call": {
        const x = cache.get(e.arg)!, df = UNARY_FUNCTIONS[e.name].derivative;
        return backward(e.arg, scaled((r) => df(x[r])));
      }
      case "binary": {
        const x = cache.get(e.left)!, y = cache.get(e.right)!;
        switch (e.op) {
          case "+":
            backward(e.left, adjoint);
            return backward(e.right, adjoint);
          case "-":
            backward(e.left, adjoint);
            return backward(e.right, scaled(() => -1));
          case "*":
            backward(e.left, scaled((r) => y[r]));
            return backward(e.right, scaled((r) => x[r]));
          case "/":
            backward(e.left, scaled((r) => 1 / y[r]));
            return backward(e.right, scaled((r) => -x[r] / (y[r] * y[r])));
          case "^":
            backward(e.left, scaled((r) => (y[r] === 0 ? 0 : y[r] * x[r] ** (y[r] - 1))));
            return backward(e.right, scaled((r) => x[r] ** y[r] * Math.log(x[r])));
        }
      }
    }
  };
  backward(expr, new Float64Array(n).fill(1));
  return result;
}

function mse(prediction: Float64Array, targets: Float64Array): number {
  let s = 0;
  for (let r = 0; r < targets.length; r++) s += (prediction[r] - targets[r]) ** 2;
  return s / targets.length;
}

/** Solves the symmetric positive definite system `m·x = v` by Cholesky, in place in `v`; false when not SPD. */
function choleskySolve(m: Float64Array, v: Float64Array, P: number): boolean {
  for (let j = 0; j < P; j++) {
    let s = m[j * P + j];
    for (let k = 0; k < j; k++) s -= m[j * P + k] ** 2;
    if (!(s > 0)) return false;
    m[j * P + j] = Math.sqrt(s);
    for (let i = j + 1; i < P; i++) {
      let t = m[i * P + j];
      for (let k = 0; k < j; k++) t -= m[i * P + k] * m[j * P + k];
      m[i * P + j] = t / m[j * P + j];
    }
  }
  for (let i = 0; i < P; i++) {
    let s = v[i];
    for (let k = 0; k < i; k++) s -= m[i * P + k] * v[k];
    v[i] = s / m[i * P + i];
  }
  for (let i = P - 1; i >= 0; i--) {
    let s = v[i];
    for (let k = i + 1; k < P; k++) s -= m[k * P + i] * v[k];
    v[i] = s / m[i * P + i];
  }
  return v.every(Number.isFinite);
}

/**
 * Refits every numeric constant of `expr` (exponents only with `exponents:
 * true`; `pi` and `e` stay) to minimise the mean squared error against
 * `targets` on `rows` (row-major, `inputs` per row), by Levenberg–Marquardt.
 * An expression that is not finite on some row at the start is a `KanError`.
 *
 * @example
 * ```ts
 * import { formatExpression, parseExpression } from "./expression.ts";
 * import { refitConstants } from "./refit.ts";
 * const rows = new Float64Array(50).map((_, k) => -1 + k / 25);
 * const targets = rows.map((x) => 3 * Math.sin(2 * x) + 1);
 * const fit = refitConstants(parseExpression("2.5*sin(2.2*x1) + 0.8", 1), rows, targets, 1);
 * console.log(formatExpression(fit.expr), fit.mseAfter < 1e-20); // "3*sin(2*x1) + 1" true
 * ```
 */
export function refitConstants(
  expr: Expr,
  rows: ArrayLike<number>,
  targets: ArrayLike<number>,
  inputs: number,
  options: RefitOptions = {},
): RefitResult {
  const owner = "refitConstants";
  const o = checkOptionNames(owner, options, ["steps", "exponents"]);
  const maxSteps = checkInteger(owner, "steps", o.steps ?? 100, 0);
  const { n, y } = checkFitData(owner, expr, rows, targets, inputs);
  const columns = Array.from({ length: inputs }, (_, i) => {
    const c = new Float64Array(n);
    for (let r = 0; r < n; r++) c[r] = rows[r * inputs + i];
    return c;
  });
  const ids = collect(expr, o.exponents ?? false);
  const P = ids.size;
  let theta = new Float64Array(P);
  for (const [e, id] of ids) theta[id] = (e as { value: number }).value;
  const jacobian = new Float64Array(n * P);
  let prediction = evaluate(expr, columns, n, ids, theta, jacobian);
  const firstBad = prediction.findIndex((v) => !Number.isFinite(v));
  if (firstBad >= 0) {
    throw new KanError(
      `${owner}: the expression is ${prediction[firstBad]} at row ${firstBad}; it must be finite`,
    );
  }
  const mseBefore = mse(prediction, y);
  let cost = mseBefore;
  let lambda = 1e-3;
  let steps = 0;
  const jtj = new Float64Array(P * P), jtr = new Float64Array(P), m = new Float64Array(P * P);
  for (let step = 0; step < maxSteps && P > 0 && cost > 0; step++) {
    jtj.fill(0);
    jtr.fill(0);
    for (let r = 0; r < n; r++) {
      const res = y[r] - prediction[r];
      for (let p = 0; p < P; p++) {
        const jp = jacobian[r * P + p];
        if (jp === 0) continue;
        jtr[p] += jp * res;
        for (let q = 0; q <= p; q++) jtj[p * P + q] += jp * jacobian[r * P + q];
      }
    }
    for (let p = 0; p < P; p++) for (let q = 0; q < p; q++) jtj[q * P + p] = jtj[p * P + q];
    if (!jtj.every(Number.isFinite)) break;
    let accepted = false;
    for (let tries = 0; tries < 20 && !accepted; tries++) {
      m.set(jtj);
      const delta = Float64Array.from(jtr);
      for (let p = 0; p < P; p++) m[p * P + p] += lambda * jtj[p * P + p] + 1e-15 * (jtj[p * P + p] + 1e-300);
      if (choleskySolve(m, delta, P)) {
        const next = theta.map((t, p) => t + delta[p]);
        const nextPrediction = evaluate(expr, columns, n, ids, next);
        const nextCost = mse(nextPrediction, y);
        if (nextCost < cost) {
          const gain = (cost - nextCost) / cost;
          theta = next;
          cost = nextCost;
          prediction = evaluate(expr, columns, n, ids, theta, jacobian);
          lambda = Math.max(lambda / 5, 1e-15);
          steps++;
          accepted = true;
          if (gain < 1e-13) step = maxSteps;
          continue;
        }
      }
      lambda *= 10;
    }
    if (!accepted) break;
  }
  return { expr: substitute(expr, ids, theta), mseBefore, mseAfter: cost, steps, parameters: P };
}
