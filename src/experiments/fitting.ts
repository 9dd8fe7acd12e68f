/**
 * The function-fitting experiment of the ReLU-KAN paper: f1..f6 from 1,000
 * seeded training points, full-batch Adam (lr 1e-3) on the MSE for 5,000
 * steps, test MSE on 100 further points, for every family member and the MLP.
 *
 * @module
 */

import type { Gpu } from "../gpu/gpu.ts";
import { kan, type KanOptions } from "../layers/kan.ts";
import { BASIS_NAMES, type BasisName, member, MEMBERS } from "../layers/members.ts";
import type { Sequential } from "../layers/sequential.ts";
import { Tensor } from "../tensor.ts";
import { Adam } from "../train/adam.ts";
import { type BenchmarkFunction, FUNCTIONS, functionSplit } from "../data/synthetic.ts";

/** The models of the experiment, in table order: every member of the family. */
export const FIT_MODELS: readonly BasisName[] = BASIS_NAMES;

/** One model of {@linkcode FIT_MODELS}. */
export type FitModel = BasisName;

/** Column titles of the models: the members' labels. */
export const FIT_MODEL_TITLES: Readonly<Record<FitModel, string>> = Object.fromEntries(
  MEMBERS.map((m) => [m.basis, m.label]),
) as Record<FitModel, string>;

/** The six functions of the table. */
export const FIT_FUNCTIONS = ["f1", "f2", "f3", "f4", "f5", "f6"] as const;

/**
 * Test MSE of the original PyTorch implementations under this protocol (torch
 * 1.13, float32, median of seeds 0, 1, 2; issue 5's table).
 */
export const FIT_REFERENCE: Record<string, Partial<Record<FitModel, number>>> = {
  f1: { relu: 5.1e-6, bspline: 7.3e-6, mlp: 4.0e-6 },
  f2: { relu: 5.0e-3, bspline: 3.7e-1, mlp: 4.3e-4 },
  f3: { relu: 9.9e-5, bspline: 2.7e-5, mlp: 7.8e-6 },
  f4: { relu: 2.6e-5, bspline: 5.6e-6, mlp: 4.8e-6 },
  f5: { relu: 1.2e-4, bspline: 1.9e-4, mlp: 6.0e-4 },
  f6: { relu: 4.7e-2, bspline: 3.1e-3, mlp: 1.2e-2 },
};

/** Protocol constants: Adam's learning rate and the number of full-batch steps. */
export const FIT_PROTOCOL = { lr: 1e-3, steps: 5000, train: 1000, test: 100 } as const;

/**
 * The model for `fn`: each member's `fittingOptions` (src/layers/members.ts)
 * for the function's grid (G, k = 3 for the KANs; FastKAN and FasterKAN with
 * G + 3 functions per input and no LayerNorm) at its
 * `fittingWidth` (`[d, 64, 64, 1]` with SiLU for the MLP).
 */
export function fittingModel(gpu: Gpu, fn: BenchmarkFunction, model: FitModel, seed = 0): Sequential {
  const m = member(model);
  return kan(
    gpu,
    m.fittingWidth(fn.width),
    { basis: model, ...m.fittingOptions(fn.grid), seed } as KanOptions,
  );
}

/** What one run of the protocol measured. */
export interface FitResult {
  /** The function's name. */
  fn: string;
  /** The model. */
  model: FitModel;
  /** MSE on the 1,000 training points after the last step. */
  trainMse: number;
  /** MSE on the 100 test points. */
  testMse: number;
  /** Wall time of the training steps. */
  seconds: number;
  /** Steps per second. */
  stepsPerSecond: number;
  /** The model along {@linkcode plotLine}, for figures. */
  curve: Float32Array;
}

/** Points along which figures show a function: `x = (t, ..., t)`, t in [0, 1]. */
export function plotLine(
  fn: BenchmarkFunction,
  points = 101,
): { t: Float32Array; x: Float32Array; y: Float64Array } {
  const t = Float32Array.from({ length: points }, (_, i) => i / (points - 1));
  const x = new Float32Array(points * fn.inputs);
  for (let i = 0; i < points; i++) x.fill(t[i], i * fn.inputs, (i + 1) * fn.inputs);
  const y = Float64Array.from(
    { length: points },
    (_, i) => fn.f(x.subarray(i * fn.inputs, (i + 1) * fn.inputs)),
  );
  return { t, x, y };
}

/** Runs the protocol for one (function, model) pair; `steps` defaults to 5,000. */
export async function runFit(
  gpu: Gpu,
  fnName: string,
  model: FitModel,
  options: { steps?: number; seed?: number } = {},
): Promise<FitResult> {
  const seed = options.seed ?? 0;
  const steps = options.steps ?? FIT_PROTOCOL.steps;
  const split = functionSplit(fnName, { seed, train: FIT_PROTOCOL.train, test: FIT_PROTOCOL.test });
  const fn = FUNCTIONS[fnName];
  const net = fittingModel(gpu, fn, model, seed);
  const d = fn.inputs;
  const x = Tensor.from(gpu, split.train.x, [split.train.rows, d]);
  const y = Tensor.from(gpu, split.train.y, [split.train.rows, 1]);
  const tx = Tensor.from(gpu, split.test.x, [split.test.rows, d]);
  const ty = Tensor.from(gpu, split.test.y, [split.test.rows, 1]);
  const line = plotLine(fn);
  const px = Tensor.from(gpu, line.x, [line.t.length, d]);
  const optimizer = new Adam({ lr: FIT_PROTOCOL.lr });
  try {
    const start = performance.now();
    await net.fit({ x, y, loss: "mse", optimizer, steps, logEvery: steps, progress: "none" });
    const seconds = (performance.now() - start) / 1000;
    net.eval(); // running statistics (WavKAN), as PyTorch users evaluate
    const trainMse = (await net.evaluate(x, y, "mse")).loss;
    const testMse = (await net.evaluate(tx, ty, "mse")).loss;
    const out = net.forward(px);
    const curve = await out.read();
    out.dispose();
    return { fn: fnName, model, trainMse, testMse, seconds, stepsPerSecond: steps / seconds, curve };
  } finally {
    optimizer.dispose();
    for (const t of [x, y, tx, ty, px]) t.dispose();
    net.dispose();
  }
}
