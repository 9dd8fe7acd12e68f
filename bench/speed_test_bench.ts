/**
 * The ReLU-KAN paper's speed test: 500 full-batch Adam steps on 1,000 samples
 * of five functions, for every family member and the MLP [d, 64, 64, 1], with
 * the B-spline KAN as the baseline of each function's group. One measured
 * iteration is the 500 steps and their one loss readback.
 *
 * PyTorch on 2 CPU cores (issue 5), seconds per 500 steps:
 * ReLU-KAN 0.31, 0.39, 0.64, 0.65, 1.04; B-spline 0.22, 0.35, 0.71, 1.06, 1.73.
 * On a software adapter (lavapipe) the figures only show that it runs.
 *
 * Run: deno task bench (or deno bench --allow-env bench/speed_test_bench.ts)
 */

import { Gpu } from "../mod.ts";
import { FIT_MODEL_TITLES, FIT_MODELS } from "../src/experiments/fitting.ts";
import { SPEED_FUNCTIONS, SPEED_REFERENCE_SECONDS, speedJob } from "../src/experiments/speed.ts";

const gpu = await Gpu.request();
const software = gpu.adapterInfo.isFallbackAdapter;
const runs = software ? { n: 1, warmup: 0 } : { n: 10, warmup: 1 };
const STEPS = 500;

SPEED_FUNCTIONS.forEach((fn, f) => {
  for (const model of FIT_MODELS) {
    const job = speedJob(gpu, fn, model);
    const reference = SPEED_REFERENCE_SECONDS[model]?.[f];
    const note = reference === undefined ? "" : ` (PyTorch 2 cores: ${reference} s)`;
    Deno.bench(`${fn.formula} ${JSON.stringify(fn.width)}: ${FIT_MODEL_TITLES[model]}${note}`, {
      group: `${fn.name} ${fn.formula}, ${STEPS} Adam steps`,
      baseline: model === "bspline",
      ...runs,
    }, async () => {
      await job.train(STEPS);
    });
  }
});
