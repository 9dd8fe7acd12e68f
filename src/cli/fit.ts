/**
 * `deno task fit`: the function-fitting table (ReLU-KAN paper protocol) for
 * every family member and the MLP on f1..f6; prints train MSE, test MSE, the
 * reference, seconds and steps/s per model, and writes one SVG per function
 * with the target and every model's fit.
 *
 * @module
 */

import { Gpu } from "../../mod.ts";
import { FUNCTIONS } from "../data/synthetic.ts";
import {
  FIT_FUNCTIONS,
  FIT_MODEL_TITLES,
  FIT_MODELS,
  FIT_PROTOCOL,
  FIT_REFERENCE,
  type FitModel,
  type FitResult,
  plotLine,
  runFit,
} from "../experiments/fitting.ts";
import { integerFlag, listFlag, parseFlags, prepareOutDir, runCommand } from "./flags.ts";
import { lineChart } from "./svg.ts";

const HELP = `Function fitting (ReLU-KAN paper protocol): 1,000 train / 100 test points,
full-batch Adam lr 1e-3, MSE, 5,000 steps, for every model on every function.

Usage: deno task fit [options]
  --functions LIST   comma-separated, from ${FIT_FUNCTIONS.join(",")} (default all)
  --models LIST      comma-separated, from ${FIT_MODELS.join(",")} (default all)
  --steps N          Adam steps (default ${FIT_PROTOCOL.steps})
  --seed N           seed of the data and the initialization (default 0)
  --out DIR          where fit-<function>.svg go (default .)
  -h, --help         this text`;

/** The markdown table of `results`, with the reference figures beside them. */
export function fitTable(results: readonly FitResult[]): string {
  const lines = [
    "| function | model | train MSE | test MSE | reference test MSE | seconds | steps/s |",
    "|---|---|---|---|---|---|---|",
  ];
  for (const r of results) {
    const ref = FIT_REFERENCE[r.fn]?.[r.model];
    lines.push(
      `| ${r.fn} ${FUNCTIONS[r.fn].formula} | ${FIT_MODEL_TITLES[r.model]} | ${
        r.trainMse.toExponential(2)
      } | ` +
        `${r.testMse.toExponential(2)} | ${ref === undefined ? "–" : ref.toExponential(1)} | ` +
        `${r.seconds.toFixed(1)} | ${r.stepsPerSecond.toFixed(0)} |`,
    );
  }
  return lines.join("\n");
}

/** The SVG of one function: the target along the diagonal and every model's fit. */
export function fitFigure(fnName: string, results: readonly FitResult[]): string {
  const fn = FUNCTIONS[fnName];
  const line = plotLine(fn);
  const along = fn.inputs === 1 ? "x" : `t, with x = (${Array(fn.inputs).fill("t").join(", ")})`;
  return lineChart([
    { name: "target", x: line.t, y: line.y },
    ...results.filter((r) => r.fn === fnName).map((r) => ({
      name: `${FIT_MODEL_TITLES[r.model]} (test MSE ${r.testMse.toExponential(1)})`,
      x: line.t,
      y: r.curve,
    })),
  ], { title: `${fnName}: ${fn.formula}`, xLabel: along, yLabel: "y" });
}

/**
 * Runs the protocol for every function and model, logging each result, and
 * writes `out/fit-<function>.svg` per function; returns the results in order.
 */
export async function fitFunctions(
  gpu: Gpu,
  functions: readonly string[],
  models: readonly FitModel[],
  options: { steps: number; seed: number; out: string },
  log: (line: string) => void,
): Promise<FitResult[]> {
  const results: FitResult[] = [];
  for (const fnName of functions) {
    for (const model of models) {
      const r = await runFit(gpu, fnName, model, { steps: options.steps, seed: options.seed });
      results.push(r);
      log(
        `${fnName} ${FIT_MODEL_TITLES[model].padEnd(12)} train ${r.trainMse.toExponential(2)}  test ${
          r.testMse.toExponential(2)
        }  ${r.seconds.toFixed(1)} s  ${r.stepsPerSecond.toFixed(0)} steps/s`,
      );
    }
    const file = `${options.out}/fit-${fnName}.svg`;
    await Deno.writeTextFile(file, fitFigure(fnName, results));
    log(`wrote ${file}`);
  }
  return results;
}

/** Runs the table for the parsed command line; returns every result. */
export async function fitCommand(
  args: string[],
  log: (line: string) => void = console.log,
): Promise<FitResult[]> {
  const { values, help } = parseFlags(args, {
    functions: { type: "string" },
    models: { type: "string" },
    steps: { type: "string" },
    seed: { type: "string" },
    out: { type: "string", default: "." },
  });
  if (help) {
    log(HELP);
    return [];
  }
  const functions = listFlag("functions", values.functions, FIT_FUNCTIONS);
  const models = listFlag<FitModel>("models", values.models, FIT_MODELS);
  const steps = integerFlag("steps", values.steps, FIT_PROTOCOL.steps, 1);
  const seed = integerFlag("seed", values.seed, 0, 0);
  // Made before training, so that a run never ends without a place for its figures.
  await prepareOutDir("out", values.out!);
  const gpu = await Gpu.request();
  log(`adapter: ${gpu.adapterInfo.description}; ${steps} full-batch Adam steps per model`);
  const results: FitResult[] = [];
  try {
    results.push(...await fitFunctions(gpu, functions, models, { steps, seed, out: values.out! }, log));
  } finally {
    gpu.destroy();
  }
  log(`\n${fitTable(results)}`);
  return results;
}

if (import.meta.main) await runCommand(fitCommand);
