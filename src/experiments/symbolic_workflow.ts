/**
 * The KAN paper's interpretability workflow, end to end, as pykan's "hello
 * world" runs it: sample a formula on [-1, 1]^D, train a B-spline KAN with
 * sparsity regularization and grid updates, score and prune it, train again,
 * refine the grid, train again, snap every edge to a library function, train
 * the symbols' parameters, compose the formula, refit its constants in
 * float64, and measure it against the formula it came from on a test set.
 *
 * @module
 */

import type { Gpu } from "../gpu/gpu.ts";
import { KanError } from "../errors.ts";
import { kan } from "../layers/kan.ts";
import type { Sequential } from "../layers/sequential.ts";
import { Rng } from "../layers/init.ts";
import { Tensor } from "../tensor.ts";
import { LBFGS } from "../train/lbfgs.ts";
import { Adam } from "../train/adam.ts";
import { evaluateExpression, type Expr, formatExpression, parseExpression } from "../symbolic/expression.ts";
import { refitConstants } from "../symbolic/refit.ts";
import { simplifyExpression } from "../symbolic/simplify.ts";
import { roundConstants } from "../symbolic/simplify_round.ts";
import { attribute } from "../interpret/attribution.ts";
import { prune } from "../interpret/prune.ts";
import { refineModel } from "../interpret/grid_refine.ts";
import { autoSymbolic, type EdgeChoice, symbolicFormula } from "../interpret/symbolic_model.ts";
import { edgeCurves, type LayerCurves } from "../interpret/edge_curves.ts";

/** pykan's default library for `auto_symbolic` in its examples. */
export const WORKFLOW_LIBRARY: readonly string[] = [
  "x",
  "x^2",
  "x^3",
  "x^4",
  "exp",
  "log",
  "sqrt",
  "tanh",
  "sin",
  "abs",
];

/** The workflow's settings, with the defaults of pykan's examples. */
export interface SymbolicWorkflowOptions {
  /** The formula to recover, in `x1..xD` (see `parseExpression`). */
  expr: string;
  /** Its number of inputs `D`. */
  inputs: number;
  /** The KAN's widths (default `[D, 5, 1]`). */
  width?: number[];
  /** The range every input is sampled from (default [-1, 1], pykan's `create_dataset`'s). */
  range?: [number, number];
  /** Seed of the data and the initialization (default 1, pykan's examples'). */
  seed?: number;
  /** Training and test rows (default 1,000 each, pykan's `create_dataset`). */
  trainSize?: number;
  /** Test rows (default 1,000). */
  testSize?: number;
  /** The grid of the first phase (default 3) and the refined grid (default 10). */
  grids?: [number, number];
  /**
   * The optimizer of every training phase: `"lbfgs"` (pykan's, lr 1, history
   * 10, strong Wolfe) or `"adam"` (lr `adamLr`, quicker per step, no readback
   * per evaluation). Default `"lbfgs"`.
   */
  optimizer?: "lbfgs" | "adam";
  /** Steps of each training phase (default 50 for LBFGS, pykan's examples'; 500 for Adam). */
  steps?: number;
  /** Adam's learning rate (default 1e-2). */
  adamLr?: number;
  /** Sparsity regularization of the first phase (default 1e-3). */
  lamb?: number;
  /** The library `autoSymbolic` chooses from (default {@linkcode WORKFLOW_LIBRARY}). */
  lib?: readonly string[];
  /** Prints what each phase did. */
  log?: (line: string) => void;
}

/** What the workflow found. */
export interface SymbolicWorkflowResult {
  /** The widths after pruning. */
  widths: number[];
  /** Each kept edge's symbol and R². */
  choices: EdgeChoice[];
  /** The formula (simplified, constants refit and rounded), printed with 4 significant digits. */
  formula: string;
  /** The formula as an expression. */
  expression: Expr;
  /** The printed formula's MSE on the test set against the target formula. */
  formulaTestMse: number;
  /** The MSE on the test set of the refined (numeric) model before it went symbolic. */
  numericTestMse: number;
  /** The pruned model's edge curves before the symbols were chosen (for the plot). */
  curves: LayerCurves[];
  /** The pruned, refined numeric model's attribution scores (for the plot). */
  scores: { edgeScores: Float64Array[]; nodeScores: Float64Array[] };
  /** The refined numeric model (for the plot); the caller disposes it. */
  model: Sequential;
}

function uniformRows(rng: Rng, rows: number, inputs: number, [lo, hi]: [number, number]): Float64Array {
  return Float64Array.from({ length: rows * inputs }, () => lo + (hi - lo) * rng.uniform());
}

async function testMse(model: Sequential, x: Tensor, y: ArrayLike<number>): Promise<number> {
  const out = model.forward(x);
  const values = await out.read();
  out.dispose();
  let sum = 0;
  for (let k = 0; k < values.length; k++) sum += (values[k] - y[k]) ** 2;
  return sum / values.length;
}

/**
 * Runs the workflow (see the module doc) on `gpu`.
 *
 * @example
 * ```ts ignore
 * import { Gpu } from "../../mod.ts";
 * import { runSymbolicWorkflow } from "./symbolic_workflow.ts";
 * const gpu = await Gpu.request();
 * const r = await runSymbolicWorkflow(gpu, { expr: "exp(sin(pi*x1) + x2^2)", inputs: 2 });
 * console.log(r.widths, r.formula, r.formulaTestMse);
 * r.model.dispose();
 * gpu.destroy();
 * ```
 */
export async function runSymbolicWorkflow(
  gpu: Gpu,
  options: SymbolicWorkflowOptions,
): Promise<SymbolicWorkflowResult> {
  const { inputs } = options;
  const target = parseExpression(options.expr, inputs);
  const width = options.width ?? [inputs, 5, 1];
  if (width[0] !== inputs || width.at(-1) !== 1) {
    throw new KanError(
      `symbolic workflow: width ${JSON.stringify(width)} must start with ${inputs} and end with 1`,
    );
  }
  const seed = options.seed ?? 1;
  const [grid, fineGrid] = options.grids ?? [3, 10];
  const useAdam = options.optimizer === "adam";
  const steps = options.steps ?? (useAdam ? 500 : 50);
  const lamb = options.lamb ?? 1e-3;
  const log = options.log ?? (() => {});
  const rng = new Rng(seed);
  const range = options.range ?? [-1, 1];
  if (!(Number.isFinite(range[0]) && Number.isFinite(range[1]) && range[0] < range[1])) {
    throw new KanError(
      `symbolic workflow: range ${JSON.stringify(range)} must be two finite numbers lo < hi`,
    );
  }
  const trainRows = uniformRows(rng, options.trainSize ?? 1000, inputs, range);
  const testRows = uniformRows(rng, options.testSize ?? 1000, inputs, range);
  const trainY = evaluateExpression(target, trainRows, inputs);
  const testY = evaluateExpression(target, testRows, inputs);
  if (![...trainY, ...testY].every(Number.isFinite)) {
    throw new KanError(
      `symbolic workflow: "${options.expr}" is not finite everywhere on [${range[0]}, ${range[1]}]^${inputs}`,
    );
  }
  const x = Tensor.from(gpu, trainRows, [trainY.length, inputs]);
  const y = Tensor.from(gpu, trainY, [trainY.length, 1]);
  const xTest = Tensor.from(gpu, testRows, [testY.length, inputs]);
  const owned: Sequential[] = [];
  const train = async (model: Sequential, extra: Record<string, unknown> = {}) => {
    const optimizer = useAdam
      ? new Adam({ lr: options.adamLr ?? 1e-2 })
      : new LBFGS({ lr: 1, historySize: 10 });
    try {
      const h = await model.fit({ x, y, loss: "mse", optimizer, steps, progress: "none", ...extra });
      return h.loss.at(-1)!;
    } finally {
      optimizer.dispose();
    }
  };
  try {
    const model = kan(gpu, width, { basis: "bspline", gridSize: grid, seed });
    owned.push(model);
    let loss = await train(model, { lamb, updateGrid: true });
    log(`trained ${JSON.stringify(width)}, G = ${grid}, lamb = ${lamb}: objective ${loss.toExponential(2)}`);
    const scores = await attribute(model, x);
    const first = await prune(model, scores, { x });
    owned.push(first.model);
    // As pykan's prune, the edges are judged again on the smaller model: a node left with every edge masked
    // carries only a constant, which the second pass folds into the bias and removes.
    const pruned = await prune(first.model, await attribute(first.model, x), { x });
    owned.push(pruned.model);
    log(`pruned to ${JSON.stringify(first.widths)}, then ${JSON.stringify(pruned.widths)}`);
    loss = await train(pruned.model, { updateGrid: true });
    log(`trained the pruned model: train MSE ${loss.toExponential(2)}`);
    const refined = await refineModel(pruned.model, fineGrid);
    owned.push(refined);
    loss = await train(refined, { updateGrid: true });
    const numericTestMse = await testMse(refined, xTest, testY);
    log(
      `refined to G = ${fineGrid}: train MSE ${loss.toExponential(2)}, test MSE ${
        numericTestMse.toExponential(2)
      }`,
    );
    const curves = await edgeCurves(refined, x);
    const finalScores = await attribute(refined, x);
    const auto = await autoSymbolic(refined, x, { lib: options.lib ?? WORKFLOW_LIBRARY });
    owned.push(auto.model);
    for (const c of auto.choices) {
      log(`  edge (layer ${c.layer}, in ${c.in}, out ${c.out}): ${c.name}, r2 = ${c.r2.toFixed(6)}`);
    }
    // The symbols' a, b, c, d train on the GPU. A function taken outside its domain on the way (sqrt or
    // log of a negative, as pykan's fit without singularity_avoiding) makes the loss NaN: then the fitted
    // symbols stay as they were and the float64 refit below does the rest.
    const fitted = await auto.model.stateDict();
    try {
      loss = await train(auto.model);
      log(`trained the symbolic model: train MSE ${loss.toExponential(2)}`);
    } catch (error) {
      if (!(error instanceof KanError) || !/became (NaN|-?Infinity)/.test(error.message)) throw error;
      auto.model.loadStateDict(fitted);
      log(`training the symbolic model left a function's domain (${error.message}); kept the fitted symbols`);
    }
    const composed = (await symbolicFormula(auto.model)).expressions[0];
    const refit = refitConstants(composed, trainRows, trainY, inputs, { steps: 200 });
    // Constants snapped to simple values (integers, p/q, k·pi/q) where the training MSE allows, as pykan's ex_round.
    // Twice: the simplifier brings sin/cos/tan shifts into (-π, π] once the rounding has made them exact.
    const tidy = (e: Expr) => roundConstants(simplifyExpression(e), trainRows, trainY, inputs).expr;
    const expression = tidy(tidy(refit.expr));
    // The formula as printed (4 significant digits) is the one measured, so the two lines agree.
    const formula = formatExpression(expression, 4);
    const printed = parseExpression(formula, inputs);
    const predicted = evaluateExpression(printed, testRows, inputs);
    let sum = 0;
    for (let k = 0; k < predicted.length; k++) sum += (predicted[k] - testY[k]) ** 2;
    const formulaTestMse = sum / predicted.length;
    owned.splice(owned.indexOf(refined), 1);
    return {
      widths: pruned.widths,
      choices: auto.choices,
      formula,
      expression: printed,
      formulaTestMse,
      numericTestMse,
      curves,
      scores: {
        edgeScores: finalScores.edgeScores.map((s) => Float64Array.from(s)),
        nodeScores: finalScores.nodeScores.map((s) => Float64Array.from(s)),
      },
      model: refined,
    };
  } finally {
    for (const m of owned) m.dispose();
    for (const t of [x, y, xTest]) t.dispose();
  }
}
