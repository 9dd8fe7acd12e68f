/**
 * The parser of the expression language: `x1..xD`, `pi`, `e`, numbers (`2`,
 * `0.5`, `.5`, `1e-3`), `+ - * /`, `^` (also written `**`; right-associative
 * and binding tighter than unary minus, so `-x1^2` is `-(x1^2)` and `2^-1` is
 * one half), parentheses and calls of the unary functions (`exp(sin(pi*x1) +
 * x2^2)`). When `inputs` is 1, `x` is read as `x1`.
 *
 * @module
 */

import { KanError } from "../errors.ts";
import { findUnaryFunction, UNARY_FUNCTIONS } from "./functions.ts";
import { binary, call, type Expr, negate, num, variable } from "./expr.ts";

type Token =
  | { kind: "number"; value: number; text: string; at: number }
  | { kind: "name"; text: string; at: number }
  | { kind: "op"; text: string; at: number }
  | { kind: "end"; text: string; at: number };

function fail(text: string, at: number, expected: string, got: string): never {
  const pointer = `${text.slice(0, at)}⟨here⟩${text.slice(at)}`;
  throw new KanError(
    `parseExpression: at character ${at + 1} of "${text}" (${pointer}) expected ${expected}, got ${got}`,
  );
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const number = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(text.slice(i));
    if (number !== null) {
      tokens.push({ kind: "number", value: Number(number[0]), text: number[0], at: i });
      i += number[0].length;
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i));
    if (name !== null) {
      tokens.push({ kind: "name", text: name[0], at: i });
      i += name[0].length;
      continue;
    }
    if (text.startsWith("**", i)) {
      tokens.push({ kind: "op", text: "^", at: i });
      i += 2;
      continue;
    }
    if ("+-*/^()".includes(ch)) {
      tokens.push({ kind: "op", text: ch, at: i });
      i++;
      continue;
    }
    fail(text, i, "a number, a name, an operator (+ - * / ^) or a parenthesis", `"${ch}"`);
  }
  tokens.push({ kind: "end", text: "the end of the text", at: text.length });
  return tokens;
}

function shown(token: Token): string {
  return token.kind === "end" ? token.text : `"${token.text}"`;
}

/**
 * Parses `text` into an {@linkcode Expr} over the inputs `x1..x{inputs}`.
 * A malformed text, an unknown name or an input beyond `inputs` is a
 * `KanError` naming the character where it happened and what was expected.
 *
 * @example
 * ```ts
 * import { parseExpression } from "./parse_expression.ts";
 * import { evaluateExpression } from "./expression.ts";
 * const f = parseExpression("exp(sin(pi*x1) + x2^2)", 2);
 * console.log(evaluateExpression(f, new Float64Array([0.5, 0]), 2)); // [e = 2.718...]
 * ```
 */
export function parseExpression(text: string, inputs: number): Expr {
  if (typeof text !== "string") {
    throw new KanError(`parseExpression: text must be a string, got ${typeof text}`);
  }
  if (!Number.isInteger(inputs) || inputs < 1) {
    throw new KanError(`parseExpression: inputs must be an integer >= 1, got ${inputs}`);
  }
  const tokens = tokenize(text);
  let pos = 0;
  const peek = () => tokens[pos];
  const isOp = (t: Token, ops: string) => t.kind === "op" && ops.includes(t.text);
  const inputNames = inputs === 1 ? "x1" : `x1..x${inputs}`;
  const operand = `a number, ${inputNames}, pi, e, a function call or "("`;

  // sum := product (("+" | "-") product)*
  const sum = (): Expr => {
    let left = product();
    while (isOp(peek(), "+-")) {
      const op = tokens[pos++].text as "+" | "-";
      left = binary(op, left, product());
    }
    return left;
  };
  // product := unary (("*" | "/") unary)*
  const product = (): Expr => {
    let left = unary();
    while (isOp(peek(), "*/")) {
      const op = tokens[pos++].text as "*" | "/";
      left = binary(op, left, unary());
    }
    return left;
  };
  // unary := ("-" | "+") unary | power; a minus right before a number literal (not a power) is its sign.
  const unary = (): Expr => {
    const t = peek();
    if (isOp(t, "-+")) {
      pos++;
      if (t.text === "-" && peek().kind === "number" && !isOp(tokens[pos + 1], "^")) {
        return num(-(primary() as { value: number }).value);
      }
      const arg = unary();
      return t.text === "+" ? arg : negate(arg);
    }
    return power();
  };
  // power := primary ("^" unary)?   (right-associative through unary)
  const power = (): Expr => {
    const base = primary();
    if (isOp(peek(), "^")) {
      pos++;
      return binary("^", base, unary());
    }
    return base;
  };
  const primary = (): Expr => {
    const t = tokens[pos];
    if (t.kind === "number") {
      pos++;
      if (!Number.isFinite(t.value)) fail(text, t.at, "a finite number", `"${t.text}"`);
      return num(t.value);
    }
    if (isOp(t, "(")) {
      pos++;
      const inner = sum();
      const close = tokens[pos];
      if (!isOp(close, ")")) {
        fail(text, close.at, `")" to close the "(" at character ${t.at + 1}`, shown(close));
      }
      pos++;
      return inner;
    }
    if (t.kind === "name") {
      pos++;
      const f = findUnaryFunction(t.text);
      if (f !== undefined) {
        const open = tokens[pos];
        if (!isOp(open, "(")) fail(text, open.at, `"(" after the function ${t.text}`, shown(open));
        pos++;
        const arg = sum();
        const close = tokens[pos];
        if (!isOp(close, ")")) fail(text, close.at, `")" to close ${t.text}(`, shown(close));
        pos++;
        return call(f.name, arg);
      }
      if (t.text === "pi" || t.text === "e") return { kind: "constant", name: t.text };
      if (t.text === "x" && inputs === 1) return variable(0);
      const input = /^x(\d+)$/.exec(t.text);
      if (input !== null) {
        const index = Number(input[1]);
        if (index >= 1 && index <= inputs && String(index) === input[1]) return variable(index - 1);
        fail(text, t.at, `an input among ${inputNames}`, `"${t.text}"`);
      }
      const functions = Object.keys(UNARY_FUNCTIONS).join(", ");
      fail(text, t.at, `${inputNames}, pi, e or a function (${functions})`, `the unknown name "${t.text}"`);
    }
    fail(text, t.at, operand, shown(t));
  };

  const expr = sum();
  const rest = tokens[pos];
  if (rest.kind !== "end") {
    fail(text, rest.at, "an operator (+ - * / ^) or the end of the text", shown(rest));
  }
  return expr;
}
