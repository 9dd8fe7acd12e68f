/**
 * The easy simplifications of a composed formula, without computer algebra:
 * constants fold (`pi` and `e` included), sums and constant multiples merge
 * into one affine form per sum (`c1·(c2·x + d2) + d1` becomes `c·x + d`, and
 * equal terms add up), `0·u`, `u + 0`, `1·u`, `u^1` and `u^0` go, constant
 * factors leave products, quotients and integer powers (`(2·u)^2` is
 * `4·u^2`). A function of an affine argument stays `f(a·x + b)`.
 *
 * @module
 */

import { binary, call, type Expr, negate, num } from "./expr.ts";
import { formatExpression } from "./format_expression.ts";
import { UNARY_FUNCTIONS } from "./functions.ts";

interface Term {
  readonly atom: Expr;
  coef: number;
}

/** `constant + Σ coef·atom`, with terms keyed by their atom's full-precision text. */
interface Affine {
  constant: number;
  terms: Map<string, Term>;
}

const constantForm = (constant: number): Affine => ({ constant, terms: new Map() });

function atomForm(atom: Expr, coef = 1): Affine {
  if (coef === 0) return constantForm(0);
  return { constant: 0, terms: new Map([[formatExpression(atom, 17), { atom, coef }]]) };
}

function scale(form: Affine, k: number): Affine {
  if (k === 0) return constantForm(0);
  const terms = new Map<string, Term>();
  for (const [key, t] of form.terms) terms.set(key, { atom: t.atom, coef: t.coef * k });
  return { constant: form.constant * k, terms };
}

function add(p: Affine, q: Affine): Affine {
  const terms = new Map<string, Term>();
  for (const [key, t] of p.terms) terms.set(key, { atom: t.atom, coef: t.coef });
  for (const [key, t] of q.terms) {
    const mine = terms.get(key);
    if (mine === undefined) terms.set(key, { atom: t.atom, coef: t.coef });
    else mine.coef += t.coef;
  }
  for (const [key, t] of terms) if (t.coef === 0) terms.delete(key);
  return { constant: p.constant + q.constant, terms };
}

const isConstantForm = (f: Affine) => f.terms.size === 0;

/** `coef·atom` when the form is one term without constant, else `1·(the form)`. */
function factor(form: Affine): { coef: number; atom: Expr } {
  if (form.constant === 0 && form.terms.size === 1) {
    const [t] = form.terms.values();
    return { coef: t.coef, atom: t.atom };
  }
  return { coef: 1, atom: toExpr(form) };
}

const isReciprocal = (e: Expr): e is Expr & { kind: "binary" } =>
  e.kind === "binary" && e.op === "/" && e.left.kind === "number" && e.left.value === 1;

function termExpr(t: Term): Expr {
  if (t.coef === 1) return t.atom;
  if (t.coef === -1) return negate(t.atom);
  if (isReciprocal(t.atom)) return binary("/", num(t.coef), t.atom.right);
  return binary("*", num(t.coef), t.atom);
}

function toExpr(form: Affine): Expr {
  let out: Expr | undefined;
  for (const t of form.terms.values()) {
    const e = termExpr(t);
    out = out === undefined ? e : binary("+", out, e);
  }
  if (out === undefined) return num(form.constant);
  return form.constant === 0 ? out : binary("+", out, num(form.constant));
}

function constantOf(form: Affine): number | undefined {
  return isConstantForm(form) ? form.constant : undefined;
}

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
  const fq = factor(q);
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
    const fp = factor(p);
    if (fp.coef !== 1 && (Number.isInteger(kq) || fp.coef > 0)) {
      return atomForm(binary("^", fp.atom, exponent), Math.pow(fp.coef, kq));
    }
  }
  return atomForm(binary("^", toExpr(p), exponent));
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
    case "call": {
      const arg = affine(e.arg);
      const k = constantOf(arg);
      if (k !== undefined) return constantForm(UNARY_FUNCTIONS[e.name].value(k));
      return atomForm(call(e.name, toExpr(arg)));
    }
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
 * Simplifies an expression as the module doc says; the result evaluates to
 * the same values up to rounding (a term multiplied by 0 is dropped even
 * where it was not finite).
 *
 * @example
 * ```ts
 * import { formatExpression, parseExpression } from "./expression.ts";
 * import { simplifyExpression } from "./simplify.ts";
 * const e = parseExpression("2*(3*(0.5*x1 + 1) - 1) + 0*x2 + sin(2*(x2 + 1))^1", 2);
 * console.log(formatExpression(simplifyExpression(e))); // "3*x1 + sin(2*x2 + 2) + 4"
 * ```
 */
export function simplifyExpression(expr: Expr): Expr {
  return toExpr(affine(expr));
}
