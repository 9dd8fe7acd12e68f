/**
 * pykan's symbolic edge as an edge function (`src/basis/edge_function.ts`):
 * `phi(x) = c * f(a * x + b) + d` with `f` one of
 * {@linkcode SYMBOLIC_EDGE_FUNCTIONS} (pykan's `SYMBOLIC_LIB` at ecde4ec) and
 * the edge's parameters `[f's index (-1: none, phi = 0), a, b, c, d]`. The
 * functions are the exact ones (`1/x` at 0 is infinite), as pykan's forward
 * without `singularity_avoiding`.
 *
 * @module
 */

import type { EdgeFunction } from "./edge_function.ts";
import { UNARY_FUNCTIONS } from "../symbolic/functions.ts";
import source from "../../shaders/edge/symbolic.wgsl" with { type: "text" };

type Pair = (u: number) => [number, number];

const unary = (name: string): Pair => {
  const f = UNARY_FUNCTIONS[name];
  return (u) => [f.value(u), f.derivative(u)];
};
const power = (p: number): Pair => (u) => [u ** p, p * u ** (p - 1)];

/**
 * The functions a symbolic edge may take, in the WGSL's order (the index is
 * the edge's first parameter), with each one's value and derivative; the
 * names are pykan's (`x^0.5` and `1/x^0.5` are pykan's other names of `sqrt`
 * and `1/sqrt(x)`).
 */
const TABLE: readonly (readonly [string, Pair])[] = [
  ["0", () => [0, 0]],
  ["x", (u) => [u, 1]],
  ["x^2", power(2)],
  ["x^3", power(3)],
  ["x^4", power(4)],
  ["x^5", power(5)],
  ["1/x", power(-1)],
  ["1/x^2", power(-2)],
  ["1/x^3", power(-3)],
  ["1/x^4", power(-4)],
  ["1/x^5", power(-5)],
  ["sqrt", unary("sqrt")],
  ["x^1.5", (u) => [u ** 1.5, 1.5 * Math.sqrt(u)]],
  ["1/sqrt(x)", (u) => [1 / Math.sqrt(u), -0.5 / u ** 1.5]],
  ["exp", unary("exp")],
  ["log", unary("log")],
  ["abs", unary("abs")],
  ["sin", unary("sin")],
  ["cos", unary("cos")],
  ["tan", unary("tan")],
  ["tanh", unary("tanh")],
  ["sgn", (u) => [Math.sign(u), 0]],
  ["arcsin", unary("arcsin")],
  ["arccos", unary("arccos")],
  ["arctan", unary("arctan")],
  ["arctanh", unary("arctanh")],
  ["gaussian", unary("gaussian")],
];

const ALIASES: Readonly<Record<string, string>> = { "x^0.5": "sqrt", "1/x^0.5": "1/sqrt(x)" };

/**
 * The names of the functions a symbolic edge may take, in index order.
 *
 * @example
 * ```ts
 * import { SYMBOLIC_EDGE_FUNCTIONS } from "./symbolic_edge.ts";
 * console.log(SYMBOLIC_EDGE_FUNCTIONS.indexOf("sin")); // 17
 * ```
 */
export const SYMBOLIC_EDGE_FUNCTIONS: readonly string[] = TABLE.map(([name]) => name);

/**
 * The index of function `name` (pykan's names and its aliases), or -1.
 *
 * @example
 * ```ts
 * import { symbolicFunctionIndex } from "./symbolic_edge.ts";
 * console.log(symbolicFunctionIndex("x^0.5") === symbolicFunctionIndex("sqrt")); // true
 * ```
 */
export function symbolicFunctionIndex(name: string): number {
  return SYMBOLIC_EDGE_FUNCTIONS.indexOf(ALIASES[name] ?? name);
}

/**
 * `phi(x; th) = c f(a x + b) + d` for `th = [index, a, b, c, d]` in float64,
 * and its derivatives `[d/dx, 0 (the index), d/da, d/db, d/dc, d/dd]`.
 */
function evaluate(x: number, th: ArrayLike<number>): [number, number] {
  const id = Math.trunc(th[0]);
  if (id < 0) return [0, 0];
  return TABLE[id][1](th[1] * x + th[2]);
}

/**
 * The symbolic edge function for the edge kernels.
 *
 * @example
 * ```ts
 * import { symbolicEdge, symbolicFunctionIndex } from "./symbolic_edge.ts";
 * const th = [symbolicFunctionIndex("sin"), Math.PI, 0, 2, 0.5]; // 2 sin(pi x) + 0.5
 * console.log(symbolicEdge.value(0.5, th, 0, 1)); // 2.5
 * ```
 */
export const symbolicEdge: EdgeFunction = {
  name: "symbolic",
  source,
  constants: {},
  planes: 5,
  value(x, th) {
    return Math.trunc(th[0]) < 0 ? 0 : th[3] * evaluate(x, th)[0] + th[4];
  },
  derivs(x, th) {
    if (Math.trunc(th[0]) < 0) return [0, 0, 0, 0, 0, 0];
    const [f, df] = evaluate(x, th);
    const g = th[3] * df;
    return [g * th[1], 0, g * x, g, f, 1];
  },
};
