/**
 * The catastrophic-forgetting experiment of the KAN paper (§3.5): a target of
 * five Gaussian peaks, shown one region at a time (phases, no replay, one
 * optimizer across phases); after each phase the MSE on every region's points.
 *
 * @module
 */

import type { Gpu } from "../gpu/gpu.ts";
import { kan } from "../layers/kan.ts";
import { type BasisName, member } from "../layers/members.ts";
import type { Sequential } from "../layers/sequential.ts";
import { Tensor } from "../tensor.ts";
import { Adam } from "../train/adam.ts";
import type { ClosureOptimizer } from "../train/optimizer.ts";
import { LBFGS } from "../train/lbfgs.ts";
import type { GpuOptimizer } from "../train/optimizer.ts";

/** The peak centers, one per phase, in order. */
export const CENTERS: readonly number[] = [-0.8, -0.4, 0, 0.4, 0.8];

/** Points shown per phase. */
export const POINTS_PER_PHASE = 100;

/** The target: `sum_c exp(-300 (x - c)^2)`. */
export function forgettingTarget(x: number): number {
  return CENTERS.reduce((s, c) => s + Math.exp(-300 * (x - c) ** 2), 0);
}

/** The inputs of phase `p`: `linspace(-0.2, 0.2, 100) + c_p`. */
export function phaseInputs(p: number): Float32Array {
  return Float32Array.from(
    { length: POINTS_PER_PHASE },
    (_, i) => CENTERS[p] - 0.2 + 0.4 * i / (POINTS_PER_PHASE - 1),
  );
}

/** One model of the experiment: how to build it, what to freeze, how inputs reach it. */
export interface ForgettingModel {
  /** Name for tables and figures. */
  name: string;
  /** Builds a fresh model. */
  build(gpu: Gpu, seed: number): Sequential;
  /** State-dict keys left untouched. */
  freeze?: string[];
  /** Maps x in [-1, 1] to the model's input (ReLU-KAN works on [0, 1]). */
  mapInput?: (x: number) => number;
}

const GRID = 200;
const toUnit = (x: number) => (x + 1) / 2;

const label = (basis: BasisName) => member(basis).label;

/** The models of the experiment, all [1, 1] with 200 grid intervals on [-1, 1], and the MLP. */
export const FORGETTING_MODELS: readonly ForgettingModel[] = [
  {
    name: `${label("bspline")}, pykan configuration`,
    build: (gpu, seed) =>
      kan(gpu, [1, 1], { basis: "bspline", gridSize: GRID, splineOrder: 3, baseActivation: "zero", seed }),
    freeze: ["base_weight", "spline_scaler"],
  },
  {
    name: `${label("bspline")}, all trainable`,
    build: (gpu, seed) =>
      kan(gpu, [1, 1], { basis: "bspline", gridSize: GRID, splineOrder: 3, baseActivation: "zero", seed }),
  },
  {
    name: `${label("fast")}, no base`,
    build: (gpu, seed) =>
      kan(gpu, [1, 1], {
        basis: "fast",
        gridMin: -1,
        gridMax: 1,
        numGrids: GRID + 1,
        useLayerNorm: false,
        useBaseUpdate: false,
        seed,
      }),
  },
  {
    name: `${label("relu")}, bounds trainable`,
    build: (gpu, seed) => kan(gpu, [1, 1], { basis: "relu", g: GRID, k: 3, trainBoundaries: true, seed }),
    mapInput: toUnit,
  },
  {
    name: `${label("relu")}, bounds frozen`,
    build: (gpu, seed) => kan(gpu, [1, 1], { basis: "relu", g: GRID, k: 3, trainBoundaries: false, seed }),
    mapInput: toUnit,
  },
  {
    name: `${label("mlp")} [1, 64, 64, 1]`,
    build: (gpu, seed) => kan(gpu, [1, 64, 64, 1], { basis: "mlp", seed }),
  },
];

/** An optimizer setting of the experiment and its steps per phase. */
export interface ForgettingOptimizer {
  /** Name for tables. */
  name: string;
  /** A fresh optimizer (one per run, shared across its phases). */
  make(): GpuOptimizer | ClosureOptimizer;
  /** Steps per phase. */
  steps: number;
  /**
   * A new optimizer for every phase, as pykan's `fit` builds one per call.
   * Otherwise one optimizer carries its state across the phases.
   */
  freshEachPhase?: boolean;
}

/**
 * pykan's LBFGS: history 10, strong Wolfe, and tolerances of 1e-32. With
 * torch's defaults (1e-7, 1e-9, 1e-10) an optimizer carried into a new phase
 * stalls: the first curvature pair spans the change of data, not curvature,
 * and sets H_diag near 1e-7, so every later direction is too short for
 * `gtd > -toleranceChange` and each step stops before moving.
 */
export function pykanLbfgs(): LBFGS {
  return new LBFGS({
    lr: 1,
    historySize: 10,
    lineSearch: "strong_wolfe",
    toleranceGrad: 1e-32,
    toleranceChange: 1e-32,
    toleranceYs: 1e-32,
  });
}

/**
 * LBFGS (100 steps per phase) and Adam at 1e-2 and 1e-3 (1,000 steps per
 * phase). Adam carries its state across phases. LBFGS starts fresh in each
 * phase, as in pykan, where the reference figures come from: carried over, its
 * curvature pairs from earlier phases steer the new directions onto weights
 * that the new phase's data does not touch. In float64 that raises the earlier
 * regions of the pykan-configured B-spline KAN from 1.6e-11 to 1.7e-5.
 */
export const FORGETTING_OPTIMIZERS: readonly ForgettingOptimizer[] = [
  { name: "LBFGS", make: pykanLbfgs, steps: 100, freshEachPhase: true },
  { name: "Adam 1e-2", make: () => new Adam({ lr: 1e-2 }), steps: 1000 },
  { name: "Adam 1e-3", make: () => new Adam({ lr: 1e-3 }), steps: 1000 },
];

/** The outcome of one run. */
export interface ForgettingRun {
  /** `matrix[p][q]`: MSE on region q's points after phase p. */
  matrix: number[][];
  /** The model's prediction on {@linkcode PLOT_X} after each phase. */
  predictions: Float32Array[];
  /** Wall-clock seconds. */
  seconds: number;
}

/** Where predictions are drawn: 401 points on [-1, 1]. */
export const PLOT_X: Float32Array = Float32Array.from({ length: 401 }, (_, i) => -1 + i / 200);

/** The mean MSE over the four earlier regions after the last phase. */
export function earlierRegionsMse(matrix: number[][]): number {
  const last = matrix[matrix.length - 1];
  return last.slice(0, -1).reduce((s, v) => s + v, 0) / (last.length - 1);
}

/** Runs the protocol for one model and optimizer setting. */
export async function runForgetting(
  gpu: Gpu,
  spec: ForgettingModel,
  optimizer: ForgettingOptimizer,
  seed = 0,
): Promise<ForgettingRun> {
  const start = performance.now();
  const map = spec.mapInput ?? ((x: number) => x);
  const model = spec.build(gpu, seed);
  let opt = optimizer.make();
  const regions = CENTERS.map((_, p) => {
    const xs = phaseInputs(p);
    return {
      x: Tensor.from(gpu, xs.map(map), [POINTS_PER_PHASE, 1]),
      y: Tensor.from(gpu, xs.map(forgettingTarget), [POINTS_PER_PHASE, 1]),
    };
  });
  const plotX = Tensor.from(gpu, PLOT_X.map(map), [PLOT_X.length, 1]);
  const matrix: number[][] = [];
  const predictions: Float32Array[] = [];
  try {
    for (const region of regions) {
      if (optimizer.freshEachPhase && matrix.length > 0) {
        opt.dispose();
        opt = optimizer.make();
      }
      await model.fit({
        x: region.x,
        y: region.y,
        loss: "mse",
        optimizer: opt,
        steps: optimizer.steps,
        logEvery: optimizer.steps,
        freeze: spec.freeze,
        progress: "none",
      });
      const row: number[] = [];
      for (const r of regions) row.push((await model.evaluate(r.x, r.y, "mse")).loss);
      matrix.push(row);
      const y = model.forward(plotX);
      predictions.push(await y.read());
      y.dispose();
    }
  } finally {
    for (const r of regions) {
      r.x.dispose();
      r.y.dispose();
    }
    plotX.dispose();
    opt.dispose();
    model.dispose();
  }
  return { matrix, predictions, seconds: (performance.now() - start) / 1000 };
}
