/**
 * Catastrophic forgetting (KAN paper §3.5), by the protocol of
 * src/experiments/forgetting.ts: five regions shown in turn, no replay, one
 * optimizer across phases. The assertions are on the 5 x 5 matrix after the
 * last phase. Reference figures (pykan and the PyTorch originals, mean MSE over
 * the four earlier regions) are in the comments.
 */

import {
  earlierRegionsMse,
  FORGETTING_MODELS,
  FORGETTING_OPTIMIZERS,
  type ForgettingRun,
  runForgetting,
} from "../src/experiments/forgetting.ts";
import { assert } from "./assert.ts";
import { testGpu } from "./helpers.ts";

const gpu = await testGpu();

async function run(model: string, optimizer: string): Promise<ForgettingRun> {
  const spec = FORGETTING_MODELS.find((m) => m.name === model)!;
  const opt = FORGETTING_OPTIMIZERS.find((o) => o.name === optimizer)!;
  const result = await runForgetting(gpu, spec, opt);
  console.log(
    `  ${model}, ${optimizer}: earlier regions ${earlierRegionsMse(result.matrix).toExponential(2)} ` +
      `(${result.seconds.toFixed(1)} s); after phase 5: ${
        result.matrix[4].map((v) => v.toExponential(1)).join(" ")
      }`,
  );
  for (const row of result.matrix) {
    assert(row.every(Number.isFinite), `${model}, ${optimizer}: a NaN or infinite MSE`);
  }
  return result;
}

/** Each earlier region's MSE after the last phase. */
function earlier(result: ForgettingRun): number[] {
  return result.matrix[4].slice(0, 4);
}

Deno.test("forgetting: the pykan-configured B-spline KAN keeps every earlier region under 1e-6 (Adam 1e-2)", async () => {
  // Reference: 1.6e-11 (Adam 1e-2). Local support: a region's spline weights get no gradient from the others.
  const result = await run("B-spline KAN, pykan configuration", "Adam 1e-2");
  for (const mse of earlier(result)) assert(mse < 1e-6, `earlier region MSE ${mse}`);
  // And it learned each region when shown: the newest region is fitted too.
  assert(result.matrix[4][4] < 1e-6, `last region ${result.matrix[4][4]}`);
});

Deno.test("forgetting: the pykan-configured B-spline KAN keeps every earlier region under 1e-6 (LBFGS)", async () => {
  // Reference: 6.4e-11 (LBFGS, 100 steps per phase, a fresh LBFGS per phase as pykan's fit builds).
  // Carrying one LBFGS across phases instead left them at 4.6e-6 here (1.7e-5 in float64): its old
  // curvature pairs move weights the new phase's data does not touch.
  const result = await run("B-spline KAN, pykan configuration", "LBFGS");
  for (const mse of earlier(result)) assert(mse < 1e-6, `earlier region MSE ${mse}`);
  assert(result.matrix[4][4] < 1e-6, `last region ${result.matrix[4][4]}`);
});

Deno.test("forgetting: the MLP forgets, its earlier regions exceed 1e-1 (Adam 1e-2)", async () => {
  // Reference: 4.8e+1 (Adam 1e-2). The MLP's weights are global: fitting the last peak moves all of it.
  const result = await run("MLP [1, 64, 64, 1]", "Adam 1e-2");
  const mean = earlierRegionsMse(result.matrix);
  assert(mean > 1e-1, `earlier regions ${mean}`);
  // It did learn each region while shown (a zero prediction scores about 0.18 there).
  result.matrix.forEach((row, p) => assert(row[p] < 0.1, `phase ${p + 1}: its own region ${row[p]}`));
});

Deno.test("forgetting: FastKAN without base branch stays under 1e-3 (Adam 1e-2)", async () => {
  // Reference: 1.1e-6 (Adam 1e-2), 3.9e-4 (LBFGS), 1.6e-4 (Adam 1e-3). Gaussians of width 0.01 are
  // nearly local: a region's centers barely see the others' points.
  const result = await run("FastKAN, no base", "Adam 1e-2");
  for (const mse of earlier(result)) assert(mse < 1e-3, `earlier region MSE ${mse}`);
});

Deno.test("forgetting: ReLU-KAN with Adam 1e-3 stays under 2e-2, bounds trainable and frozen", async () => {
  // Reference: 4.8e-3 (bounds trainable), 9.2e-3 (bounds frozen).
  for (const model of ["ReLU-KAN, bounds trainable", "ReLU-KAN, bounds frozen"]) {
    const result = await run(model, "Adam 1e-3");
    assert(earlierRegionsMse(result.matrix) < 2e-2, `${model}: ${earlierRegionsMse(result.matrix)}`);
  }
});

Deno.test("forgetting teardown", () => {
  gpu.destroy();
});
