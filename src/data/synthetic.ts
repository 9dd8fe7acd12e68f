/**
 * The benchmark functions of the KAN papers as seeded data sets: points
 * uniform on [0, 1)^d (the ReLU-KAN protocol) and their targets.
 *
 * @module
 */

import { evaluateExpression, parseExpression } from "../symbolic/expression.ts";
import { KanError } from "../errors.ts";
import { Rng } from "../layers/init.ts";

/** A target function and the model width the papers fit it with. */
export interface BenchmarkFunction {
  /** Short name, e.g. `"f1"`. */
  name: string;
  /** The formula, for tables. */
  formula: string;
  /** Input dimension. */
  inputs: number;
  /** The KAN width used for it: `[d, ..., 1]`. */
  width: number[];
  /** Grid size used for it. */
  grid: number;
  /** Input range per dimension. */
  range: [number, number];
  /** The function. */
  f(x: ArrayLike<number>): number;
}

const { sin, exp, PI } = Math;

/**
 * f1..f6 of the fitting experiment (ReLU-KAN paper, with f6 its 4-D function),
 * and MATLAB's `peaks` on [-3, 3]^2.
 */
export const FUNCTIONS: Record<string, BenchmarkFunction> = {
  f1: {
    name: "f1",
    formula: "sin(πx)",
    inputs: 1,
    width: [1, 1],
    grid: 5,
    range: [0, 1],
    f: (x) => sin(PI * x[0]),
  },
  f2: {
    name: "f2",
    formula: "sin(5πx)+x",
    inputs: 1,
    width: [1, 1],
    grid: 5,
    range: [0, 1],
    f: (x) => sin(5 * PI * x[0]) + x[0],
  },
  f3: {
    name: "f3",
    formula: "exp(x)",
    inputs: 1,
    width: [1, 1],
    grid: 5,
    range: [0, 1],
    f: (x) => exp(x[0]),
  },
  f4: {
    name: "f4",
    formula: "sin(πx1+πx2)",
    inputs: 2,
    width: [2, 5, 1],
    grid: 5,
    range: [0, 1],
    f: (x) => sin(PI * x[0] + PI * x[1]),
  },
  f5: {
    name: "f5",
    formula: "exp(sin(πx1)+x2²)",
    inputs: 2,
    width: [2, 5, 1],
    grid: 5,
    range: [0, 1],
    f: (x) => exp(sin(PI * x[0]) + x[1] ** 2),
  },
  f6: {
    name: "f6",
    formula: "exp(sin(πx1²+πx2²)+sin(πx3²+πx4²))",
    inputs: 4,
    width: [4, 4, 2, 1],
    grid: 10,
    range: [0, 1],
    f: (x) => exp(sin(PI * x[0] ** 2 + PI * x[1] ** 2) + sin(PI * x[2] ** 2 + PI * x[3] ** 2)),
  },
  peaks: {
    name: "peaks",
    formula: "peaks(x, y)",
    inputs: 2,
    width: [2, 5, 1],
    grid: 5,
    range: [-3, 3],
    f: (p) => {
      const [x, y] = [p[0], p[1]];
      return 3 * (1 - x) ** 2 * exp(-(x ** 2) - (y + 1) ** 2) -
        10 * (x / 5 - x ** 3 - y ** 5) * exp(-(x ** 2) - y ** 2) -
        exp(-((x + 1) ** 2) - y ** 2) / 3;
    },
  },
};

/** Rows of inputs and targets. */
export interface Dataset {
  /** Inputs, `[rows, inputs]` row-major. */
  x: Float32Array;
  /** Targets, `[rows, 1]` (regression) or class ids `[rows]`. */
  y: Float32Array;
  /** Number of rows. */
  rows: number;
}

/** A train and a test set of one function. */
export interface Split {
  /** The function. */
  fn: BenchmarkFunction;
  /** Training points. */
  train: Dataset;
  /** Test points. */
  test: Dataset;
}

/** `rows` points of `fn` uniform on its range, from `rng`. */
export function sample(fn: BenchmarkFunction, rows: number, rng: Rng): Dataset {
  const x = new Float32Array(rows * fn.inputs);
  const y = new Float32Array(rows);
  const [lo, hi] = fn.range;
  for (let r = 0; r < rows; r++) {
    for (let d = 0; d < fn.inputs; d++) x[r * fn.inputs + d] = lo + (hi - lo) * rng.uniform();
    y[r] = fn.f(x.subarray(r * fn.inputs, (r + 1) * fn.inputs));
  }
  return { x, y, rows };
}

/** The protocol's data: `train` (1,000) and `test` (100) points from one seed. */
export function functionSplit(
  name: string | BenchmarkFunction,
  options: { train?: number; test?: number; seed?: number } = {},
): Split {
  const fn = typeof name === "string" ? FUNCTIONS[name] : name;
  if (!fn) throw new KanError(`unknown function "${name}" (known: ${Object.keys(FUNCTIONS).join(", ")})`);
  const rng = new Rng(options.seed ?? 0);
  return { fn, train: sample(fn, options.train ?? 1000, rng), test: sample(fn, options.test ?? 100, rng) };
}

/**
 * A formula (`parseExpression`'s language: `x1..xD`, `pi`, `e`, `+ - * / ^`
 * and the symbolic library's functions) as a benchmark function on
 * `[-1, 1]^inputs`, fitted with a `[inputs, 5, 1]` KAN on grid 5 (the KAN
 * paper's examples). A formula that does not parse is a `KanError`.
 *
 * @example
 * ```ts
 * import { expressionFunction } from "./synthetic.ts";
 * const fn = expressionFunction("exp(sin(pi*x1) + x2^2)", 2);
 * console.log(fn.f(new Float32Array([0.5, 1]))); // e^2 = 7.389...
 * ```
 */
export function expressionFunction(text: string, inputs: number): BenchmarkFunction {
  const expr = parseExpression(text, inputs);
  return {
    name: "expr",
    formula: text,
    inputs,
    width: [inputs, 5, 1],
    grid: 5,
    range: [-1, 1],
    f: (x) => evaluateExpression(expr, x, inputs)[0],
  };
}
