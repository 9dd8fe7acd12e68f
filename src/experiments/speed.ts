/**
 * The ReLU-KAN paper's speed test: five functions, 1,000 samples, full-batch
 * Adam for 500 steps, timed for every family member and the MLP, with the
 * B-spline KAN as the baseline.
 *
 * @module
 */

import { type BenchmarkFunction, FUNCTIONS, sample } from "../data/synthetic.ts";
import type { Gpu } from "../gpu/gpu.ts";
import { Rng } from "../layers/init.ts";
import { Tensor } from "../tensor.ts";
import { Adam } from "../train/adam.ts";
import { type FitModel, fittingModel } from "./fitting.ts";

const { sin, exp, atan } = Math;

/** The speed test's functions and widths (ReLU-KAN paper, Table 2). */
export const SPEED_FUNCTIONS: readonly BenchmarkFunction[] = [
  { ...FUNCTIONS.f1, name: "s1" },
  { ...FUNCTIONS.f4, name: "s2", width: [2, 1] },
  {
    name: "s3",
    formula: "arctan(x1+x1x2+x2²)",
    inputs: 2,
    width: [2, 1, 1],
    grid: 5,
    range: [0, 1],
    f: (x) => atan(x[0] + x[0] * x[1] + x[1] ** 2),
  },
  { ...FUNCTIONS.f5, name: "s4" },
  {
    ...FUNCTIONS.f6,
    name: "s5",
    formula: "exp(sin(x1²+x2²)+sin(x3²+x4²))",
    f: (x) => exp(sin(x[0] ** 2 + x[1] ** 2) + sin(x[2] ** 2 + x[3] ** 2)),
  },
];

/**
 * Seconds of the PyTorch originals on 2 CPU cores for 500 steps (issue 5):
 * ReLU-KAN and the B-spline KAN, per function of {@linkcode SPEED_FUNCTIONS}.
 */
export const SPEED_REFERENCE_SECONDS: Partial<Record<FitModel, readonly number[]>> = {
  relu: [0.31, 0.39, 0.64, 0.65, 1.04],
  bspline: [0.22, 0.35, 0.71, 1.06, 1.73],
};

/** A training job of the speed test, ready to be timed. */
export interface SpeedJob {
  /** Runs `steps` full-batch Adam steps and waits for the loss (one readback). */
  train(steps: number): Promise<number>;
  /** Frees the model, the data and the optimizer. */
  dispose(): void;
}

/** Builds the model (as the fitting experiment's), the 1,000 samples and Adam (lr 1e-3) for one function and model. */
export function speedJob(gpu: Gpu, fn: BenchmarkFunction, model: FitModel, seed = 0): SpeedJob {
  const data = sample(fn, 1000, new Rng(seed));
  const net = fittingModel(gpu, fn, model, seed);
  const x = Tensor.from(gpu, data.x, [data.rows, fn.inputs]);
  const y = Tensor.from(gpu, data.y, [data.rows, 1]);
  const optimizer = new Adam({ lr: 1e-3 });
  return {
    async train(steps) {
      const history = await net.fit({
        x,
        y,
        loss: "mse",
        optimizer,
        steps,
        logEvery: steps,
        progress: "none",
      });
      return history.loss.at(-1)!;
    },
    dispose() {
      optimizer.dispose();
      x.dispose();
      y.dispose();
      net.dispose();
    },
  };
}
