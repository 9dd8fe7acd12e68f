/**
 * Affine forms, the working representation of {@linkcode simplifyExpression}:
 * a sum `constant + Σ coef·atom` whose atoms are expressions the simplifier
 * does not look into further (an input, a call, a product of sums…), with
 * equal atoms merged by their full-precision text.
 *
 * A form's additive constant is *negligible* when its magnitude is at most
 * {@linkcode NEGLIGIBLE} (1e-9) times the largest `|coef|` of the form's
 * terms: measured against terms whose atoms are of order one (the inputs
 * `x1..xD` the workflow samples on [-1, 1]), it changes the sum by at most
 * 1e-9 of its largest term. {@linkcode closeForm} drops it; a constant alone
 * (a form without terms) is never negligible.
 *
 * @module
 */

import { binary, type Expr, negate, num } from "./expr.ts";
import { formatExpression } from "./format_expression.ts";

/**
 * The relative size under which an additive constant is dropped (see the module doc).
 *
 * @example
 * ```ts
 * import { NEGLIGIBLE } from "./simplify_affine.ts";
 * console.log(NEGLIGIBLE); // 1e-9
 * ```
 */
export const NEGLIGIBLE = 1e-9;

/** One term `coef·atom` of an affine form. */
export interface Term {
  /** The expression multiplied. */
  readonly atom: Expr;
  /** Its coefficient (never 0 in a form). */
  coef: number;
}

/** `constant + Σ coef·atom`, with terms keyed by their atom's full-precision text, in first-seen order. */
export interface Affine {
  /** The additive constant. */
  constant: number;
  /** The terms, keyed by `formatExpression(atom, 17)`. */
  terms: Map<string, Term>;
}

/**
 * The form of a number.
 *
 * @example
 * ```ts
 * import { constantForm } from "./simplify_affine.ts";
 * console.log(constantForm(2).constant); // 2
 * ```
 */
export function constantForm(constant: number): Affine {
  return { constant, terms: new Map() };
}

/**
 * The form `coef·atom` (the constant 0 when `coef` is 0).
 *
 * @example
 * ```ts
 * import { atomForm } from "./simplify_affine.ts";
 * import { variable } from "./expr.ts";
 * console.log(atomForm(variable(0), 3).terms.get("x1")?.coef); // 3
 * ```
 */
export function atomForm(atom: Expr, coef = 1): Affine {
  if (coef === 0) return constantForm(0);
  return { constant: 0, terms: new Map([[formatExpression(atom, 17), { atom, coef }]]) };
}

/**
 * `k·form`.
 *
 * @example
 * ```ts
 * import { atomForm, scale } from "./simplify_affine.ts";
 * import { variable } from "./expr.ts";
 * console.log(scale(atomForm(variable(0), 3), 2).terms.get("x1")?.coef); // 6
 * ```
 */
export function scale(form: Affine, k: number): Affine {
  if (k === 0) return constantForm(0);
  const terms = new Map<string, Term>();
  for (const [key, t] of form.terms) terms.set(key, { atom: t.atom, coef: t.coef * k });
  return { constant: form.constant * k, terms };
}

/**
 * `p + q`, equal atoms merged, terms that cancel exactly removed.
 *
 * @example
 * ```ts
 * import { add, atomForm, constantForm } from "./simplify_affine.ts";
 * import { variable } from "./expr.ts";
 * const s = add(atomForm(variable(0), 1), add(atomForm(variable(0), 2), constantForm(1)));
 * console.log(s.terms.get("x1")?.coef, s.constant); // 3 1
 * ```
 */
export function add(p: Affine, q: Affine): Affine {
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

/**
 * The number a form stands for, or `undefined` when it has terms.
 *
 * @example
 * ```ts
 * import { constantForm, constantOf } from "./simplify_affine.ts";
 * console.log(constantOf(constantForm(4))); // 4
 * ```
 */
export function constantOf(form: Affine): number | undefined {
  return form.terms.size === 0 ? form.constant : undefined;
}

/**
 * The form with its constant set to 0 when it is negligible (see the module doc).
 *
 * @example
 * ```ts
 * import { add, atomForm, closeForm, constantForm } from "./simplify_affine.ts";
 * import { variable } from "./expr.ts";
 * console.log(closeForm(add(atomForm(variable(0), -8.5), constantForm(1.8e-17))).constant); // 0
 * ```
 */
export function closeForm(form: Affine): Affine {
  if (form.constant === 0 || form.terms.size === 0) return form;
  let largest = 0;
  for (const t of form.terms.values()) largest = Math.max(largest, Math.abs(t.coef));
  return Math.abs(form.constant) <= NEGLIGIBLE * largest ? { constant: 0, terms: form.terms } : form;
}

/**
 * The form with its leading term first: the term whose atom's full-precision
 * text sorts first (`x1` before `x2`), a canonical choice so that `x2 - x1`
 * and `-x1 + x2` lead with the same term. Its coefficient is the sign that
 * {@linkcode signedFactor} and the symmetry rules make positive.
 *
 * @example
 * ```ts
 * import { add, atomForm, leadingFirst } from "./simplify_affine.ts";
 * import { variable } from "./expr.ts";
 * const f = leadingFirst(add(atomForm(variable(1), 1), atomForm(variable(0), -1)));
 * console.log([...f.terms.keys()]); // ["x1", "x2"]
 * ```
 */
export function leadingFirst(form: Affine): Affine {
  let lead: string | undefined;
  for (const key of form.terms.keys()) if (lead === undefined || key < lead) lead = key;
  if (lead === undefined) return form;
  const terms = new Map<string, Term>([[lead, form.terms.get(lead)!]]);
  for (const [key, t] of form.terms) if (key !== lead) terms.set(key, t);
  return { constant: form.constant, terms };
}

/**
 * The coefficient of the form's first term (0 for a constant form).
 *
 * @example
 * ```ts
 * import { atomForm, leadingCoefficient } from "./simplify_affine.ts";
 * import { variable } from "./expr.ts";
 * console.log(leadingCoefficient(atomForm(variable(1), -2))); // -2
 * ```
 */
export function leadingCoefficient(form: Affine): number {
  for (const t of form.terms.values()) return t.coef;
  return 0;
}

const isReciprocal = (e: Expr): e is Expr & { kind: "binary" } =>
  e.kind === "binary" && e.op === "/" && e.left.kind === "number" && e.left.value === 1;

function termExpr(t: Term): Expr {
  if (t.coef === 1) return t.atom;
  if (t.coef === -1) return negate(t.atom);
  if (isReciprocal(t.atom)) return binary("/", num(t.coef), t.atom.right);
  return binary("*", num(t.coef), t.atom);
}

/**
 * The expression of a closed form (its negligible constant dropped): terms
 * in order, then the constant.
 *
 * @example
 * ```ts
 * import { add, atomForm, constantForm, toExpr } from "./simplify_affine.ts";
 * import { formatExpression } from "./format_expression.ts";
 * import { variable } from "./expr.ts";
 * console.log(formatExpression(toExpr(add(atomForm(variable(0), 2), constantForm(1))))); // "2*x1 + 1"
 * ```
 */
export function toExpr(form: Affine): Expr {
  const closed = closeForm(form);
  let out: Expr | undefined;
  for (const t of closed.terms.values()) {
    const e = termExpr(t);
    out = out === undefined ? e : binary("+", out, e);
  }
  if (out === undefined) return num(closed.constant);
  return closed.constant === 0 ? out : binary("+", out, num(closed.constant));
}

/**
 * The closed form as `coef·atom`: its one term when it is a single term
 * without constant, else `1·(the form)`.
 *
 * @example
 * ```ts
 * import { atomForm, factor } from "./simplify_affine.ts";
 * import { variable } from "./expr.ts";
 * console.log(factor(atomForm(variable(0), -3)).coef); // -3
 * ```
 */
export function factor(form: Affine): { coef: number; atom: Expr } {
  const closed = closeForm(form);
  if (closed.constant === 0 && closed.terms.size === 1) {
    const [t] = closed.terms.values();
    return { coef: t.coef, atom: t.atom };
  }
  return { coef: 1, atom: toExpr(closed) };
}

/**
 * Like {@linkcode factor}, but a sum is put leading term first
 * ({@linkcode leadingFirst}), and when that term's coefficient is negative
 * it becomes `-1·(the negated sum)`, so that the atom leads with a positive
 * coefficient (`2 - x1` is `-1·(x1 - 2)`).
 *
 * @example
 * ```ts
 * import { add, atomForm, constantForm, signedFactor } from "./simplify_affine.ts";
 * import { formatExpression } from "./format_expression.ts";
 * import { variable } from "./expr.ts";
 * const f = signedFactor(add(constantForm(2), atomForm(variable(0), -1)));
 * console.log(f.coef, formatExpression(f.atom)); // -1 "x1 - 2"
 * ```
 */
export function signedFactor(form: Affine): { coef: number; atom: Expr } {
  const closed = closeForm(form);
  if (closed.terms.size === 0 || closed.terms.size === 1 && closed.constant === 0) return factor(closed);
  const sum = leadingFirst(closed);
  return leadingCoefficient(sum) < 0
    ? { coef: -1, atom: toExpr(scale(sum, -1)) }
    : { coef: 1, atom: toExpr(sum) };
}
