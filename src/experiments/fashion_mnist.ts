/**
 * Fashion-MNIST with [784, 64, 10] models of every family member (FastKAN and
 * FasterKAN with their LayerNorms, as the papers ran them on images) and an
 * MLP [784, 64, 10]: AdamW (lr 1e-3, weight decay 1e-4), batch 64.
 *
 * @module
 */

import type { ImageSplit } from "../data/image_sets.ts";
import type { Gpu } from "../gpu/gpu.ts";
import { kan } from "../layers/kan.ts";
import type { Sequential } from "../layers/sequential.ts";
import { Tensor } from "../tensor.ts";
import { AdamW } from "../train/adam.ts";
import type { FitModel } from "./fitting.ts";

/** Width of every model of the experiment. */
export const FMNIST_WIDTH: readonly number[] = [784, 64, 10];

/** Protocol constants. */
export const FMNIST_PROTOCOL = { lr: 1e-3, weightDecay: 1e-4, batchSize: 64 } as const;

/** The [784, 64, 10] model of `basis` with each layer type's defaults. */
export function fashionModel(gpu: Gpu, basis: FitModel, seed = 0): Sequential {
  return kan(gpu, FMNIST_WIDTH, { basis, seed });
}

/** What one training run measured. */
export interface FashionResult {
  /** The model. */
  model: FitModel;
  /** Training images used. */
  trainRows: number;
  /** Epochs trained. */
  epochs: number;
  /** Cross entropy of the last logged training batch. */
  lastBatchLoss: number;
  /** Accuracy on the test images. */
  testAccuracy: number;
  /** Mean cross entropy on the test images. */
  testLoss: number;
  /** Wall seconds per epoch of training. */
  secondsPerEpoch: number;
}

/** Trains one model on `data` for `epochs` epochs and evaluates it on the test images. */
export async function runFashionMnist(
  gpu: Gpu,
  data: ImageSplit,
  model: FitModel,
  options: { epochs?: number; seed?: number } = {},
): Promise<FashionResult> {
  const epochs = options.epochs ?? 1;
  const seed = options.seed ?? 0;
  const net = fashionModel(gpu, model, seed);
  const x = Tensor.from(gpu, data.train.x, [data.train.rows, data.features]);
  const y = Tensor.from(gpu, data.train.y, [data.train.rows]);
  const tx = Tensor.from(gpu, data.test.x, [data.test.rows, data.features]);
  const ty = Tensor.from(gpu, data.test.y, [data.test.rows]);
  const optimizer = new AdamW({ lr: FMNIST_PROTOCOL.lr, weightDecay: FMNIST_PROTOCOL.weightDecay });
  try {
    const start = performance.now();
    const history = await net.fit({
      x,
      y,
      loss: "crossEntropy",
      optimizer,
      epochs,
      batchSize: FMNIST_PROTOCOL.batchSize,
      seed,
      progress: "none",
    });
    const seconds = (performance.now() - start) / 1000;
    net.eval(); // running statistics (WavKAN), as PyTorch users evaluate
    const test = await net.evaluate(tx, ty, "crossEntropy");
    return {
      model,
      trainRows: data.train.rows,
      epochs,
      lastBatchLoss: history.loss.at(-1)!,
      testAccuracy: test.accuracy!,
      testLoss: test.loss,
      secondsPerEpoch: seconds / epochs,
    };
  } finally {
    optimizer.dispose();
    for (const t of [x, y, tx, ty]) t.dispose();
    net.dispose();
  }
}
