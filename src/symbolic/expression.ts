/**
 * Expressions of the symbolic workflow: the tree ({@linkcode Expr}), its
 * parser and printer, and its evaluation on rows of inputs in float64.
 *
 * @module
 */

import { KanError } from "../errors.ts";
import { type Expr, inputCount } from "./expr.ts";
import { UNARY_FUNCTIONS } from "./functions.ts";

export { binary, type BinaryOperator, call, type Expr, isConstant, negate, num, variable } from "./expr.ts";
export { parseExpression } from "./parse_expression.ts";
export { formatExpression, formatNumber } from "./format_expression.ts";

/** The value of a named constant. */
export const CONSTANTS: Readonly<Record<"pi" | "e", number>> = { pi: Math.PI, e: Math.E };

/**
 * Checks rows of inputs: a row-major array of `n * inputs` finite numbers;
 * returns `n`. `owner` names the caller in messages.
 *
 * @example
 * ```ts
 * import { checkRows } from "./expression.ts";
 * console.log(checkRows("demo", new Float64Array([1, 2, 3, 4]), 2)); // 2
 * ```
 */
export function checkRows(owner: string, rows: ArrayLike<number>, inputs: number): number {
  if (!Number.isInteger(inputs) || inputs < 1) {
    throw new KanError(`${owner}: inputs must be an integer >= 1, got ${inputs}`);
  }
  if (rows === null || typeof rows !== "object" || typeof rows.length !== "number") {
    throw new KanError(
      `${owner}: rows must be an array of numbers, got ${rows === null ? "null" : typeof rows}`,
    );
  }
  if (rows.length === 0 || rows.length % inputs !== 0) {
    throw new KanError(
      `${owner}: rows must hold a whole number (>= 1) of rows of ${inputs} inputs, got ${rows.length} values`,
    );
  }
  for (let i = 0; i < rows.length; i++) {
    if (typeof rows[i] !== "number" || !Number.isFinite(rows[i])) {
      throw new KanError(
        `${owner}: rows must be finite numbers, got ${rows[i]} at row ${Math.floor(i / inputs)}, input ${
          i % inputs + 1
        }`,
      );
    }
  }
  return rows.length / inputs;
}

type Values = number | Float64Array;

function map1(a: Values, f: (x: number) => number): Values {
  if (typeof a === "number") return f(a);
  const out = new Float64Array(a.length);
  for (let r = 0; r < a.length; r++) out[r] = f(a[r]);
  return out;
}

function map2(a: Values, b: Values, f: (x: number, y: number) => number): Values {
  if (typeof a === "number" && typeof b === "number") return f(a, b);
  const n = typeof a === "number" ? (b as Float64Array).length : a.length;
  const out = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    out[r] = f(typeof a === "number" ? a : a[r], typeof b === "number" ? b : b[r]);
  }
  return out;
}

const OPERATIONS: Record<string, (x: number, y: number) => number> = {
  "+": (x, y) => x + y,
  "-": (x, y) => x - y,
  "*": (x, y) => x * y,
  "/": (x, y) => x / y,
  "^": (x, y) => Math.pow(x, y),
};

/**
 * The value of `expr` at every row of `rows` (row-major, `inputs` values per
 * row), one float64 per row. Outside a function's domain the value is NaN or
 * infinite as `Math` says (`log(-1)`, `1/0`); the inputs themselves must be
 * finite.
 *
 * @example
 * ```ts
 * import { evaluateExpression, parseExpression } from "./expression.ts";
 * const f = parseExpression("x1*x2 + 1", 2);
 * console.log(evaluateExpression(f, new Float64Array([2, 3, -1, 4]), 2)); // [7, -3]
 * ```
 */
export function evaluateExpression(expr: Expr, rows: ArrayLike<number>, inputs: number): Float64Array {
  const n = checkRows("evaluateExpression", rows, inputs);
  if (inputCount(expr) > inputs) {
    throw new KanError(
      `evaluateExpression: the expression uses x${inputCount(expr)} but inputs is ${inputs}`,
    );
  }
  const columns = new Map<number, Float64Array>();
  const walk = (e: Expr): Values => {
    switch (e.kind) {
      case "number":
        return e.value;
      case "constant":
        return CONSTANTS[e.name];
      case "variable": {
        let column = columns.get(e.index);
        if (column === undefined) {
          column = new Float64Array(n);
          for (let r = 0; r < n; r++) column[r] = rows[r * inputs + e.index];
          columns.set(e.index, column);
        }
        return column;
      }
      case "negate":
        return map1(walk(e.arg), (x) => -x);
      case "call": {
        const f = UNARY_FUNCTIONS[e.name];
        if (f === undefined) throw new KanError(`evaluateExpression: unknown function "${e.name}"`);
        return map1(walk(e.arg), f.value);
      }
      case "binary":
        return map2(walk(e.left), walk(e.right), OPERATIONS[e.op]);
    }
  };
  const result = walk(expr);
  return typeof result === "number" ? new Float64Array(n).fill(result) : result;
}

/**
 * Checks the data an expression is fitted to: `rows` as {@linkcode checkRows}
 * does, an expression that uses no input past `inputs`, and one finite target
 * per row; returns the number of rows and the targets in float64. `owner`
 * names the caller in messages.
 *
 * @example
 * ```ts
 * import { checkFitData, parseExpression } from "./expression.ts";
 * const { n, y } = checkFitData("demo", parseExpression("x1 + x2", 2), [1, 2, 3, 4], [3, 7], 2);
 * console.log(n, y); // 2 Float64Array [3, 7]
 * ```
 */
export function checkFitData(
  owner: string,
  expr: Expr,
  rows: ArrayLike<number>,
  targets: ArrayLike<number>,
  inputs: number,
): { n: number; y: Float64Array } {
  const n = checkRows(owner, rows, inputs);
  if (inputCount(expr) > inputs) {
    throw new KanError(`${owner}: the expression uses x${inputCount(expr)} but inputs is ${inputs}`);
  }
  if (targets === null || typeof targets !== "object" || targets.length !== n) {
    throw new KanError(`${owner}: targets must hold one number per row (${n}), got ${targets?.length}`);
  }
  const y = Float64Array.from(targets);
  const bad = y.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new KanError(`${owner}: targets must be finite, got ${y[bad]} at row ${bad}`);
  return { n, y };
}
