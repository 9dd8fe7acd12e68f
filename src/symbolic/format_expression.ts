/**
 * Prints an {@linkcode Expr} in the syntax {@linkcode parseExpression} reads,
 * with as few parentheses as the precedence rules allow (`a*x1 + b`, `x1 -
 * 2*x2`, `exp(-x1^2)`), numbers rounded to a number of significant digits.
 *
 * Unit factors. A number multiplying from the left that prints as `1` at
 * the chosen digits is not printed (`1*u` and `0.99999999997*u` print `u`
 * at 4 digits), one that prints as `-1` becomes a minus sign (`-sin(u)`),
 * and an exponent that prints as `1` goes (`u^1` prints `u`). The text
 * reads back to the value it shows (`1*u` and `u` are the same number), so
 * the simplifier keeps such coefficients exact and leaves this to the
 * printer; at 17 digits only an exact ±1 prints that way, and the text reads
 * back to the same bits.
 *
 * @module
 */

import { KanError } from "../errors.ts";
import { type Expr, mapChildren, negate, num } from "./expr.ts";

/** Precedence: 1 sums, 2 products, 3 unary minus (and negative numbers), 4 powers, 5 atoms. */
function precedence(e: Expr): number {
  switch (e.kind) {
    case "number":
      return e.value < 0 || Object.is(e.value, -0) ? 3 : 5;
    case "constant":
    case "variable":
    case "call":
      return 5;
    case "negate":
      return 3;
    case "binary":
      return e.op === "^" ? 4 : e.op === "*" || e.op === "/" ? 2 : 1;
  }
}

/**
 * A number with `digits` significant digits and no trailing zeros; integers
 * below 1e15 print exactly.
 *
 * @example
 * ```ts
 * import { formatNumber } from "./format_expression.ts";
 * console.log(formatNumber(Math.PI, 4), formatNumber(0.5, 4), formatNumber(1.5e-7, 3)); // 3.142 0.5 1.5e-7
 * ```
 */
export function formatNumber(value: number, digits = 4): string {
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return Object.is(value, -0) ? "0" : String(value);
  if (!Number.isFinite(value)) return String(value);
  const text = value.toPrecision(digits);
  const [mantissa, exponent] = text.split("e");
  const trimmed = mantissa.includes(".") ? mantissa.replace(/0+$/, "").replace(/\.$/, "") : mantissa;
  if (exponent === undefined) return trimmed;
  return `${trimmed}e${exponent.startsWith("+") ? exponent.slice(1) : exponent}`;
}

/** The expression without its leading minus sign, or `undefined` when it has none. */
function withoutSign(e: Expr): Expr | undefined {
  if (e.kind === "number" && (e.value < 0 || Object.is(e.value, -0))) return num(-e.value);
  if (e.kind === "negate") return e.arg;
  if (e.kind === "binary" && (e.op === "*" || e.op === "/")) {
    const left = withoutSign(e.left);
    if (left !== undefined) return { ...e, left };
  }
  return undefined;
}

/** `expr` with the unit factors of the module doc removed, at `digits` significant digits. */
function withoutUnits(expr: Expr, digits: number): Expr {
  const shows = (e: Expr, text: string) => e.kind === "number" && formatNumber(e.value, digits) === text;
  const walk = (e: Expr): Expr => {
    if (e.kind === "binary") {
      if (e.op === "*" && shows(e.left, "1")) return walk(e.right);
      if (e.op === "*" && shows(e.left, "-1")) return negate(walk(e.right));
      if (e.op === "^" && shows(e.right, "1")) return walk(e.left);
    }
    return mapChildren(e, walk);
  };
  return walk(expr);
}

/**
 * Prints `expr` so that `parseExpression` reads it back (to the same values,
 * exactly, when `digits` is 17). `digits` is the number of significant digits
 * of each number.
 *
 * @example
 * ```ts
 * import { formatExpression } from "./format_expression.ts";
 * import { parseExpression } from "./parse_expression.ts";
 * const f = parseExpression("(2.0*x1) + (-(0.5)) * sin((pi * x2))", 2);
 * console.log(formatExpression(f)); // "2*x1 - 0.5*sin(pi*x2)"
 * console.log(formatExpression(parseExpression("-1*sin(x1) + 1.00000000001*x2^1", 2))); // "-sin(x1) + x2"
 * ```
 */
export function formatExpression(expr: Expr, digits = 4): string {
  if (!Number.isInteger(digits) || digits < 1 || digits > 17) {
    throw new KanError(`formatExpression: digits must be an integer in 1..17, got ${digits}`);
  }
  const at = (e: Expr, min: number): string => {
    const text = raw(e);
    return precedence(e) < min ? `(${text})` : text;
  };
  const raw = (e: Expr): string => {
    switch (e.kind) {
      case "number":
        return formatNumber(e.value, digits);
      case "constant":
        return e.name;
      case "variable":
        return `x${e.index + 1}`;
      case "call":
        return `${e.name}(${at(e.arg, 0)})`;
      case "negate":
        return withoutSign(e.arg) !== undefined ? `-(${raw(e.arg)})` : `-${at(e.arg, 2)}`;
      case "binary": {
        if (e.op === "^") return `${at(e.left, 5)}^${at(e.right, 5)}`;
        if (e.op === "*" || e.op === "/") return `${at(e.left, 2)}${e.op}${at(e.right, 4)}`;
        // `a + -b` prints as `a - b`, `a - -b` as `a + b` (the same value to the bit).
        let right = e.right, op = e.op;
        for (let positive = withoutSign(right); positive !== undefined; positive = withoutSign(right)) {
          right = positive;
          op = op === "+" ? "-" : "+";
        }
        return `${at(e.left, 1)} ${op} ${at(right, 2)}`;
      }
    }
  };
  return raw(withoutUnits(expr, digits));
}
