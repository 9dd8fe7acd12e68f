/**
 * The easy simplifications of a composed formula, without computer algebra.
 * Every rewrite is exact up to rounding, except the dropping of negligible
 * constants (below):
 *
 * - constants fold (`pi` and `e` included); sums and constant multiples merge
 *   into one affine form per sum (`c1·(c2·x + d2) + d1` becomes `c·x + d`,
 *   equal terms add up); `0·u`, `u + 0`, `1·u`, `u^1` and `u^0` go;
 * - negligible constants go: an additive constant at most 1e-9 times the
 *   largest coefficient of the sum it is in ({@linkcode NEGLIGIBLE}; `sin(-3.142*x1
 *   - 7e-18)` is `sin(-3.142*x1)` before the next rule);
 * - constant factors leave products and quotients, and powers: `(a·u)^n` is
 *   `a^n·u^n` for an integer `n` (any `a`) and for a real `n` when `a > 0`,
 *   `sqrt(a·u)` is `sqrt(a)·sqrt(u)` when `a > 0`; `(a·u + b)^n` stays;
 * - constant shifts leave `exp`: `c·exp(u + d)` is `(c·e^d)·exp(u)`, and
 *   `exp` of logs with integer coefficients is a product: `exp(log(a·x1) -
 *   log(b·x2) + d)` is `(e^d·a/b)·x1/x2` (equal where the logs are defined);
 * - periodicity: the constant of a `sin`, `cos` or `tan` argument is brought
 *   into (-π, π] by whole periods, and a shift of exactly ±π (within 1e-9)
 *   leaves `sin` and `cos` with their sign changed: `sin(u - 3π)` is
 *   `-sin(u)`, `cos(2x + 7)` is `cos(2x + 0.7168)`;
 * - symmetry: the argument of an odd function (`sin`, `tan`, `tanh`,
 *   `arctan`, `arcsin`, `arctanh`, `sgn`, odd integer powers, `1/u` and the
 *   reciprocals of odd powers) or an even one (`cos`, `abs`, `gaussian`, even
 *   integer powers and their reciprocals) is made to lead with a positive
 *   coefficient, the sign pulled out: `sin(-2*x1 + 1)` is `-sin(2*x1 - 1)`,
 *   `cos(-x1)` is `cos(x1)`, `1/(1 - x1)` is `-1/(x1 - 1)`. The leading term
 *   of a sum is the one whose atom's text sorts first (`x1` before `x2`,
 *   so `sin(x2 - x1)` is `-sin(x1 - x2)`); it is printed first.
 *
 * A function of an affine argument otherwise stays `f(a·x + b)`.
 *
 * @module
 */

import { binary, call, type Expr, num } from "./expr.ts";
import { UNARY_FUNCTIONS } from "./functions.ts";
import {
  add,
  type Affine,
  atomForm,
  closeForm,
  constantForm,
  constantOf,
  factor,
  leadingCoefficient,
  leadingFirst,
  scale,
  signedFactor,
  toExpr,
} from "./simplify_affine.ts";

export { NEGLIGIBLE } from "./simplify_affine.ts";

const ODD_CALLS: ReadonlySet<string> = new Set(["sin", "tan", "tanh", "arctan", "arcsin", "arctanh", "sgn"]);
const EVEN_CALLS: ReadonlySet<string> = new Set(["cos", "abs", "gaussian"]);
const PERIODIC_CALLS: ReadonlySet<string> = new Set(["sin", "cos", "tan"]);

/** `e^d` within these bounds may leave `exp(u + d)` without over- or underflowing. */
const EXP_SHIFT_LIMIT = 600;

function product(p: Affine, q: Affine): Affine {
  const kp = constantOf(p), kq = constantOf(q);
  if (kp !== undefined) return scale(q, kp);
  if (kq !== undefined) return scale(p, kq);
  const fp = factor(p), fq = factor(q);
  return atomForm(binary("*", fp.atom, fq.atom), fp.coef * fq.coef);
}

function quotient(p: Affine, q: Affine): Affine {
  const kq = constantOf(q);
  if (kq !== undefined && kq !== 0) return scale(p, 1 / kq);
  if (kq !== undefined) return atomForm(binary("/", toExpr(p), num(0)));
  const kp = constantOf(p);
  const fq = signedFactor(q);
  if (kp !== undefined) {
    return kp === 0 ? constantForm(0) : atomForm(binary("/", num(1), fq.atom), kp / fq.coef);
  }
  const fp = factor(p);
  return atomForm(binary("/", fp.atom, fq.atom), fp.coef / fq.coef);
}

function power(p: Affine, q: Affine): Affine {
  const kp = constantOf(p), kq = constantOf(q);
  if (kp !== undefined && kq !== undefined) return constantForm(Math.pow(kp, kq));
  if (kq === 1) return p;
  if (kq === 0) return constantForm(1);
  const exponent = toExpr(q);
  if (kq !== undefined) {
    const integer = Number.isInteger(kq);
    const fp = integer ? signedFactor(p) : factor(p);
    if (fp.coef !== 1 && (integer || fp.coef > 0)) {
      return atomForm(binary("^", fp.atom, exponent), Math.pow(fp.coef, kq));
    }
  }
  return atomForm(binary("^", toExpr(p), exponent));
}

/**
 * `exp(d + Σ n_i·log(u_i))` as `e^d · Π u_i^n_i` when every term is a log
 * with an integer coefficient (`exp(log(a·x1) - log(b·x2))` is `(a/b)·x1/x2`),
 * else undefined.
 */
function logProduct(arg: Affine): Affine | undefined {
  if (arg.terms.size === 0 || Math.abs(arg.constant) > EXP_SHIFT_LIMIT) return undefined;
  const parts = [...arg.terms.values()];
  if (!parts.every((t) => t.atom.kind === "call" && t.atom.name === "log" && Number.isInteger(t.coef))) {
    return undefined;
  }
  let up = constantForm(Math.exp(arg.constant));
  let down = constantForm(1);
  for (const { atom, coef } of parts) {
    const inner = affine((atom as Extract<Expr, { kind: "call" }>).arg);
    const raised = power(inner, constantForm(Math.abs(coef)));
    if (coef > 0) up = product(up, raised);
    else down = product(down, raised);
  }
  return constantOf(down) === 1 ? up : quotient(up, down);
}

function callForm(name: string, form: Affine): Affine {
  const k = constantOf(form);
  if (k !== undefined) return constantForm(UNARY_FUNCTIONS[name].value(k));
  let arg = closeForm(form);
  if (name === "exp") {
    const logs = logProduct(arg);
    if (logs) return logs;
  }
  if (name === "exp" && arg.constant !== 0 && Math.abs(arg.constant) <= EXP_SHIFT_LIMIT) {
    return atomForm(call("exp", toExpr({ constant: 0, terms: arg.terms })), Math.exp(arg.constant));
  }
  if (name === "sqrt") {
    const f = factor(arg);
    if (f.coef > 0 && f.coef !== 1) return atomForm(call("sqrt", f.atom), Math.sqrt(f.coef));
  }
  let sign = 1;
  // Periodicity: the constant comes into (-π, π] by whole periods (2π; π for tan), and a shift of ±π
  // that is left out of sin or cos leaves its sign (`sin(u - 3π)` is `-sin(u)`).
  if (PERIODIC_CALLS.has(name) && arg.terms.size > 0) {
    const period = name === "tan" ? Math.PI : 2 * Math.PI;
    let shift = Math.round(arg.constant / period) * period;
    const rest = arg.constant - shift;
    if (name !== "tan" && Math.abs(Math.abs(rest) - Math.PI) <= 1e-9 * Math.PI) {
      shift += Math.sign(rest) * Math.PI;
      sign = -1;
    }
    if (shift !== 0) arg = closeForm(add(arg, constantForm(-shift)));
  }
  if (ODD_CALLS.has(name) || EVEN_CALLS.has(name)) {
    arg = leadingFirst(arg);
    if (leadingCoefficient(arg) < 0) {
      arg = scale(arg, -1);
      if (ODD_CALLS.has(name)) sign = -sign;
    }
  }
  return atomForm(call(name, toExpr(arg)), sign);
}

function affine(e: Expr): Affine {
  switch (e.kind) {
    case "number":
      return constantForm(e.value);
    case "constant":
      return constantForm(e.name === "pi" ? Math.PI : Math.E);
    case "variable":
      return atomForm(e);
    case "negate":
      return scale(affine(e.arg), -1);
    case "call":
      return callForm(e.name, affine(e.arg));
    case "binary": {
      const p = affine(e.left), q = affine(e.right);
      switch (e.op) {
        case "+":
          return add(p, q);
        case "-":
          return add(p, scale(q, -1));
        case "*":
          return product(p, q);
        case "/":
          return quotient(p, q);
        case "^":
          return power(p, q);
      }
    }
  }
}

/**
 * Simplifies an expression as the module doc says. Where the original is
 * finite, the result's value differs from it by rounding (a few units in the
 * last place per rewrite) plus at most {@linkcode NEGLIGIBLE} times the largest
 * term of each sum whose constant was dropped; a term multiplied by 0 is
 * dropped even where it was not finite. Simplifying twice gives the same
 * expression as simplifying once.
 *
 * @example
 * ```ts
 * import { formatExpression, parseExpression } from "./expression.ts";
 * import { simplifyExpression } from "./simplify.ts";
 * const e = parseExpression("2*(3*(0.5*x1 + 1) - 1) + 0*x2 + sin(2*(x2 + 1))^1", 2);
 * console.log(formatExpression(simplifyExpression(e))); // "3*x1 + sin(2*x2 + 2) + 4"
 * const k = parseExpression("1.087e4*exp(-sin(-pi*x1 - 7e-18) + (-8.5*x2)^2/72.25 - 9.2937) - 7e-17", 2);
 * console.log(formatExpression(simplifyExpression(k))); // "exp(sin(3.142*x1) + x2^2)"
 * ```
 */
export function simplifyExpression(expr: Expr): Expr {
  return toExpr(affine(expr));
}
