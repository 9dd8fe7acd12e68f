/**
 * `deno task forgetting`: the catastrophic-forgetting experiment for every
 * model and optimizer setting; prints the 5 x 5 MSE matrices and writes, per
 * optimizer, an SVG like the paper's figure (per phase: the target, the points
 * shown, and each model's prediction).
 *
 * @module
 */

import { Gpu, KanError } from "../../mod.ts";
import {
  CENTERS,
  earlierRegionsMse,
  FORGETTING_MODELS,
  FORGETTING_OPTIMIZERS,
  type ForgettingRun,
  forgettingTarget,
  phaseInputs,
  PLOT_X,
  runForgetting,
} from "../experiments/forgetting.ts";
import { parseFlags, prepareOutDir, runCommand } from "./flags.ts";
import { lineChart } from "./svg.ts";

const HELP = `Catastrophic forgetting (KAN paper §3.5) for every model and optimizer.

Usage: deno task forgetting [--optimizer NAME] [--model TEXT] [--out DIR]
  --optimizer NAME   only this setting: ${FORGETTING_OPTIMIZERS.map((o) => `"${o.name}"`).join(", ")}
  --model TEXT       only models whose name contains TEXT
  --out DIR          where the SVGs go (default .)
  -h, --help         this text`;

/**
 * The y axis of the forgetting panels: the target's range (0 to 1) with a
 * margin, as in the KAN paper's figure; a model that forgets (the MLP reaches
 * 150) leaves the panel instead of flattening every other curve.
 */
export const FORGETTING_Y_RANGE: [number, number] = [-0.5, 1.5];

/** One SVG per optimizer: five panels, one per phase, on {@linkcode FORGETTING_Y_RANGE}. */
export function forgettingFigure(optimizer: string, runs: { name: string; run: ForgettingRun }[]): string {
  const width = 560;
  const height = 260;
  const panels = CENTERS.map((_, p) => {
    const shown = phaseInputs(p);
    const chart = lineChart([
      { name: "target", x: PLOT_X, y: PLOT_X.map(forgettingTarget) },
      { name: `points of phase ${p + 1}`, x: shown, y: shown.map(forgettingTarget), points: true },
      ...runs.map(({ name, run }) => ({ name, x: PLOT_X, y: run.predictions[p] })),
    ], {
      title: `${optimizer}: after phase ${p + 1}`,
      xLabel: "x",
      yLabel: "y",
      yRange: FORGETTING_Y_RANGE,
      width,
      height,
    });
    return `<g transform="translate(0, ${p * height})">${chart}</g>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${5 * height}">\n${
    panels.join("\n")
  }\n</svg>`;
}

/** Runs the experiment for the parsed command line; prints the matrices and the summary table. */
export async function forgettingCommand(
  args: string[],
  log: (line: string) => void = console.log,
): Promise<void> {
  const { values, help } = parseFlags(args, {
    optimizer: { type: "string" },
    model: { type: "string" },
    out: { type: "string", default: "." },
  });
  if (help) {
    log(HELP);
    return;
  }
  const optimizers = FORGETTING_OPTIMIZERS.filter((o) =>
    values.optimizer === undefined || o.name === values.optimizer
  );
  if (optimizers.length === 0) {
    throw new KanError(
      `--optimizer must be one of ${
        FORGETTING_OPTIMIZERS.map((o) => `"${o.name}"`).join(", ")
      }, got "${values.optimizer}"`,
    );
  }
  const models = FORGETTING_MODELS.filter((m) => values.model === undefined || m.name.includes(values.model));
  if (models.length === 0) {
    throw new KanError(
      `--model "${values.model}" matches none of ${FORGETTING_MODELS.map((m) => `"${m.name}"`).join(", ")}`,
    );
  }
  const out = values.out!;
  await prepareOutDir("out", out);
  const gpu = await Gpu.request();
  log(`adapter: ${gpu.adapterInfo.description}`);
  const summary: string[] = [];
  try {
    for (const optimizer of optimizers) {
      const runs: { name: string; run: ForgettingRun }[] = [];
      for (const model of models) {
        const run = await runForgetting(gpu, model, optimizer);
        runs.push({ name: model.name, run });
        log(
          `\n${model.name}, ${optimizer.name} (${run.seconds.toFixed(1)} s): MSE on region q after phase p`,
        );
        log(`  p\\q ${CENTERS.map((_, q) => `   ${q + 1}    `).join("")}`);
        run.matrix.forEach((row, p) =>
          log(`  ${p + 1}   ${row.map((v) => v.toExponential(1).padEnd(8)).join("")}`)
        );
        summary.push(
          `| ${model.name} | ${optimizer.name} | ${earlierRegionsMse(run.matrix).toExponential(2)} |`,
        );
      }
      const file = `${out}/forgetting-${optimizer.name.replace(/\s+/g, "-")}.svg`;
      await Deno.writeTextFile(file, forgettingFigure(optimizer.name, runs));
      log(`\nwrote ${file}`);
    }
  } finally {
    gpu.destroy();
  }
  log("\n| model | optimizer | mean MSE of the four earlier regions after phase 5 |\n|---|---|---|");
  log(summary.join("\n"));
}

if (import.meta.main) await runCommand(forgettingCommand);
