/**
 * The unary functions an expression may call (`sin(x1)`, `exp(...)`), each
 * with its value and derivative written side by side in float64. The names are
 * pykan's (`kan/utils.py`), with the usual other spellings accepted as aliases.
 *
 * Outside a function's domain the value is what `Math` gives (`log(-1)` is
 * NaN, `1/0` is Infinity): these are the exact functions of a formula. The
 * singularity-avoiding versions used while fitting live in
 * {@linkcode SYMBOLIC_LIBRARY}.
 *
 * @module
 */

/** One unary function of the expression language: its value and its derivative. */
export interface UnaryFunction {
  /** The canonical name, as printed. */
  readonly name: string;
  /** Other names the parser accepts for it. */
  readonly aliases: readonly string[];
  /** The value at `x`. */
  readonly value: (x: number) => number;
  /** The derivative at `x`. */
  readonly derivative: (x: number) => number;
}

const fn = (
  name: string,
  aliases: string[],
  value: (x: number) => number,
  derivative: (x: number) => number,
): UnaryFunction => ({ name, aliases, value, derivative });

/**
 * Every function the expression language calls by name, by canonical name.
 *
 * @example
 * ```ts
 * import { UNARY_FUNCTIONS } from "./functions.ts";
 * console.log(UNARY_FUNCTIONS.gaussian.value(1)); // exp(-1) = 0.3678...
 * console.log(UNARY_FUNCTIONS.tanh.derivative(0)); // 1
 * ```
 */
export const UNARY_FUNCTIONS: Readonly<Record<string, UnaryFunction>> = Object.fromEntries(
  [
    fn("sin", [], Math.sin, Math.cos),
    fn("cos", [], Math.cos, (x) => -Math.sin(x)),
    fn("tan", [], Math.tan, (x) => 1 + Math.tan(x) ** 2),
    fn("tanh", [], Math.tanh, (x) => 1 - Math.tanh(x) ** 2),
    fn("exp", [], Math.exp, Math.exp),
    fn("log", ["ln"], Math.log, (x) => (x >= 0 ? 1 / x : NaN)),
    fn("sqrt", [], Math.sqrt, (x) => (x >= 0 ? 0.5 / Math.sqrt(x) : NaN)),
    fn("abs", [], Math.abs, (x) => Math.sign(x)),
    fn("sgn", ["sign"], Math.sign, (x) => (Number.isNaN(x) ? NaN : 0)),
    fn("arctan", ["atan"], Math.atan, (x) => 1 / (1 + x * x)),
    fn("arcsin", ["asin"], Math.asin, (x) => 1 / Math.sqrt(1 - x * x)),
    fn("arccos", ["acos"], Math.acos, (x) => -1 / Math.sqrt(1 - x * x)),
    fn("arctanh", ["atanh"], Math.atanh, (x) => (Math.abs(x) <= 1 ? 1 / (1 - x * x) : NaN)),
    fn("gaussian", [], (x) => Math.exp(-x * x), (x) => -2 * x * Math.exp(-x * x)),
  ].map((f) => [f.name, f]),
);

const BY_ANY_NAME: ReadonlyMap<string, UnaryFunction> = new Map(
  Object.values(UNARY_FUNCTIONS).flatMap((f) => [f.name, ...f.aliases].map((n) => [n, f] as const)),
);

/**
 * The function called `name` (canonical or alias), or `undefined`.
 *
 * @example
 * ```ts
 * import { findUnaryFunction } from "./functions.ts";
 * console.log(findUnaryFunction("atan")?.name); // "arctan"
 * console.log(findUnaryFunction("nope")); // undefined
 * ```
 */
export function findUnaryFunction(name: string): UnaryFunction | undefined {
  return BY_ANY_NAME.get(name);
}
