/**
 * The library of symbolic functions an edge can be snapped to, with pykan's
 * names and complexities (`kan/utils.py` `SYMBOLIC_LIB` at ecde4ec). An edge
 * snapped to entry `f` computes `c·f(a·x + b) + d`.
 *
 * Singular points. `value` and `derivative` are the exact functions (`1/x` is
 * Infinity at 0, `log` and `sqrt` are NaN below 0): formulas use them, and
 * {@linkcode fitSymbol} only accepts an `(a, b)` for which `f(a·x + b)` is
 * finite at every sample, as pykan's `fit_params` does when it zeroes the R²
 * of non-finite candidates. Each entry also has `safeValue(x, yTh)` and
 * `safeDerivative(x, yTh)`, pykan's "singularity avoiding" versions (its
 * `fit(singularity_avoiding=True)`): finite everywhere, continuous, with the
 * pole cut where `|f|` reaches `yTh`. They are for callers that train a snapped
 * formula on the CPU; the GPU's symbolic edges (`shaders/edge/symbolic.wgsl`)
 * use the exact functions, as pykan's default, and the workflow keeps the
 * fitted symbols when a step leaves a function's domain:
 *
 * - `1/x^n`: for `|x| < yTh^(-1/n)` the value is `yTh` (n even) or the line
 *   `yTh·x/x_th` (n odd), as pykan's `f_inv…`;
 * - `sqrt`: `sign(x)·sqrt(|x|)`, and below `x_th = yTh^-2` the line `yTh·x`
 *   (pykan's line there is `x/yTh^3`, which jumps at `x_th`; this one is
 *   continuous); `x^1.5`: `|x|^1.5`; `1/sqrt`: `1/sqrt(|x|)` capped at `yTh`;
 * - `log`: `log|x|`, and `-yTh` for `|x| < e^-yTh`;
 * - `tan`: on `x mod π`, the line through the pole where `|tan|` passes `yTh`;
 * - `exp`: capped at `yTh`; `arcsin`, `arccos`: held at their end values
 *   beyond `|x| = 1`, as pykan; `arctanh`: held at its value at `|x| = t =
 *   tanh(yTh) − 1e-4`, pykan's threshold, beyond it (pykan jumps to `±yTh`
 *   there: about 4.95 to 10 for `yTh = 10`).
 *
 * Every other entry is finite everywhere and its safe version is itself.
 *
 * @module
 */

import { KanError } from "../errors.ts";
import { binary, call, type Expr, num } from "./expr.ts";
import { UNARY_FUNCTIONS } from "./functions.ts";

/** One entry of the symbolic library. */
export interface SymbolicFunction {
  /** pykan's name, e.g. `"x^2"`, `"1/x"`, `"sin"`, `"0"`. */
  readonly name: string;
  /** Other names accepted for it (e.g. `"x²"`, `"√x"`, `"sign"`). */
  readonly aliases: readonly string[];
  /** pykan's complexity (the cost of choosing this function in `suggestSymbols`). */
  readonly complexity: number;
  /** The exact value. */
  readonly value: (x: number) => number;
  /** The exact derivative. */
  readonly derivative: (x: number) => number;
  /** The singularity-avoiding value (finite everywhere), with threshold `yTh`. */
  readonly safeValue: (x: number, yTh: number) => number;
  /** The derivative of `safeValue`. */
  readonly safeDerivative: (x: number, yTh: number) => number;
  /** The function applied to an expression, e.g. `arg^2` or `sin(arg)`. */
  readonly expression: (arg: Expr) => Expr;
  /** `"odd"` when `f(-x) = -f(x)`, `"even"` when `f(-x) = f(x)`, else undefined. */
  readonly parity?: "odd" | "even";
}

type Part = Omit<SymbolicFunction, "safeValue" | "safeDerivative"> & Partial<SymbolicFunction>;

function entry(part: Part): SymbolicFunction {
  return {
    ...part,
    safeValue: part.safeValue ?? ((x) => part.value(x)),
    safeDerivative: part.safeDerivative ?? ((x) => part.derivative(x)),
  };
}

/** `x^n` by multiplications (much faster than `**` in the fitting sweep). */
const POWERS: readonly ((x: number) => number)[] = [
  () => 1,
  (x) => x,
  (x) => x * x,
  (x) => x * x * x,
  (x) => (x * x) * (x * x),
  (x) => (x * x) * (x * x) * x,
  (x) => (x * x) * (x * x) * (x * x),
];

function power(n: number, complexity: number, aliases: string[]): SymbolicFunction {
  const pow = POWERS[n], lower = POWERS[n - 1];
  return entry({
    name: `x^${n}`,
    aliases,
    complexity,
    value: pow,
    derivative: (x) => n * lower(x),
    parity: n % 2 === 0 ? "even" : "odd",
    expression: (arg) => binary("^", arg, num(n)),
  });
}

function inversePower(n: number, complexity: number, aliases: string[]): SymbolicFunction {
  const threshold = (yTh: number) => yTh ** (-1 / n);
  const pow = POWERS[n], higher = POWERS[n + 1];
  return entry({
    name: n === 1 ? "1/x" : `1/x^${n}`,
    aliases,
    complexity,
    value: (x) => 1 / pow(x),
    derivative: (x) => -n / higher(x),
    parity: n % 2 === 0 ? "even" : "odd",
    safeValue: (x, yTh) => {
      const t = threshold(yTh);
      if (Math.abs(x) >= t) return 1 / pow(x);
      return n % 2 === 0 ? yTh : yTh * x / t;
    },
    safeDerivative: (x, yTh) => {
      const t = threshold(yTh);
      if (Math.abs(x) >= t) return -n / higher(x);
      return n % 2 === 0 ? 0 : yTh / t;
    },
    expression: (arg) => binary("/", num(1), n === 1 ? arg : binary("^", arg, num(n))),
  });
}

function unary(
  name: string,
  complexity: number,
  aliases: string[],
  safe?: Pick<SymbolicFunction, "safeValue" | "safeDerivative">,
): SymbolicFunction {
  const f = UNARY_FUNCTIONS[name];
  return entry({
    name,
    aliases,
    complexity,
    value: f.value,
    derivative: f.derivative,
    expression: (arg) => call(name, arg),
    parity: ODD.includes(name) ? "odd" : EVEN.includes(name) ? "even" : undefined,
    ...safe,
  });
}

const ODD = ["sin", "tan", "tanh", "sgn", "arcsin", "arctan", "arctanh"];
const EVEN = ["cos", "abs", "gaussian"];

const sqrtSafe = {
  safeValue: (x: number, yTh: number) =>
    Math.abs(x) < yTh ** -2 ? yTh * x : Math.sign(x) * Math.sqrt(Math.abs(x)),
  safeDerivative: (x: number, yTh: number) => Math.abs(x) < yTh ** -2 ? yTh : 0.5 / Math.sqrt(Math.abs(x)),
};

const tanDelta = (yTh: number) => Math.PI / 2 - Math.atan(yTh);
const clipPi = (x: number) => x - Math.PI * Math.floor(x / Math.PI);

/**
 * The library, in pykan's order. `"sqrt"` and `"x^0.5"` are one entry, as are
 * `"1/sqrt(x)"` and `"1/x^0.5"`.
 *
 * @example
 * ```ts
 * import { SYMBOLIC_LIBRARY } from "./library.ts";
 * console.log(SYMBOLIC_LIBRARY.map((f) => `${f.name}:${f.complexity}`).join(" "));
 * ```
 */
export const SYMBOLIC_LIBRARY: readonly SymbolicFunction[] = [
  entry({
    name: "x",
    aliases: [],
    complexity: 1,
    value: (x) => x,
    derivative: () => 1,
    expression: (arg) => arg,
    parity: "odd",
  }),
  power(2, 2, ["x²", "x**2"]),
  power(3, 3, ["x³", "x**3"]),
  power(4, 3, ["x⁴", "x**4"]),
  power(5, 3, ["x⁵", "x**5"]),
  inversePower(1, 2, ["x^-1"]),
  inversePower(2, 2, ["x^-2"]),
  inversePower(3, 3, ["x^-3"]),
  inversePower(4, 4, ["x^-4"]),
  inversePower(5, 5, ["x^-5"]),
  unary("sqrt", 2, ["x^0.5", "√x", "sqrt(x)"], sqrtSafe),
  entry({
    name: "x^1.5",
    aliases: [],
    complexity: 4,
    value: (x) => x ** 1.5,
    derivative: (x) => 1.5 * Math.sqrt(x),
    safeValue: (x) => Math.abs(x) ** 1.5,
    safeDerivative: (x) => 1.5 * Math.sign(x) * Math.sqrt(Math.abs(x)),
    expression: (arg) => binary("^", arg, num(1.5)),
  }),
  entry({
    name: "1/sqrt(x)",
    aliases: ["1/x^0.5", "1/√x"],
    complexity: 2,
    value: (x) => 1 / Math.sqrt(x),
    derivative: (x) => -0.5 / (x * Math.sqrt(x)),
    safeValue: (x, yTh) => (Math.abs(x) < yTh ** -2 ? yTh : 1 / Math.sqrt(Math.abs(x))),
    safeDerivative: (x, yTh) =>
      Math.abs(x) < yTh ** -2 ? 0 : -0.5 * Math.sign(x) / (Math.abs(x) * Math.sqrt(Math.abs(x))),
    expression: (arg) => binary("/", num(1), call("sqrt", arg)),
  }),
  unary("exp", 2, [], {
    safeValue: (x, yTh) => (x > Math.log(yTh) ? yTh : Math.exp(x)),
    safeDerivative: (x, yTh) => (x > Math.log(yTh) ? 0 : Math.exp(x)),
  }),
  unary("log", 2, ["ln"], {
    safeValue: (x, yTh) => (Math.abs(x) < Math.exp(-yTh) ? -yTh : Math.log(Math.abs(x))),
    safeDerivative: (x, yTh) => (Math.abs(x) < Math.exp(-yTh) ? 0 : 1 / x),
  }),
  unary("abs", 3, []),
  unary("sin", 2, []),
  unary("cos", 2, []),
  unary("tan", 3, [], {
    safeValue: (x, yTh) => {
      const clip = clipPi(x), delta = tanDelta(yTh);
      return Math.abs(clip - Math.PI / 2) < delta ? -yTh / delta * (clip - Math.PI / 2) : Math.tan(clip);
    },
    safeDerivative: (x, yTh) => {
      const clip = clipPi(x), delta = tanDelta(yTh);
      return Math.abs(clip - Math.PI / 2) < delta ? -yTh / delta : 1 + Math.tan(clip) ** 2;
    },
  }),
  unary("tanh", 3, []),
  unary("sgn", 3, ["sign"]),
  unary("arcsin", 4, ["asin"], {
    safeValue: (x) => (Math.abs(x) > 1 ? Math.PI / 2 * Math.sign(x) : Math.asin(x)),
    safeDerivative: (x) => (Math.abs(x) >= 1 ? 0 : 1 / Math.sqrt(1 - x * x)),
  }),
  unary("arccos", 4, ["acos"], {
    safeValue: (x) => (Math.abs(x) > 1 ? Math.PI / 2 * (1 - Math.sign(x)) : Math.acos(x)),
    safeDerivative: (x) => (Math.abs(x) >= 1 ? 0 : -1 / Math.sqrt(1 - x * x)),
  }),
  unary("arctan", 4, ["atan"]),
  unary("arctanh", 4, ["atanh"], {
    safeValue: (x, yTh) => {
      const t = Math.tanh(yTh) - 1e-4;
      return Math.abs(x) > t ? Math.atanh(t) * Math.sign(x) : Math.atanh(x);
    },
    safeDerivative: (x, yTh) => (Math.abs(x) > Math.tanh(yTh) - 1e-4 ? 0 : 1 / (1 - x * x)),
  }),
  entry({
    name: "0",
    aliases: ["zero"],
    complexity: 0,
    value: () => 0,
    derivative: () => 0,
    expression: () => num(0),
  }),
  unary("gaussian", 3, ["exp(-x^2)"]),
];

const BY_NAME: ReadonlyMap<string, SymbolicFunction> = new Map(
  SYMBOLIC_LIBRARY.flatMap((f) => [f.name, ...f.aliases].map((n) => [n, f] as const)),
);

/**
 * The library entry called `name` (pykan's name or an alias); an unknown name
 * is a `KanError` that lists the library. `owner` names the caller.
 *
 * @example
 * ```ts
 * import { symbolicFunction } from "./library.ts";
 * const f = symbolicFunction("x²");
 * console.log(f.name, f.complexity, f.value(3)); // x^2 2 9
 * ```
 */
export function symbolicFunction(name: string, owner = "symbolicFunction"): SymbolicFunction {
  const f = typeof name === "string" ? BY_NAME.get(name.replace(/\s+/g, "")) : undefined;
  if (f === undefined) {
    throw new KanError(
      `${owner}: the symbolic function must be one of ${
        SYMBOLIC_LIBRARY.map((g) => g.name).join(", ")
      }, got ${JSON.stringify(name)}`,
    );
  }
  return f;
}
