/**
 * `deno task grid-extension`: the KAN paper's grid-extension experiment
 * (Figure 2.3): `exp(sin(pi x) + y^2)` with a `[2, 5, 1]` B-spline KAN trained
 * with LBFGS at G = 3, then refined to each next grid size and trained again;
 * prints the train and test RMSE per grid size and writes
 * `grid-extension.svg` (RMSE against G, log-log).
 *
 * @module
 */

import { Gpu } from "../../mod.ts";
import { KanError } from "../errors.ts";
import {
  GRID_EXTENSION_DEFAULTS,
  type GridExtensionResult,
  runGridExtension,
} from "../experiments/grid_extension.ts";
import { integerFlag, integerList, parseFlags, prepareOutDir, runCommand } from "./flags.ts";
import { lineChart } from "./svg.ts";

const D = GRID_EXTENSION_DEFAULTS;

const HELP = `Grid extension (KAN paper, Figure 2.3): f(x, y) = exp(sin(pi x) + y^2),
${D.train} train / ${D.test} test points uniform on [-1, 1]^2, a B-spline KAN trained with
full-batch LBFGS at the first grid size, then refined (same function on a finer grid)
and trained again at each next one; the grid follows the data every ${D.gridUpdateEvery} steps
during the first ${D.stopGridUpdate} steps of each size (pykan's fit defaults).

Usage: deno task grid-extension [options]
  --grids LIST   comma-separated grid sizes (default ${D.grids.join(",")})
  --width LIST   comma-separated widths (default ${D.width.join(",")}; the paper also has 2,1,1)
  --steps N      LBFGS steps per grid size (default ${D.steps}; pykan's example: 200)
  --seed N       seed of the data and the initialization (default 0)
  --out DIR      where grid-extension.svg goes (default .)
  -h, --help     this text`;

/** The markdown table of `results`. */
export function gridExtensionTable(results: readonly GridExtensionResult[]): string {
  const lines = [
    "| G | parameters | train RMSE | test RMSE | test RMSE right after refine | seconds |",
    "|---|---|---|---|---|---|",
  ];
  for (const r of results) {
    lines.push(
      `| ${r.grid} | ${r.parameters} | ${r.trainRmse.toExponential(2)} | ${r.testRmse.toExponential(2)} | ${
        r.testRmseAtRefine === null ? "–" : r.testRmseAtRefine.toExponential(2)
      } | ${r.seconds.toFixed(1)} |`,
    );
  }
  return lines.join("\n");
}

/** The SVG: train and test RMSE against the grid size, log-log (x as log10 G). */
export function gridExtensionFigure(
  results: readonly GridExtensionResult[],
  width: readonly number[],
): string {
  const logGrid = results.map((r) => Math.log10(r.grid));
  return lineChart([
    { name: "train RMSE", x: logGrid, y: results.map((r) => r.trainRmse) },
    { name: "test RMSE", x: logGrid, y: results.map((r) => r.testRmse) },
    {
      name: "G^-4 (the paper's scaling), through the first test point",
      x: logGrid,
      y: results.map((r) => results[0].testRmse * (r.grid / results[0].grid) ** -4),
    },
  ], {
    title: `grid extension: exp(sin(πx)+y²), KAN [${width.join(", ")}], LBFGS`,
    xLabel: "log10 G (grid intervals)",
    yLabel: "RMSE",
    logY: true,
  });
}

/** Runs the experiment for the parsed command line; returns the results. */
export async function gridExtensionCommand(
  args: string[],
  log: (line: string) => void = console.log,
): Promise<GridExtensionResult[]> {
  const { values, help } = parseFlags(args, {
    grids: { type: "string" },
    width: { type: "string" },
    steps: { type: "string" },
    seed: { type: "string" },
    out: { type: "string", default: "." },
  });
  if (help) {
    log(HELP);
    return [];
  }
  const grids = integerList("grids", values.grids, D.grids);
  const width = integerList("width", values.width, D.width);
  if (width.length < 2 || width[0] !== 2 || width[width.length - 1] !== 1) {
    throw new KanError(
      `--width must start with 2 and end with 1 (f has 2 inputs, 1 output), got ${values.width}`,
    );
  }
  const steps = integerFlag("steps", values.steps, D.steps, 1);
  const seed = integerFlag("seed", values.seed, 0, 0);
  await prepareOutDir("out", values.out!);
  const gpu = await Gpu.request();
  log(
    `adapter: ${gpu.adapterInfo.description}; KAN [${width.join(", ")}], ${steps} LBFGS steps per grid size`,
  );
  let results: GridExtensionResult[] = [];
  try {
    results = await runGridExtension(gpu, {
      grids,
      width,
      steps,
      seed,
      onResult: (r) =>
        log(
          `G ${String(r.grid).padStart(4)}  train RMSE ${r.trainRmse.toExponential(2)}  test RMSE ${
            r.testRmse.toExponential(2)
          }  (${r.seconds.toFixed(1)} s)`,
        ),
    });
  } finally {
    gpu.destroy();
  }
  const file = `${values.out}/grid-extension.svg`;
  await Deno.writeTextFile(file, gridExtensionFigure(results, width));
  log(`wrote ${file}`);
  log(`\n${gridExtensionTable(results)}`);
  return results;
}

if (import.meta.main) await runCommand(gridExtensionCommand);
