/**
 * `deno task report`: the fitting table, the forgetting experiment and a short
 * speed set in one run; writes `REPORT.md` and its SVGs into one folder so
 * that the family's comparison reads at a glance.
 *
 * @module
 */

import { Gpu, KanError } from "../../mod.ts";
import {
  earlierRegionsMse,
  FORGETTING_MODELS,
  FORGETTING_OPTIMIZERS,
  type ForgettingRun,
  runForgetting,
} from "../experiments/forgetting.ts";
import { FIT_FUNCTIONS, FIT_MODEL_TITLES, FIT_MODELS, FIT_PROTOCOL } from "../experiments/fitting.ts";
import { SPEED_FUNCTIONS, SPEED_REFERENCE_SECONDS, speedJob } from "../experiments/speed.ts";
import { fitFunctions, fitTable } from "./fit.ts";
import { forgettingFigure } from "./forgetting.ts";
import { integerFlag, listFlag, parseFlags, prepareOutDir, runCommand } from "./flags.ts";

const HELP = `Writes REPORT.md with the fitting table, the forgetting experiment and a short speed set.

Usage: deno task report [options]
  --out DIR              folder of REPORT.md and its SVGs (default .)
  --fit-steps N          Adam steps of the fitting table (default ${FIT_PROTOCOL.steps}, the protocol)
  --functions LIST       fitting functions (default ${FIT_FUNCTIONS.join(",")})
  --optimizers LIST      forgetting optimizers, by name, separated by commas (default all:
                         ${FORGETTING_OPTIMIZERS.map((o) => o.name).join(", ")})
  --speed-steps N        Adam steps per speed measurement (default 500, the paper's)
  -h, --help             this text`;

/**
 * `args` as a shell would need them typed: an argument with a space, a quote
 * or another character the shell reads is put in single quotes.
 *
 * @example
 * ```ts
 * import { shellWords } from "./report.ts";
 * console.log(shellWords(["--optimizers", "Adam 1e-2,LBFGS"])); // --optimizers 'Adam 1e-2,LBFGS'
 * ```
 */
export function shellWords(args: readonly string[]): string {
  return args.map((a) => /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`).join(" ");
}

/** Seconds of `steps` Adam steps for every speed-test function and model, as a markdown table. */
async function speedTable(gpu: Gpu, steps: number, log: (line: string) => void): Promise<string> {
  const lines = [
    `| function | width | ${
      FIT_MODELS.map((m) => FIT_MODEL_TITLES[m]).join(" | ")
    } | PyTorch 2 cores: ReLU-KAN / B-spline |`,
    `|---|---|${FIT_MODELS.map(() => "---|").join("")}---|`,
  ];
  for (const [f, fn] of SPEED_FUNCTIONS.entries()) {
    const cells: string[] = [];
    for (const model of FIT_MODELS) {
      const job = speedJob(gpu, fn, model);
      try {
        await job.train(1);
        const start = performance.now();
        await job.train(steps);
        cells.push(((performance.now() - start) / 1000).toFixed(2));
      } finally {
        job.dispose();
      }
    }
    const ref = (m: "relu" | "bspline") => SPEED_REFERENCE_SECONDS[m]![f] * steps / 500;
    lines.push(
      `| ${fn.formula} | ${JSON.stringify(fn.width)} | ${cells.join(" | ")} | ${ref("relu").toFixed(2)} / ${
        ref("bspline").toFixed(2)
      } |`,
    );
    log(lines.at(-1)!);
  }
  return lines.join("\n");
}

/** Runs everything the command line asks for and writes the report; returns its path. */
export async function reportCommand(
  args: string[],
  log: (line: string) => void = console.log,
): Promise<string> {
  const { values, help } = parseFlags(args, {
    out: { type: "string", default: "." },
    "fit-steps": { type: "string" },
    functions: { type: "string" },
    optimizers: { type: "string" },
    "speed-steps": { type: "string" },
  });
  if (help) {
    log(HELP);
    return "";
  }
  const fitSteps = integerFlag("fit-steps", values["fit-steps"], FIT_PROTOCOL.steps, 1);
  const speedSteps = integerFlag("speed-steps", values["speed-steps"], 500, 1);
  const functions = listFlag("functions", values.functions, FIT_FUNCTIONS);
  const optimizerNames = values.optimizers?.split(",").map((s) => s.trim());
  const optimizers = FORGETTING_OPTIMIZERS.filter((o) => !optimizerNames || optimizerNames.includes(o.name));
  if (optimizerNames && optimizers.length !== optimizerNames.length) {
    throw new KanError(`--optimizers: known are ${FORGETTING_OPTIMIZERS.map((o) => o.name).join(", ")}`);
  }
  const out = values.out!;
  await prepareOutDir("out", out);
  const gpu = await Gpu.request();
  const adapter = gpu.adapterInfo.description;
  const software = gpu.adapterInfo.isFallbackAdapter;
  const sections: string[] = [];
  try {
    log(`adapter: ${adapter}`);
    const fits = await fitFunctions(gpu, functions, FIT_MODELS, { steps: fitSteps, seed: 0, out }, log);
    const figures = functions.map((fnName) => `![${fnName}](fit-${fnName}.svg)`);
    sections.push(
      `## Function fitting\n\n1,000 training and 100 test points, full-batch Adam lr 1e-3, MSE, ` +
        `**${fitSteps} steps**${
          fitSteps === FIT_PROTOCOL.steps ? " (the protocol)" : ` (the protocol has ${FIT_PROTOCOL.steps})`
        }. ` +
        `The reference is the PyTorch original's test MSE under the full protocol.\n\n${fitTable(fits)}\n\n${
          figures.join("\n")
        }`,
    );

    const forgetting: string[] = [
      "| model | optimizer | mean MSE of the four earlier regions after phase 5 | own region | seconds |",
      "|---|---|---|---|---|",
    ];
    const forgettingFigures: string[] = [];
    for (const optimizer of optimizers) {
      const runs: { name: string; run: ForgettingRun }[] = [];
      for (const model of FORGETTING_MODELS) {
        const run = await runForgetting(gpu, model, optimizer);
        runs.push({ name: model.name, run });
        forgetting.push(
          `| ${model.name} | ${optimizer.name} | ${earlierRegionsMse(run.matrix).toExponential(2)} | ${
            run.matrix[4][4].toExponential(1)
          } | ${run.seconds.toFixed(1)} |`,
        );
        log(forgetting.at(-1)!);
      }
      const file = `forgetting-${optimizer.name.replace(/\s+/g, "-")}.svg`;
      await Deno.writeTextFile(`${out}/${file}`, forgettingFigure(optimizer.name, runs));
      forgettingFigures.push(`![${optimizer.name}](${file})`);
    }
    sections.push(
      `## Catastrophic forgetting\n\nKAN paper §3.5: five Gaussian peaks shown one region at a time, no replay, ` +
        `one optimizer across phases.\n\n${forgetting.join("\n")}\n\n${forgettingFigures.join("\n")}`,
    );

    sections.push(
      `## Speed\n\nThe ReLU-KAN paper's speed test: seconds for ${speedSteps} full-batch Adam steps on ` +
        `1,000 samples (one readback at the end).` +
        (software ? " **This adapter is a software rasterizer: these seconds are not speed claims.**" : "") +
        `\n\n${await speedTable(gpu, speedSteps, log)}`,
    );
  } finally {
    gpu.destroy();
  }
  const header = `# KAN family on WebGPU: results\n\nAdapter: ${adapter}. Written by \`${
    shellWords(["deno", "task", "report", ...args])
  }\` on ${new Date().toISOString().slice(0, 10)}.\n`;
  const path = `${out}/REPORT.md`;
  await Deno.writeTextFile(path, `${header}\n${sections.join("\n\n")}\n`);
  log(`wrote ${path}`);
  return path;
}

if (import.meta.main) await runCommand(reportCommand);
