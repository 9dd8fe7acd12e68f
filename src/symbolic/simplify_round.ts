/**
 * Snapping a formula's constants to simple values, as pykan's `ex_round`
 * does by hand: each number becomes the simplest nearby value among 0, the
 * integers, the fractions `p/q` with `q <= 12` and the multiples `k·pi/q`
 * with `q <= 12`, when the formula's mean squared error on the data stays
 * within `tol` of what it was.
 *
 * @module
 */

import { KanError } from "../errors.ts";
import { checkOptionNames } from "./checks.ts";
import { checkFitData, evaluateExpression } from "./expression.ts";
import { binary, type Expr, mapChildren, negate, num } from "./expr.ts";

/** Options of {@linkcode roundConstants}. */
export interface RoundOptions {
  /** How much the MSE may grow, relative (default 1e-6): a snap is kept when `mse <= mse0·(1 + tol)`. */
  tol?: number;
  /** The largest denominator tried (default 12, at most 1000). */
  maxDenominator?: number;
}

/** What {@linkcode roundConstants} returns. */
export interface RoundResult {
  /** The expression with its snapped constants. */
  readonly expr: Expr;
  /** The mean squared error against the targets before. */
  readonly mseBefore: number;
  /** The mean squared error after (within the bound of {@linkcode roundConstants}, up to rounding). */
  readonly mseAfter: number;
  /** How many constants were snapped. */
  readonly snapped: number;
}

const PI: Expr = { kind: "constant", name: "pi" };

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** `sign·p/q`, `sign·p·pi/q` (p, q > 0 coprime) as an expression. */
function rational(sign: number, p: number, q: number, pi: boolean): Expr {
  let top: Expr = pi ? (p === 1 ? PI : binary("*", num(p), PI)) : num(p);
  if (q !== 1) top = binary("/", top, num(q));
  return sign < 0 ? (top.kind === "number" ? num(-p) : binary("*", num(-1), top)) : top;
}

/** Candidates for `v`, simplest first: 0, an integer, `p/q`, then `k·pi/q`, within 5% of `v`. */
function candidates(v: number, maxDenominator: number): { value: number; expr: Expr }[] {
  const out: { value: number; expr: Expr }[] = [{ value: 0, expr: num(0) }];
  const sign = Math.sign(v), a = Math.abs(v);
  const near = (c: number) => Math.abs(c - a) <= 0.05 * a;
  for (const pi of [false, true]) {
    const unit = pi ? Math.PI : 1;
    for (let q = 1; q <= maxDenominator; q++) {
      const p = Math.round(a * q / unit);
      if (p === 0 || gcd(p, q) !== 1 || !near(p * unit / q)) continue;
      out.push({ value: sign * p * unit / q, expr: rational(sign, p, q, pi) });
    }
  }
  return out;
}

function mse(expr: Expr, rows: ArrayLike<number>, targets: Float64Array, inputs: number): number {
  const y = evaluateExpression(expr, rows, inputs);
  let s = 0;
  for (let r = 0; r < y.length; r++) s += (y[r] - targets[r]) ** 2;
  return s / y.length;
}

function replace(expr: Expr, node: Expr, by: Expr): Expr {
  return expr === node ? by : mapChildren(expr, (c) => replace(c, node, by));
}

/** `expr` without the additive zeros and zero products snapping left (`u + 0` is `u`, `0*u` is 0). */
function dropZeros(expr: Expr): Expr {
  const zero = (e: Expr) => e.kind === "number" && e.value === 0;
  const e = mapChildren(expr, dropZeros);
  if (e.kind !== "binary") return e;
  const { op, left, right } = e;
  if ((op === "+" || op === "-") && zero(right)) return left;
  if (op === "+" && zero(left)) return right;
  if (op === "-" && zero(left)) return negate(right);
  if (op === "*" && (zero(left) || zero(right))) return num(0);
  return e;
}

function numbers(expr: Expr, out: Expr[] = []): Expr[] {
  if (expr.kind === "number") out.push(expr);
  else if (expr.kind === "call" || expr.kind === "negate") numbers(expr.arg, out);
  else if (expr.kind === "binary") numbers(expr.right, numbers(expr.left, out));
  return out;
}

/**
 * Snaps each number of `expr`, left to right, to the first of its
 * candidates (0; the nearest integer; `p/q`, `q = 2..maxDenominator`; then
 * `k·pi/q` the same way; each within 5% of the number) for which the mean
 * squared error against `targets` on `rows` stays at most `mse0·(1 + tol)`,
 * `mse0` the error before any snap (or, when that is 0, at most `tol²`
 * times the mean square of the targets, so that an exact formula may still
 * lose its rounding noise). A number that no candidate keeps stays. Additive
 * zeros and products with a zero left by the snaps go (a product with 0 is 0
 * even where its other factor was not finite).
 *
 * @example
 * ```ts
 * import { formatExpression, parseExpression } from "./expression.ts";
 * import { roundConstants } from "./simplify_round.ts";
 * const rows = Float64Array.from({ length: 50 }, (_, k) => k / 25 - 1);
 * const targets = rows.map((x) => Math.exp(Math.sin(Math.PI * x)) / 3);
 * const fit = parseExpression("0.33333333*exp(sin(3.1415927*x1) + 1e-9)", 1);
 * console.log(formatExpression(roundConstants(fit, rows, targets, 1).expr)); // "1/3*exp(sin(pi*x1))"
 * ```
 */
export function roundConstants(
  expr: Expr,
  rows: ArrayLike<number>,
  targets: ArrayLike<number>,
  inputs: number,
  options?: RoundOptions,
): RoundResult {
  const owner = "roundConstants";
  const { tol = 1e-6, maxDenominator = 12 } = checkOptionNames(owner, options, ["tol", "maxDenominator"]);
  if (typeof tol !== "number" || !(tol >= 0) || !Number.isFinite(tol)) {
    throw new KanError(`${owner}: tol must be a finite number >= 0, got ${tol}`);
  }
  if (!Number.isInteger(maxDenominator) || maxDenominator < 1 || maxDenominator > 1000) {
    throw new KanError(`${owner}: maxDenominator must be an integer in 1..1000, got ${maxDenominator}`);
  }
  const { n, y } = checkFitData(owner, expr, rows, targets, inputs);
  let meanSquare = 0;
  for (let r = 0; r < n; r++) meanSquare += y[r] * y[r] / n;
  const mseBefore = mse(expr, rows, y, inputs);
  if (!Number.isFinite(mseBefore)) {
    throw new KanError(`${owner}: the expression is not finite on every row (MSE ${mseBefore})`);
  }
  const bound = Math.max(mseBefore * (1 + tol), tol * tol * meanSquare);
  let current = expr, snapped = 0;
  for (const node of numbers(expr)) {
    const v = (node as { value: number }).value;
    for (const c of candidates(v, maxDenominator)) {
      if (c.value === v && c.expr.kind === "number") break; // already simple
      const trial = replace(current, node, c.expr);
      const e = mse(trial, rows, y, inputs);
      if (e <= bound) {
        current = trial;
        snapped++;
        break;
      }
    }
  }
  const cleaned = dropZeros(current);
  return {
    expr: cleaned,
    mseBefore,
    mseAfter: snapped === 0 ? mseBefore : mse(cleaned, rows, y, inputs),
    snapped,
  };
}
