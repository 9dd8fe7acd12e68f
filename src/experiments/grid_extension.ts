/**
 * The grid-extension experiment of the KAN paper (Figure 2.3, pykan's
 * "grid extension" example): fit `f(x, y) = exp(sin(pi x) + y^2)` with a
 * `[2, 5, 1]` B-spline KAN, first on a coarse grid, then refine the grid
 * (pykan's `refine`: the finer model starts as the same function) and train
 * again, and record the train and test RMSE at every grid size.
 *
 * Protocol, as pykan's example: 1,000 training and 1,000 test points uniform
 * on [-1, 1]^2 (pykan's `create_dataset`), spline order 3, full-batch LBFGS
 * (`lr` 1, history 10, strong-Wolfe line search, pykan's tolerances of
 * 1e-32) on the MSE; during the first 50 steps at each grid size the grid is
 * updated from the training inputs every 5 steps (pykan's `fit` defaults
 * `update_grid=True, grid_update_num=10, stop_grid_update_step=50`). RMSE is
 * `sqrt(MSE)`, as pykan's `train_loss`/`test_loss`. Before each refine the
 * grid is updated from the training inputs once more, so that the range the
 * refined grid keeps the function on covers where the data is (pykan's
 * `refine` fits the finer splines at the training inputs for the same reason).
 *
 * @module
 */

import { KanError } from "../errors.ts";
import type { Gpu } from "../gpu/gpu.ts";
import { Rng } from "../layers/init.ts";
import { kan } from "../layers/kan.ts";
import type { Sequential } from "../layers/sequential.ts";
import { Tensor } from "../tensor.ts";
import { LBFGS } from "../train/lbfgs.ts";
import { check, COUNT, integer, SEED } from "../validate.ts";
import { refineModel } from "../interpret/grid_refine.ts";
import { updateModelGrid } from "../interpret/grid_update.ts";

/** The target of the experiment: `exp(sin(pi x) + y^2)`. */
export function gridExtensionTarget(x: number, y: number): number {
  return Math.exp(Math.sin(Math.PI * x) + y * y);
}

/** Defaults of {@linkcode runGridExtension}. */
export const GRID_EXTENSION_DEFAULTS = {
  grids: [3, 5, 10, 20, 50],
  width: [2, 5, 1],
  steps: 50,
  train: 1000,
  test: 1000,
  gridUpdateEvery: 5,
  stopGridUpdate: 50,
} as const;

/** Options of {@linkcode runGridExtension}. */
export interface GridExtensionOptions {
  /** Grid sizes in order; the first is trained from scratch, each next one refined from the previous (default 3, 5, 10, 20, 50). */
  grids?: readonly number[];
  /** Widths of the KAN (default [2, 5, 1]; the paper also shows [2, 1, 1]). */
  width?: readonly number[];
  /** LBFGS steps per grid size (default 50; pykan's example uses 200). */
  steps?: number;
  /** Seed of the data and of the initialization (default 0). */
  seed?: number;
  /** Update the grid from the training inputs every this many steps (default 5; 0: never). */
  gridUpdateEvery?: number;
  /** ...during the first this many steps of each grid size (default 50). */
  stopGridUpdate?: number;
  /** LBFGS iterations per step (default 20, torch's and pykan's `max_iter`). */
  lbfgsIterations?: number;
  /** Called after each grid size with its result. */
  onResult?: (result: GridExtensionResult) => void;
}

/** What one grid size measured. */
export interface GridExtensionResult {
  /** Grid intervals G. */
  grid: number;
  /** Trainable parameters of the model. */
  parameters: number;
  /** RMSE on the training points after training at this grid size. */
  trainRmse: number;
  /** RMSE on the test points. */
  testRmse: number;
  /** Test RMSE right after refining, before training (the refined model starts as the coarser one's function). */
  testRmseAtRefine: number | null;
  /** Wall time of training at this grid size, in seconds. */
  seconds: number;
}

/** `rows` points uniform on [-1, 1]^2 and their targets. */
export function gridExtensionData(rows: number, rng: Rng): { x: Float32Array; y: Float32Array } {
  const x = new Float32Array(rows * 2);
  const y = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    x[2 * r] = rng.between(-1, 1);
    x[2 * r + 1] = rng.between(-1, 1);
    y[r] = gridExtensionTarget(x[2 * r], x[2 * r + 1]);
  }
  return { x, y };
}

const GRIDS = {
  expected: "a non-empty array of grid sizes (integers >= 1)",
  test: (v: unknown): v is readonly number[] =>
    Array.isArray(v) && v.length > 0 && v.every((g) => Number.isInteger(g) && g >= 1),
};

async function rmse(model: Sequential, x: Tensor, y: Tensor): Promise<number> {
  return Math.sqrt((await model.evaluate(x, y, "mse")).loss);
}

/** pykan's LBFGS settings. */
function pykanLbfgs(maxIter: number): LBFGS {
  return new LBFGS({
    lr: 1,
    maxIter,
    historySize: 10,
    toleranceGrad: 1e-32,
    toleranceChange: 1e-32,
    toleranceYs: 1e-32,
  });
}

/**
 * Runs the protocol (see the module doc) on `gpu` and returns one result per
 * grid size, in order.
 *
 * @example
 * ```ts
 * import { Gpu } from "../../mod.ts";
 * import { runGridExtension } from "./grid_extension.ts";
 * const gpu = await Gpu.request();
 * const results = await runGridExtension(gpu, { grids: [3, 6], steps: 1, lbfgsIterations: 2 });
 * console.log(results.map((r) => `G ${r.grid}: test RMSE ${r.testRmse}`));
 * gpu.destroy();
 * ```
 */
export async function runGridExtension(
  gpu: Gpu,
  options: GridExtensionOptions = {},
): Promise<GridExtensionResult[]> {
  const where = "runGridExtension";
  const d = GRID_EXTENSION_DEFAULTS;
  const grids = check(`${where}: grids`, options.grids ?? d.grids, GRIDS);
  const steps = check(`${where}: steps`, options.steps ?? d.steps, COUNT);
  const seed = check(`${where}: seed`, options.seed ?? 0, SEED);
  const every = check(`${where}: gridUpdateEvery`, options.gridUpdateEvery ?? d.gridUpdateEvery, integer(0));
  const maxIter = check(`${where}: lbfgsIterations`, options.lbfgsIterations ?? 20, COUNT);
  const stop = check(`${where}: stopGridUpdate`, options.stopGridUpdate ?? d.stopGridUpdate, integer(0));
  const width = options.width ?? d.width;
  if (width[0] !== 2 || width[width.length - 1] !== 1) {
    throw new KanError(`${where}: width must be [2, ..., 1] for f(x, y), got [${width.join(", ")}]`);
  }
  const rng = new Rng(seed);
  const train = gridExtensionData(d.train, rng);
  const test = gridExtensionData(d.test, rng);
  const x = Tensor.from(gpu, train.x, [d.train, 2]);
  const y = Tensor.from(gpu, train.y, [d.train, 1]);
  const tx = Tensor.from(gpu, test.x, [d.test, 2]);
  const ty = Tensor.from(gpu, test.y, [d.test, 1]);
  let model = kan(gpu, width, { basis: "bspline", gridSize: grids[0], splineOrder: 3, bias: true, seed });
  const results: GridExtensionResult[] = [];
  try {
    for (let g = 0; g < grids.length; g++) {
      let atRefine: number | null = null;
      if (g > 0) {
        // The grid first follows the data again (training moved the hidden values), so that refining,
        // which keeps the function over each grid's range, keeps it where the data is.
        await updateModelGrid(model, train.x);
        const finer = await refineModel(model, grids[g]);
        model.dispose();
        model = finer;
        atRefine = await rmse(model, tx, ty);
      }
      const optimizer = pykanLbfgs(maxIter);
      const start = performance.now();
      let done = 0;
      while (done < steps) {
        const updating = every > 0 && done < stop;
        if (updating) await updateModelGrid(model, train.x);
        const chunk = updating ? Math.min(every, steps - done) : steps - done;
        await model.fit({ x, y, loss: "mse", optimizer, steps: chunk, logEvery: chunk, progress: "none" });
        done += chunk;
      }
      const seconds = (performance.now() - start) / 1000;
      const result: GridExtensionResult = {
        grid: grids[g],
        parameters: model.parameterCount().trainable,
        trainRmse: await rmse(model, x, y),
        testRmse: await rmse(model, tx, ty),
        testRmseAtRefine: atRefine,
        seconds,
      };
      results.push(result);
      options.onResult?.(result);
    }
  } finally {
    model.dispose();
    for (const t of [x, y, tx, ty]) t.dispose();
  }
  return results;
}
