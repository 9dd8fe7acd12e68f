/**
 * The expression tree of the symbolic workflow: numbers, the named constants
 * `pi` and `e`, the inputs `x1..xD`, calls of the unary functions of
 * {@linkcode UNARY_FUNCTIONS}, the binary operators `+ - * / ^` and unary
 * minus. Nodes are plain immutable objects; the builders below make them.
 *
 * @module
 */

import { KanError } from "../errors.ts";
import { findUnaryFunction } from "./functions.ts";

/** A binary operator: `^` is a power with any exponent. */
export type BinaryOperator = "+" | "-" | "*" | "/" | "^";

/** A node of an expression. */
export type Expr =
  | { readonly kind: "number"; readonly value: number }
  | { readonly kind: "constant"; readonly name: "pi" | "e" }
  | { readonly kind: "variable"; readonly index: number }
  | { readonly kind: "call"; readonly name: string; readonly arg: Expr }
  | { readonly kind: "negate"; readonly arg: Expr }
  | { readonly kind: "binary"; readonly op: BinaryOperator; readonly left: Expr; readonly right: Expr };

/**
 * A number node.
 *
 * @example
 * ```ts
 * import { num } from "./expr.ts";
 * console.log(num(2.5)); // { kind: "number", value: 2.5 }
 * ```
 */
export function num(value: number): Expr {
  return { kind: "number", value };
}

/**
 * The input `x{index + 1}` (`index` counts from 0).
 *
 * @example
 * ```ts
 * import { variable } from "./expr.ts";
 * console.log(variable(0)); // x1
 * ```
 */
export function variable(index: number): Expr {
  if (!Number.isInteger(index) || index < 0) {
    throw new KanError(`variable: index must be an integer >= 0, got ${index}`);
  }
  return { kind: "variable", index };
}

/**
 * A call of the unary function `name` (canonical name or alias, stored canonical).
 *
 * @example
 * ```ts
 * import { call, variable } from "./expr.ts";
 * console.log(call("atan", variable(0))); // { kind: "call", name: "arctan", arg: x1 }
 * ```
 */
export function call(name: string, arg: Expr): Expr {
  const f = findUnaryFunction(name);
  if (f === undefined) throw new KanError(`call: unknown function "${name}"`);
  return { kind: "call", name: f.name, arg };
}

/**
 * `-arg`.
 *
 * @example
 * ```ts
 * import { negate, variable } from "./expr.ts";
 * console.log(negate(variable(0)).kind); // "negate"
 * ```
 */
export function negate(arg: Expr): Expr {
  return { kind: "negate", arg };
}

/**
 * `left op right`.
 *
 * @example
 * ```ts
 * import { binary, num, variable } from "./expr.ts";
 * const square = binary("^", variable(0), num(2)); // x1^2
 * console.log(square.kind); // "binary"
 * ```
 */
export function binary(op: BinaryOperator, left: Expr, right: Expr): Expr {
  return { kind: "binary", op, left, right };
}

/**
 * Whether an expression uses no input (its value is one number).
 *
 * @example
 * ```ts
 * import { binary, isConstant, num, variable } from "./expr.ts";
 * console.log(isConstant(binary("*", num(2), num(3)))); // true
 * console.log(isConstant(variable(0))); // false
 * ```
 */
export function isConstant(expr: Expr): boolean {
  switch (expr.kind) {
    case "number":
    case "constant":
      return true;
    case "variable":
      return false;
    case "call":
    case "negate":
      return isConstant(expr.arg);
    case "binary":
      return isConstant(expr.left) && isConstant(expr.right);
  }
}

/**
 * The largest input index the expression uses plus one (0 when it uses none).
 *
 * @example
 * ```ts
 * import { binary, inputCount, variable } from "./expr.ts";
 * console.log(inputCount(binary("*", variable(0), variable(2)))); // 3
 * ```
 */
export function inputCount(expr: Expr): number {
  switch (expr.kind) {
    case "number":
    case "constant":
      return 0;
    case "variable":
      return expr.index + 1;
    case "call":
    case "negate":
      return inputCount(expr.arg);
    case "binary":
      return Math.max(inputCount(expr.left), inputCount(expr.right));
  }
}

/**
 * The number of nodes of an expression (a measure of its size).
 *
 * @example
 * ```ts
 * import { binary, nodeCount, num, variable } from "./expr.ts";
 * console.log(nodeCount(binary("+", variable(0), num(1)))); // 3
 * ```
 */
export function nodeCount(expr: Expr): number {
  switch (expr.kind) {
    case "number":
    case "constant":
    case "variable":
      return 1;
    case "call":
    case "negate":
      return 1 + nodeCount(expr.arg);
    case "binary":
      return 1 + nodeCount(expr.left) + nodeCount(expr.right);
  }
}

/**
 * `expr` with `f` applied to each direct child (the argument of a call or a
 * negation, both sides of a binary operation); leaves come back unchanged.
 * The building block of every rewrite that walks the tree.
 *
 * @example
 * ```ts
 * import { binary, mapChildren, num, variable } from "./expr.ts";
 * const e = binary("+", variable(0), num(2));
 * console.log(mapChildren(e, (c) => c.kind === "number" ? num(3) : c)); // x1 + 3
 * ```
 */
export function mapChildren(expr: Expr, f: (child: Expr) => Expr): Expr {
  switch (expr.kind) {
    case "number":
    case "constant":
    case "variable":
      return expr;
    case "call":
    case "negate":
      return { ...expr, arg: f(expr.arg) };
    case "binary":
      return { ...expr, left: f(expr.left), right: f(expr.right) };
  }
}
