/**
 * `deno task symbolic`: the KAN paper's interpretability workflow on a
 * formula (`src/experiments/symbolic_workflow.ts`): prints the pruned widths,
 * each edge's symbol with its R², and ends with the two lines
 * `formula: <formula>` and `formula test MSE: <number>`.
 *
 * @module
 */

import { Gpu } from "../../mod.ts";
import { KanError } from "../errors.ts";
import { parseExpression } from "../symbolic/expression.ts";
import {
  runSymbolicWorkflow,
  type SymbolicWorkflowResult,
  WORKFLOW_LIBRARY,
} from "../experiments/symbolic_workflow.ts";
import { plotNetwork } from "../interpret/network_plot.ts";
import { COUNT, integer, NON_NEGATIVE } from "../validate.ts";
import { checkWritableFile, integerFlag, integerList, numberFlag, parseFlags, runCommand } from "./flags.ts";

const HELP = `The KAN paper's interpretability workflow (pykan's): sample EXPR on [-1, 1]^D, train a
B-spline KAN with sparsity regularization and grid updates (LBFGS), prune it, train, refine the
grid, train, snap every edge to a library function, train the symbols, compose the formula,
refit its constants, and test it against EXPR.

Usage: deno task symbolic --expr "EXPR" --inputs D [options]
  --expr EXPR        the formula, in x1..xD, pi, e, + - * / ^ and the library's functions,
                     e.g. "exp(sin(pi*x1) + x2^2)"
  --inputs D         its number of inputs
  --width LIST       the KAN's widths (default D,5,1)
  --basis NAME       the edges' basis: bspline (the only one whose edges pykan's workflow reads)
  --range LO,HI      the range of every input (default -1,1)
  --seed N           seed of the data and the initialization (default 1)
  --steps N          LBFGS steps of each training phase (default 50)
  --lamb X           sparsity regularization of the first phase (default 1e-3)
  --grids G1,G2      the first grid and the refined one (default 3,10)
  --lib LIST         library functions autoSymbolic may choose (default ${WORKFLOW_LIBRARY.join(",")})
  --train-size N     training rows (default 1000)
  --test-size N      test rows (default 1000)
  --plot FILE.svg    write the network (pruned, refined), every edge's curve and symbol
  -h, --help         this text`;

/** The widths of `--width`: comma-separated counts, from `--inputs` to 1. */
function widthFlag(value: string | undefined, inputs: number): number[] {
  const widths = integerList("width", value, [inputs, 5, 1]);
  if (widths.length < 2 || widths[0] !== inputs || widths.at(-1) !== 1) {
    throw new KanError(
      `--width: "${value}" must have at least two widths, start with --inputs ${inputs} and end with 1`,
    );
  }
  return widths;
}

/** Runs the workflow for the parsed command line; returns its result (null for --help). */
export async function symbolicCommand(
  args: string[],
  log: (line: string) => void = console.log,
): Promise<SymbolicWorkflowResult | null> {
  const { values, help } = parseFlags(args, {
    expr: { type: "string" },
    inputs: { type: "string" },
    width: { type: "string" },
    basis: { type: "string", default: "bspline" },
    range: { type: "string" },
    seed: { type: "string" },
    steps: { type: "string" },
    lamb: { type: "string" },
    grids: { type: "string" },
    lib: { type: "string" },
    "train-size": { type: "string" },
    "test-size": { type: "string" },
    plot: { type: "string" },
  });
  if (help) {
    log(HELP);
    return null;
  }
  if (values.expr === undefined) throw new KanError(`--expr is required (a formula in x1..xD); see --help`);
  const inputs = numberFlag("inputs", values.inputs, COUNT, undefined);
  if (inputs === undefined) throw new KanError(`--inputs is required (the number of variables); see --help`);
  parseExpression(values.expr, inputs); // refuses a formula that does not parse before any work
  if (values.basis !== "bspline") {
    throw new KanError(
      `--basis: "${values.basis}" is not supported here; the workflow reads B-spline edges (pykan's), ` +
        `use --basis bspline`,
    );
  }
  const grids = values.grids === undefined ? undefined : integerList("grids", values.grids, []);
  if (grids && grids.length !== 2) {
    throw new KanError(`--grids: "${values.grids}" must be two grids, e.g. 3,10`);
  }
  const lib = values.lib?.split(",").map((v) => v.trim());
  const range = values.range?.split(",").map((v) => v.trim() === "" ? Number.NaN : Number(v));
  if (range && (range.length !== 2 || !range.every(Number.isFinite) || !(range[0] < range[1]))) {
    throw new KanError(
      `--range: "${values.range}" must be two finite numbers LO,HI with LO < HI, e.g. 0.5,2`,
    );
  }
  if (values.plot !== undefined) await checkWritableFile("plot", values.plot);
  const options = {
    expr: values.expr,
    inputs,
    width: widthFlag(values.width, inputs),
    seed: integerFlag("seed", values.seed, 1, 0),
    steps: integerFlag("steps", values.steps, 50, 1),
    lamb: numberFlag("lamb", values.lamb, NON_NEGATIVE, 1e-3),
    trainSize: numberFlag("train-size", values["train-size"], integer(2), 1000),
    testSize: integerFlag("test-size", values["test-size"], 1000, 1),
    log,
    ...(grids ? { grids: grids as [number, number] } : {}),
    ...(lib ? { lib } : {}),
    ...(range ? { range: range as [number, number] } : {}),
  };
  const gpu = await Gpu.request();
  try {
    log(`adapter: ${gpu.adapterInfo.description}`);
    const result = await runSymbolicWorkflow(gpu, options);
    try {
      log(`pruned widths: ${JSON.stringify(result.widths)}`);
      for (const c of result.choices) {
        log(
          `edge (layer ${c.layer}, input ${c.in + 1}, output ${c.out + 1}): ${c.name}  R² ${c.r2.toFixed(6)}`,
        );
      }
      if (values.plot !== undefined) {
        const symbols = result.model.layers.map((layer, l) =>
          Array.from(
            { length: layer.inFeatures * layer.outFeatures },
            (_, e) =>
              result.choices.find((c) => c.layer === l && c.out * layer.inFeatures + c.in === e)?.name ??
                null,
          )
        );
        const svg = plotNetwork(result.model, result.curves, result.scores, { symbols, title: values.expr });
        await Deno.writeTextFile(values.plot, svg);
        log(`wrote ${values.plot}`);
      }
    } finally {
      result.model.dispose();
    }
    log(`formula: ${result.formula}`);
    log(`formula test MSE: ${result.formulaTestMse.toExponential(3)}`);
    return result;
  } finally {
    gpu.destroy();
  }
}

if (import.meta.main) await runCommand(symbolicCommand);
