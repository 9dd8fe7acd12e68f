/**
 * The training loop (`model.fit`) and evaluation (`model.evaluate`): seeded
 * minibatches, many steps recorded per submit, the loss kept on the GPU and
 * read back every `logEvery` steps.
 *
 * @module
 */

import { KanError } from "../errors.ts";
import type { Gpu } from "../gpu/gpu.ts";
import type { Layer, Trace } from "../layers/layer.ts";
import { checkParametersLive, type Parameter, type ParameterBlock } from "../layers/parameter.ts";
import { Rng } from "../layers/init.ts";
import { Tensor } from "../tensor.ts";
import { EpochOrder, permutation } from "./batches.ts";
import { checkTarget, LOSSES, type LossName, recordLoss } from "./loss.ts";
import type { ClosureOptimizer, GpuOptimizer } from "./optimizer.ts";
import { Progress, type ProgressMode } from "./progress.ts";
import { FusedTraining } from "../fused/fused_training.ts";
import { GradNormClipper } from "./clip_grad_norm.ts";
import { type Schedule, scheduledLr } from "./schedules.ts";
import {
  BOOLEAN,
  check,
  checkFinite,
  checkOptions,
  checkRows,
  checkTensor,
  COUNT,
  describe,
  FUNCTION,
  instanceOf,
  integer,
  isPlainObject,
  oneOf,
  option,
  POSITIVE,
  requiredOption,
  type Rule,
  SEED,
  STRINGS,
  UNIT_INTERVAL as UNIT,
} from "../validate.ts";
import {
  addRegularization,
  REGULARIZATION_SETTINGS,
  type RegularizationSettings,
  regularizationSettings,
} from "../interpret/regularization.ts";
// Types only: the layers import the training loop (module.ts), so a value import of them here is a cycle.
import type { BSplineKAN } from "../layers/bspline_kan.ts";
import type { HybridKAN } from "../layers/hybrid_kan.ts";
import type { Sequential } from "../layers/sequential.ts";

/** What `fit` needs of a model. */
export interface Trainable {
  /** The GPU. */
  readonly gpu: Gpu;
  /** Input width. */
  readonly inFeatures: number;
  /** Output width. */
  readonly outFeatures: number;
  /** Records a forward pass kept for backward. */
  trace(x: Tensor): Trace;
  /** Records a forward pass. */
  forward(x: Tensor): Tensor;
  /** Parameters by state-dict key. */
  namedParameters(): Map<string, Parameter>;
  /** Records zeroing every gradient. */
  zeroGrad(): void;
  /** The layers, for the fused step (`src/fused/`), when the model is a list of them. */
  readonly layers?: readonly Layer[];
  /** Whether the fused step may run (default true). */
  readonly fused?: boolean;
  /** Whether it is in training mode (`module.train()` / `module.eval()`; layers with running statistics). */
  readonly training?: boolean;
  /** Sets training (true) or evaluation (false) mode. */
  train?(mode: boolean): unknown;
}

/** Options of `fit`, as API.md gives them. */
export interface FitOptions {
  /** Inputs `[N, in]`. */
  x: Tensor;
  /** Targets `[N, out]` (mse) or class ids `[N]` (crossEntropy). */
  y: Tensor;
  /** The loss. */
  loss: LossName;
  /** The optimizer (its state carries over between `fit` calls). */
  optimizer: GpuOptimizer | ClosureOptimizer;
  /** Number of steps (batches); give this or `epochs`. */
  steps?: number;
  /** Number of passes over the data; give this or `steps`. */
  epochs?: number;
  /** Rows per step (default: all of them). */
  batchSize?: number;
  /** Shuffle the rows every epoch (default true when batches are smaller than the set). */
  shuffle?: boolean;
  /** Seed of the shuffling (default 0). */
  seed?: number;
  /** Read the loss back every this many steps (default: about 50 times per run). */
  logEvery?: number;
  /** State-dict keys, or key suffixes such as `"spline_scaler"`, left untouched. */
  freeze?: string[];
  /**
   * Called at every logged step (steps where validation runs are logged
   * too), with the validation loss when validation ran at that step. When it
   * returns a promise, `fit` awaits it before the next step. An exception it
   * throws (or a promise it rejects) propagates unchanged (not wrapped),
   * ending the run with the weights after that step.
   */
  onProgress?: (p: FitProgress) => void | Promise<void>;
  /** Progress display (default `"auto"`: a bar on a terminal, lines otherwise). */
  progress?: ProgressMode;
  /**
   * Stops the run: checked before every step, and a long run gives timers a
   * turn about every 50 ms so that an abort from one lands. An aborted `fit`
   * rejects with a `KanError` whose `cause` is the signal's reason; the
   * weights are those after the last completed step (all of them finite
   * unless a logged loss said otherwise). An already aborted signal rejects
   * before anything changes.
   */
  signal?: AbortSignal;
  /**
   * Run each step as the fused step (`src/fused/fused_step.ts`: at most three
   * dispatches whatever the depth) when the model and the optimizer allow it
   * (default true; the model's `fused` property must allow it too).
   */
  fused?: boolean;
  /**
   * The learning rate of each optimizer step: before every step `fit` sets
   * `optimizer.lr = schedule(step, optimizer.baseLr)`, where `step` counts
   * optimizer steps from 0 (`startStep` included), so a schedule sees the
   * same steps however a run is split into `fit` calls. See
   * `src/train/schedules.ts` for PyTorch's schedulers (`warmup`,
   * `cosineDecay`, `stepDecay`, `exponentialDecay`). A result that is not a
   * positive finite number is a `KanError` naming the step; an exception the
   * schedule throws propagates unchanged. After `fit` the optimizer keeps the
   * last step's rate. Works with LBFGS (its `lr`, the step scale).
   */
  schedule?: Schedule;
  /**
   * Clips the gradients before every optimizer step as
   * `torch.nn.utils.clip_grad_norm_(parameters, clipGradNorm)`: their global
   * L2 norm over every trainable (not frozen) gradient, then every gradient
   * scaled by `min(1, clipGradNorm / (norm + 1e-6))`, on the GPU (no
   * readback). With LBFGS the gradient of every evaluation is clipped (as a
   * closure calling `clip_grad_norm_` after `backward()`).
   */
  clipGradNorm?: number;
  /**
   * A validation set, evaluated with `evaluate` every `validateEvery` steps
   * (default: at every logged step); the history gains its losses.
   */
  validation?: { x: Tensor; y: Tensor };
  /**
   * Validate every this many steps (counted as history's steps, from
   * `startStep + 1`) and at the last step; needs `validation`. Validated steps
   * are logged too (the training loss is read with the validation loss).
   */
  validateEvery?: number;
  /**
   * Stop early after this many validations in a row without a new best
   * (strictly lower) validation loss; `history.stoppedAt` then says after
   * which step. Needs `validation`.
   */
  patience?: number;
  /**
   * At the end of the run (also an early stop), put back the weights of the
   * best validation loss (`history.bestStep`): a copy of the parameter
   * buffers kept on the GPU, taken at each new best. The optimizer's state
   * stays that of the last step. A run that ends by an exception (an abort, a
   * non-finite loss, an error from `onProgress`) keeps the last weights.
   * Default false; needs `validation`.
   */
  restoreBest?: boolean;
  /**
   * The number of optimizer steps already taken (for example the `step` of
   * `loadCheckpoint`), default 0: history's steps are numbered from
   * `startStep + 1`, the schedule sees the global step, and the shuffled
   * batches continue as an uninterrupted run would (the seeded epoch
   * orders are replayed, one permutation per epoch before `startStep`), so
   * `fit` of 10 steps then `fit` of 10 steps with `startStep: 10` (same
   * optimizer, seed and options) gives the weights of one `fit` of 20 steps,
   * bit for bit. `steps` and `epochs` stay the steps to run now. The
   * optimizer's own state (moments, step counts) carries over in the
   * optimizer object or through `loadCheckpoint`.
   */
  startStep?: number;
  /**
   * pykan's sparsity regularization (`fit(lamb=...)`): the objective becomes
   * `loss + lamb * reg`, with `reg` summed over the model's `BSplineKAN`
   * layers (see `src/interpret/regularization.ts`: the L1 and entropy of each
   * edge's activation scale, and the coefficient terms), computed on the GPU
   * with its gradients; the logged loss is that objective. Default 0 (off).
   * With `lamb > 0` the steps run layer by layer (not fused).
   */
  lamb?: number;
  /** pykan's `lamb_l1` (default 1). */
  lambL1?: number;
  /** pykan's `lamb_entropy` (default 2). */
  lambEntropy?: number;
  /** pykan's `lamb_coef` (default 0). */
  lambCoef?: number;
  /** pykan's `lamb_coefdiff` (default 0). */
  lambCoefdiff?: number;
  /**
   * pykan's `fit(update_grid=True)`: before step `s` (counted from 0 in this
   * call) with `s % floor(stopGridUpdateStep / gridUpdateNum) == 0`,
   * `startGridUpdateStep <= s < stopGridUpdateStep`, update every B-spline
   * layer's grid on the step's batch (`updateModelGrid`). Default false.
   * Needs a `Sequential` of `BSplineKAN` layers.
   */
  updateGrid?: boolean;
  /** pykan's `grid_update_num` (default 10). */
  gridUpdateNum?: number;
  /** pykan's `start_grid_update_step` (default -1). */
  startGridUpdateStep?: number;
  /** pykan's `stop_grid_update_step` (default 50). */
  stopGridUpdateStep?: number;
  /** Mix of the uniform grid in the grid update (default 0.02, as `updateGrid`'s `gridEps`). */
  gridEps?: number;
}

/** What `onProgress` gets at a logged step. */
export interface FitProgress {
  /** The step (from `startStep + 1`). */
  step: number;
  /** The loss of that step's batch. */
  loss: number;
  /** The validation loss after that step, when validation ran there. */
  validationLoss?: number;
}

/** The logged steps and their losses. */
export interface FitHistory {
  /** Step numbers (from `startStep + 1`). */
  step: number[];
  /** The loss of the batch at that step. */
  loss: number[];
  /** The steps after which the validation set was evaluated (empty without `validation`). */
  validationStep: number[];
  /** The validation loss after each of those steps. */
  validationLoss: number[];
  /** With `validation`: the step of the lowest validation loss (the first, on ties). */
  bestStep?: number;
  /** With `patience`, when the run stopped early: the last step taken. */
  stoppedAt?: number;
}

/** The result of `evaluate`. */
export interface Evaluation {
  /** Mean loss over the set. */
  loss: number;
  /** Fraction of rows whose argmax is the class id (crossEntropy only). */
  accuracy?: number;
}

const FIT_OPTIONS = [
  "x",
  "y",
  "loss",
  "optimizer",
  "steps",
  "epochs",
  "batchSize",
  "shuffle",
  "seed",
  "logEvery",
  "freeze",
  "onProgress",
  "progress",
  "signal",
  "fused",
  "schedule",
  "clipGradNorm",
  "validation",
  "validateEvery",
  "patience",
  "restoreBest",
  "startStep",
  ...REGULARIZATION_SETTINGS,
  "updateGrid",
  "gridUpdateNum",
  "startGridUpdateStep",
  "stopGridUpdateStep",
  "gridEps",
];

const PROGRESS_MODES: Rule<ProgressMode> = oneOf<ProgressMode>(["auto", "bar", "lines", "none"]);
const LOSS: Rule<LossName> = oneOf(LOSSES);
const ABORT_SIGNAL: Rule<AbortSignal> = instanceOf(AbortSignal, "an AbortSignal");

/** With a signal, give timers a turn after this many milliseconds of recording. */
const YIELD_EVERY_MS = 50;

/** Submit (without waiting) at least this often, so that recordings stay a bounded size. */
const FLUSH_EVERY = 64;

/**
 * Checks the model (alive), `x` and `y` (live tensors of the model's GPU with
 * matching shapes and finite values) and the loss name.
 */
function checkData(model: Trainable, owner: string, x: Tensor, y: Tensor, loss: LossName): void {
  checkParametersLive(owner, model.namedParameters());
  checkTensor(`${owner}: x`, x, model.gpu);
  checkTensor(`${owner}: y`, y, model.gpu);
  check(`${owner}: loss`, loss, LOSS);
  checkRows(owner, "x", x, model.inFeatures);
  checkTarget(loss, x.shape[0], model.outFeatures, y);
  checkFinite(`${owner}: x`, x);
  checkFinite(`${owner}: y`, y);
}

/** Checks that crossEntropy class ids are integers in `0 .. classes-1` (one readback). */
async function checkClassIds(y: Tensor, classes: number, owner: string): Promise<void> {
  const ids = await y.read();
  const bad = ids.findIndex((v) => !Number.isInteger(v) || v < 0 || v >= classes);
  if (bad >= 0) {
    throw new KanError(`${owner}: class id y[${bad}] = ${ids[bad]} is not an integer in 0..${classes - 1}`);
  }
}

/** The parameters that `freeze` leaves untouched; an entry that matches nothing is a KanError. */
function frozenParameters(named: Map<string, Parameter>, freeze: readonly string[]): Set<Parameter> {
  const frozen = new Set<Parameter>();
  for (const f of freeze) {
    const matches = [...named].filter(([key]) => key === f || key.endsWith(`.${f}`));
    if (matches.length === 0) {
      throw new KanError(
        `fit: freeze entry "${f}" matches no state-dict key (keys: ${[...named.keys()].join(", ")})`,
      );
    }
    for (const [, p] of matches) frozen.add(p);
  }
  return frozen;
}

function isClosureOptimizer(o: GpuOptimizer | ClosureOptimizer): o is ClosureOptimizer {
  return typeof (o as ClosureOptimizer).stepWithClosure === "function";
}

const OPTIMIZER: Rule<GpuOptimizer | ClosureOptimizer> = {
  expected: "an optimizer such as new Adam({ lr: 1e-3 })",
  test: (o): o is GpuOptimizer | ClosureOptimizer =>
    typeof o === "object" && o !== null && typeof (o as GpuOptimizer).name === "string" &&
    typeof (o as GpuOptimizer).dispose === "function" &&
    (typeof (o as GpuOptimizer).step === "function" || isClosureOptimizer(o as ClosureOptimizer)),
};

/** The options of `fit`, checked, with the defaults that do not depend on the data. */
interface FitPlan {
  steps?: number;
  epochs?: number;
  batchSize?: number;
  logEvery?: number;
  shuffle?: boolean;
  seed: number;
  freeze: string[];
  onProgress?: (p: FitProgress) => void | Promise<void>;
  progress: ProgressMode;
  signal?: AbortSignal;
  fused: boolean;
  schedule?: Schedule;
  clipGradNorm?: number;
  validation?: { x: Tensor; y: Tensor };
  validateEvery?: number;
  patience?: number;
  restoreBest: boolean;
  startStep: number;
  regularization: Required<RegularizationSettings> | null;
  gridUpdate: { every: number; start: number; stop: number; gridEps: number } | null;
}

const START_STEP: Rule<number> = integer(0);

/** Checks the form of option `validation` (its tensors are checked with the data). */
function checkValidation(value: unknown): { x: Tensor; y: Tensor } | undefined {
  if (value === undefined) return undefined;
  if (!isPlainObject(value)) {
    throw new KanError(`fit: option "validation" must be { x, y } (two tensors), got ${describe(value)}`);
  }
  checkOptions('fit: option "validation"', value, ["x", "y"]);
  return value as { x: Tensor; y: Tensor };
}

/** The regularization settings when `lamb` is given and not 0, else null (the other weights are checked either way). */
function checkRegularization(options: FitOptions): Required<RegularizationSettings> | null {
  const given = Object.fromEntries(
    REGULARIZATION_SETTINGS.filter((k) => options[k as keyof FitOptions] !== undefined)
      .map((k) => [k, options[k as keyof FitOptions]]),
  );
  const settings = regularizationSettings("fit", { lamb: 0, ...given });
  if (settings.lamb < 0) throw new KanError(`fit: option "lamb" must be >= 0, got ${settings.lamb}`);
  return settings.lamb === 0 ? null : settings;
}

/** The grid-update schedule when `updateGrid` is true, else null. */
function checkGridUpdate(options: FitOptions): FitPlan["gridUpdate"] {
  const on = option("fit", options, "updateGrid", BOOLEAN, false);
  const num = option("fit", options, "gridUpdateNum", COUNT, 10);
  const start = option("fit", options, "startGridUpdateStep", integer(-1), -1);
  const stop = option("fit", options, "stopGridUpdateStep", COUNT, 50);
  const gridEps = option("fit", options, "gridEps", UNIT, 0.02);
  if (!on) {
    for (const name of ["gridUpdateNum", "startGridUpdateStep", "stopGridUpdateStep", "gridEps"] as const) {
      if (options[name] !== undefined) {
        throw new KanError(`fit: option "${name}" needs option "updateGrid: true"`);
      }
    }
    return null;
  }
  return { every: Math.max(1, Math.floor(stop / num)), start, stop, gridEps };
}

function checkFitOptions(options: FitOptions): FitPlan {
  const count = (name: string) => option("fit", options, name, COUNT);
  const plan: FitPlan = {
    steps: count("steps"),
    epochs: count("epochs"),
    batchSize: count("batchSize"),
    logEvery: count("logEvery"),
    shuffle: option("fit", options, "shuffle", BOOLEAN),
    seed: option("fit", options, "seed", SEED, 0),
    freeze: option("fit", options, "freeze", STRINGS, []),
    onProgress: option("fit", options, "onProgress", FUNCTION) as FitPlan["onProgress"],
    progress: option("fit", options, "progress", PROGRESS_MODES, "auto"),
    signal: option("fit", options, "signal", ABORT_SIGNAL),
    fused: option("fit", options, "fused", BOOLEAN, true),
    schedule: option("fit", options, "schedule", FUNCTION) as Schedule | undefined,
    clipGradNorm: option("fit", options, "clipGradNorm", POSITIVE),
    validation: checkValidation(options.validation),
    validateEvery: count("validateEvery"),
    patience: count("patience"),
    restoreBest: option("fit", options, "restoreBest", BOOLEAN, false),
    startStep: option("fit", options, "startStep", START_STEP, 0),
    regularization: checkRegularization(options),
    gridUpdate: checkGridUpdate(options),
  };
  if ((plan.steps === undefined) === (plan.epochs === undefined)) {
    throw new KanError(
      `fit: give exactly one of "steps" and "epochs", got steps ${describe(plan.steps)} and epochs ${
        describe(plan.epochs)
      }`,
    );
  }
  if (!plan.validation) {
    for (const name of ["validateEvery", "patience", "restoreBest"] as const) {
      if (options[name] !== undefined) {
        throw new KanError(`fit: option "${name}" needs option "validation" ({ x, y }), which is absent`);
      }
    }
  }
  return plan;
}

/** Throws a {@linkcode KanError} whose cause is the signal's reason when `signal` was aborted. */
function checkAborted(signal: AbortSignal | undefined, step: number, total: number): void {
  if (!signal?.aborted) return;
  throw new KanError(
    `fit: aborted before step ${step} of ${total}; the weights are those after step ${step - 1}`,
    { cause: signal.reason },
  );
}

/** A copy, on the GPU, of the values of every block of some parameters (for `restoreBest`). */
class WeightSnapshot {
  #gpu: Gpu;
  #copies: Map<ParameterBlock, Tensor>;

  /** Room for a copy of each block that holds one of `parameters` (nothing is copied yet). */
  constructor(gpu: Gpu, parameters: readonly Parameter[]) {
    this.#gpu = gpu;
    this.#copies = new Map();
    for (const p of parameters) {
      if (!this.#copies.has(p.block)) this.#copies.set(p.block, Tensor.empty(gpu, [p.block.value.size]));
    }
  }

  /** Records copying the current values into the snapshot. */
  take(): void {
    for (const [block, copy] of this.#copies) {
      this.#gpu.copy(block.value.buffer, 0, copy.buffer, 0, block.value.byteLength);
    }
  }

  /** Records copying the snapshot back into the parameters. */
  restore(): void {
    for (const [block, copy] of this.#copies) {
      this.#gpu.copy(copy.buffer, 0, block.value.buffer, 0, block.value.byteLength);
    }
  }

  /** Releases the copies. */
  dispose(): void {
    for (const copy of this.#copies.values()) copy.dispose();
  }
}

/**
 * Trains `model`; see {@linkcode FitOptions}. Every option is checked before
 * any GPU work. As a PyTorch training loop does, it runs the steps in
 * training mode (`model.train()`: batch statistics, running statistics
 * updated) and the validation in evaluation mode, and leaves the model in the
 * mode it found it in.
 */
export async function fit(model: Trainable, options: FitOptions): Promise<FitHistory> {
  if (!isPlainObject(options)) {
    throw new KanError(`fit: expected an options object, got ${describe(options)}`);
  }
  checkOptions("fit", options, FIT_OPTIONS);
  const { x, y, loss } = options;
  checkData(model, "fit", x, y, loss);
  const optimizer = requiredOption("fit", options, "optimizer", OPTIMIZER);
  const plan = checkFitOptions(options);
  const validation = plan.validation;
  if (validation) checkData(model, 'fit: option "validation"', validation.x, validation.y, loss);
  const gpu = model.gpu;
  const rows = x.shape[0];
  const batchSize = Math.min(plan.batchSize ?? rows, rows);
  const stepsPerEpoch = Math.ceil(rows / batchSize);
  const total = check("fit: epochs * steps per epoch", plan.steps ?? plan.epochs! * stepsPerEpoch, COUNT);
  const startStep = plan.startStep;
  const last = check("fit: startStep + steps", startStep + total, SEED);
  const logEvery = plan.logEvery ?? Math.max(1, Math.ceil(total / 50));
  const shuffle = plan.shuffle ?? batchSize < rows;
  const whole = batchSize === rows && !shuffle;
  const rng = shuffle ? new Rng(plan.seed) : null;
  const named = model.namedParameters();
  const frozen = frozenParameters(named, plan.freeze);
  const parameters = [...named.values()];
  if (parameters.every((p) => !p.trainable || frozen.has(p))) {
    throw new KanError(
      `fit: option "freeze" ${
        describe(plan.freeze)
      } leaves no parameter to train (it freezes every trainable one)`,
    );
  }
  if (loss === "crossEntropy") {
    await checkClassIds(y, model.outFeatures, "fit");
    if (validation) await checkClassIds(validation.y, model.outFeatures, 'fit: option "validation"');
  }
  const regularized = plan.regularization ? splineLayers(model) : [];
  if (plan.regularization && regularized.length === 0) {
    throw new KanError(`fit: option "lamb" regularizes BSplineKAN layers, and the model has none`);
  }
  if (plan.gridUpdate && !(model.layers?.length && model.layers.every((l) => l.kind === "BSplineKAN"))) {
    throw new KanError(
      `fit: option "updateGrid" needs a Sequential of BSplineKAN layers (as kan(..., { basis: "bspline" }))`,
    );
  }
  if (plan.regularization && (batchSize < 2 || rows % batchSize === 1)) {
    throw new KanError(
      `fit: option "lamb" needs batches of at least 2 rows (standard deviations over the batch), but ${rows} ` +
        `rows in batches of ${batchSize} give a batch of ${batchSize < 2 ? batchSize : 1}`,
    );
  }
  const { signal, onProgress, schedule, patience } = plan;
  checkAborted(signal, startStep + 1, last);
  // The epochs before startStep's draw their orders from rng as an uninterrupted run would.
  if (!whole && rng) {
    for (let e = 0; e < Math.floor(startStep / stepsPerEpoch); e++) {
      permutation(rows, rng);
    }
  }

  const wasTrainable = parameters.map((p) => p.trainable);
  for (const p of frozen) p.trainable = false;
  const wasTraining = model.training;
  model.train?.(true);
  const history: FitHistory = { step: [], loss: [], validationStep: [], validationLoss: [] };
  const progress = new Progress(total, plan.progress);
  const lossOut = Tensor.zeros(gpu, [1]);
  const fused = plan.fused && !isClosureOptimizer(optimizer) && !plan.regularization
    ? FusedTraining.of(model, parameters, batchSize)
    : null;
  const regOut = plan.regularization ? Tensor.zeros(gpu, [1]) : null;
  for (const layer of regularized) {
    layer.regularizer = {
      settings: plan.regularization!,
      target: { range: regOut!.binding, accumulate: true },
    };
  }
  let clipper: GradNormClipper | null = null;
  let snapshot: WeightSnapshot | null = null;
  let order: EpochOrder | null = null;
  let yielded = performance.now();
  let best = Infinity;
  let sinceBest = 0;
  try {
    // Made after freeze took effect: the clipper's norm covers the trainable gradients only.
    if (plan.clipGradNorm !== undefined) clipper = new GradNormClipper(gpu, parameters, plan.clipGradNorm);
    if (plan.restoreBest) snapshot = new WeightSnapshot(gpu, parameters);
    for (let step = startStep + 1; step <= last; step++) {
      if (signal && performance.now() - yielded > YIELD_EVERY_MS) {
        await new Promise((resolve) => setTimeout(resolve, 0));
        yielded = performance.now();
      }
      checkAborted(signal, step, last);
      const inEpoch = (step - 1) % stepsPerEpoch;
      if (!whole && (inEpoch === 0 || !order)) {
        order?.dispose();
        order = new EpochOrder(gpu, permutation(rows, rng));
      }
      const start = inEpoch * batchSize;
      const count = Math.min(batchSize, rows - start);
      const validated = validation !== undefined &&
        (step % (plan.validateEvery ?? logEvery) === 0 || step === last);
      const logged = step % logEvery === 0 || step === last || validated;
      if (schedule) optimizer.lr = scheduledLr(schedule, step - 1, optimizer.baseLr);
      const sinceStart = step - startStep - 1;
      const grid = plan.gridUpdate;
      if (grid && sinceStart % grid.every === 0 && sinceStart >= grid.start && sinceStart < grid.stop) {
        const batch = whole ? x : order!.gather(x, start, count);
        try {
          const { updateModelGrid } = await import("../interpret/grid_update.ts");
          await updateModelGrid(model as Sequential, batch, { gridEps: grid.gridEps, keepDegenerate: true });
        } finally {
          if (batch !== x) batch.dispose();
        }
      }
      if (fused && !isClosureOptimizer(optimizer)) {
        const index = whole ? null : { range: order!.range, start };
        fused.step(optimizer, loss, x, y, count, index, logged ? lossOut.binding : null, clipper);
      }
      const xb = whole || fused ? x : order!.gather(x, start, count);
      const yb = whole || fused ? y : order!.gather(y, start, count);
      const evaluateBatch = () => {
        model.zeroGrad();
        if (regOut) gpu.clear(regOut.buffer, 0, 4);
        const trace = model.trace(xb);
        const dz = recordLoss(gpu, loss, trace.y, yb, lossOut.binding, 0);
        if (regOut) addRegularization(gpu, regOut.binding, lossOut.binding);
        trace.backward(dz, false);
        dz.dispose();
        trace.release();
        trace.y.dispose();
        clipper?.record();
      };
      let value = Number.NaN;
      if (fused) {
        if (logged) value = new Float32Array(await gpu.read(lossOut.buffer, 0, 4))[0];
        else if (step % FLUSH_EVERY === 0) gpu.flush();
      } else if (isClosureOptimizer(optimizer)) {
        value = await optimizer.stepWithClosure(parameters, () => {
          evaluateBatch();
          return { buffer: lossOut.buffer, offset: 0, size: 4 };
        });
      } else {
        evaluateBatch();
        optimizer.step(parameters);
        if (logged) value = new Float32Array(await gpu.read(lossOut.buffer, 0, 4))[0];
        else if (step % FLUSH_EVERY === 0) gpu.flush();
      }
      if (xb !== x) xb.dispose();
      if (yb !== y) yb.dispose();
      if (!logged) continue;
      if (!Number.isFinite(value)) {
        throw new KanError(
          `fit: the loss became ${value} by step ${step} (${optimizer.name}); lower the learning rate or check the data`,
        );
      }
      let validationLoss: number | undefined;
      if (validated) {
        model.train?.(false); // as a PyTorch validation loop: running statistics, not the batch's
        validationLoss = (await evaluateRows(model, validation.x, validation.y, loss, plan.fused)).loss;
        model.train?.(true);
        if (!Number.isFinite(validationLoss)) {
          throw new KanError(
            `fit: the validation loss became ${validationLoss} after step ${step} (${optimizer.name}); lower the learning rate or check the data`,
          );
        }
        history.validationStep.push(step);
        history.validationLoss.push(validationLoss);
        if (validationLoss < best) {
          best = validationLoss;
          history.bestStep = step;
          sinceBest = 0;
          snapshot?.take();
        } else {
          sinceBest++;
        }
      }
      history.step.push(step);
      history.loss.push(value);
      progress.update(step - startStep, value);
      await onProgress?.(
        validationLoss === undefined ? { step, loss: value } : { step, loss: value, validationLoss },
      );
      if (patience !== undefined && sinceBest >= patience) {
        history.stoppedAt = step;
        break;
      }
    }
    if (snapshot && history.bestStep !== undefined) snapshot.restore();
  } finally {
    progress.done();
    order?.dispose();
    fused?.dispose();
    clipper?.dispose();
    snapshot?.dispose();
    lossOut.dispose();
    regOut?.dispose();
    for (const layer of regularized) layer.regularizer = null;
    parameters.forEach((p, i) => p.trainable = wasTrainable[i]);
    if (wasTraining !== undefined) model.train?.(wasTraining);
  }
  return history;
}

/** The model's B-spline layers (those of `HybridKAN` layers included), or the model when it is one. */
function splineLayers(model: Trainable): BSplineKAN[] {
  const list = (model.layers ?? [model]) as readonly { kind?: string }[];
  return list.flatMap((l) =>
    l.kind === "HybridKAN" ? [(l as HybridKAN).numeric] : l.kind === "BSplineKAN" ? [l as BSplineKAN] : []
  );
}

/** Rows evaluated per forward pass in `evaluate`. */
const EVALUATE_CHUNK = 8192;

/** The mean loss of `model` on (`x`, `y`) and, for crossEntropy, its accuracy (one readback). */
export async function evaluate(model: Trainable, x: Tensor, y: Tensor, loss: LossName): Promise<Evaluation> {
  checkData(model, "evaluate", x, y, loss);
  if (loss === "crossEntropy") await checkClassIds(y, model.outFeatures, "evaluate");
  return await evaluateRows(model, x, y, loss, true);
}

/** `evaluate` on checked data, fused only when `fused` and the model allow it. */
async function evaluateRows(
  model: Trainable,
  x: Tensor,
  y: Tensor,
  loss: LossName,
  fused: boolean,
): Promise<Evaluation> {
  const gpu = model.gpu;
  const rows = x.shape[0];
  const chunks = Math.ceil(rows / EVALUATE_CHUNK);
  const out = Tensor.zeros(gpu, [2 * chunks]);
  const order = chunks > 1 ? new EpochOrder(gpu, permutation(rows, null)) : null;
  const fusedRun = model.fused === false || !fused
    ? null
    : FusedTraining.of(model, [...model.namedParameters().values()], EVALUATE_CHUNK);
  for (let c = 0; c < chunks; c++) {
    const start = c * EVALUATE_CHUNK;
    const count = Math.min(EVALUATE_CHUNK, rows - start);
    if (fusedRun) {
      fusedRun.evaluate(loss, x, y, count, order ? { range: order.range, start } : null, out.binding, 2 * c);
      continue;
    }
    const xb = order ? order.gather(x, start, count) : x;
    const yb = order ? order.gather(y, start, count) : y;
    const z = model.forward(xb);
    recordLoss(gpu, loss, z, yb, out.binding, 2 * c, loss === "crossEntropy" ? 2 * c + 1 : null).dispose();
    z.dispose();
    if (order) {
      xb.dispose();
      yb.dispose();
    }
  }
  fusedRun?.dispose();
  const values = await out.read();
  order?.dispose();
  out.dispose();
  let total = 0;
  let correct = 0;
  for (let c = 0; c < chunks; c++) {
    const count = Math.min(EVALUATE_CHUNK, rows - c * EVALUATE_CHUNK);
    total += values[2 * c] * count / rows;
    correct += values[2 * c + 1];
  }
  return loss === "crossEntropy" ? { loss: total, accuracy: correct / rows } : { loss: total };
}
