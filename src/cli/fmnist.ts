/**
 * `deno task fmnist`: Fashion-MNIST with a [784, 64, 10] model of every family
 * member and the MLP; prints test accuracy and seconds per epoch per model.
 *
 * @module
 */

import { Gpu } from "../../mod.ts";
import { defaultTrainRows, FASHION_MNIST_TRAIN_ROWS, loadFashionMnist } from "../data/image_sets.ts";
import { type FashionResult, FMNIST_PROTOCOL, runFashionMnist } from "../experiments/fashion_mnist.ts";
import { FIT_MODEL_TITLES, FIT_MODELS, type FitModel } from "../experiments/fitting.ts";
import { integerFlag, listFlag, parseFlags, runCommand } from "./flags.ts";

const HELP =
  `Fashion-MNIST, [784, 64, 10], AdamW lr ${FMNIST_PROTOCOL.lr} weight decay ${FMNIST_PROTOCOL.weightDecay}, batch ${FMNIST_PROTOCOL.batchSize}.

Usage: deno task fmnist [options]
  --models LIST      comma-separated, from ${FIT_MODELS.join(",")} (default all)
  --epochs N         passes over the training images (default 1)
  --train-size N     use the first N of the 60,000 training images (default all)
  --seed N           seed of the initialization and the shuffling (default 0)
  -h, --help         this text`;

/** The markdown table of `results`. */
export function fashionTable(results: readonly FashionResult[]): string {
  return [
    "| model | training images × epochs | test accuracy | test cross entropy | seconds per epoch |",
    "|---|---|---|---|---|",
    ...results.map((r) =>
      `| ${FIT_MODEL_TITLES[r.model]} | ${r.trainRows} × ${r.epochs} | ${
        (100 * r.testAccuracy).toFixed(2)
      }% | ` +
      `${r.testLoss.toFixed(4)} | ${r.secondsPerEpoch.toFixed(1)} |`
    ),
  ].join("\n");
}

/** Runs the experiment for the parsed command line; returns every result. */
export async function fmnistCommand(
  args: string[],
  log: (line: string) => void = console.log,
): Promise<FashionResult[]> {
  const { values, help } = parseFlags(args, {
    models: { type: "string" },
    epochs: { type: "string" },
    "train-size": { type: "string" },
    seed: { type: "string" },
  });
  if (help) {
    log(HELP);
    return [];
  }
  const models = listFlag<FitModel>("models", values.models, FIT_MODELS);
  const epochs = integerFlag("epochs", values.epochs, 1, 1);
  const trainLimit = integerFlag("train-size", values["train-size"], undefined, 1);
  const seed = integerFlag("seed", values.seed, 0, 0);
  const gpu = await Gpu.request();
  let data;
  try {
    const train = defaultTrainRows(gpu, 784, FASHION_MNIST_TRAIN_ROWS, trainLimit);
    if (train.note) log(train.note);
    data = await loadFashionMnist({ trainLimit: train.rows });
  } catch (e) {
    gpu.destroy();
    throw e;
  }
  log(
    `adapter: ${gpu.adapterInfo.description}; ${data.train.rows} training and ${data.test.rows} test images`,
  );
  const results: FashionResult[] = [];
  try {
    for (const model of models) {
      const r = await runFashionMnist(gpu, data, model, { epochs, seed });
      results.push(r);
      log(
        `${FIT_MODEL_TITLES[model].padEnd(12)} test accuracy ${(100 * r.testAccuracy).toFixed(2)}%  ` +
          `${r.secondsPerEpoch.toFixed(1)} s/epoch`,
      );
    }
  } finally {
    gpu.destroy();
  }
  log(`\n${fashionTable(results)}`);
  return results;
}

if (import.meta.main) await runCommand(fmnistCommand);
