/**
 * The training loop (`model.fit`) and evaluation (`model.evaluate`): seeded
 * minibatches, many steps recorded per submit, the loss kept on the GPU and
 * read back every `logEvery` steps.
 *
 * @module
 */

import { formatShape, KanError } from "../errors.ts";
import type { Gpu } from "../gpu/gpu.ts";
import type { BufferRange } from "../gpu/recorder.ts";
import type { Trace } from "../layers/layer.ts";
import type { Parameter } from "../layers/parameter.ts";
import { Rng } from "../layers/init.ts";
import { Tensor } from "../tensor.ts";
import { EpochOrder, permutation } from "./batches.ts";
import { checkTarget, LOSSES, type LossName, recordLoss } from "./loss.ts";
import type { GpuOptimizer } from "./optimizer.ts";
import { Progress, type ProgressMode } from "./progress.ts";

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
}

/**
 * An optimizer that needs the loss and gradient evaluated again within one
 * step (LBFGS): `record` records a forward and backward pass on the batch at
 * the current parameters and returns where on the GPU the loss will be.
 */
export interface ClosureOptimizer {
  /** Its name. */
  readonly name: string;
  /** One step, calling `record` as often as it needs; returns the loss at the start. */
  stepWithClosure(parameters: readonly Parameter[], record: () => BufferRange): Promise<number>;
  /** Releases its state. */
  dispose(): void;
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
  /** Called at every logged step. */
  onProgress?: (p: { step: number; loss: number }) => void;
  /** Progress display (default `"auto"`: a bar on a terminal, lines otherwise). */
  progress?: ProgressMode;
}

/** The logged steps and their losses. */
export interface FitHistory {
  /** Step numbers (from 1). */
  step: number[];
  /** The loss of the batch at that step. */
  loss: number[];
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
];

/** Submit (without waiting) at least this often, so that recordings stay a bounded size. */
const FLUSH_EVERY = 64;

function checkPositiveInteger(name: string, v: number | undefined): void {
  if (v !== undefined && (!Number.isInteger(v) || v < 1)) {
    throw new KanError(`fit: option "${name}" must be an integer >= 1, got ${v}`);
  }
}

function checkData(model: Trainable, owner: string, x: Tensor, y: Tensor, loss: LossName): void {
  if (!(x instanceof Tensor) || !(y instanceof Tensor)) {
    throw new KanError(`${owner}: x and y must be Tensors`);
  }
  if (!LOSSES.includes(loss)) {
    throw new KanError(`${owner}: loss must be one of ${LOSSES.join(", ")}, got ${loss}`);
  }
  if (x.shape.length !== 2 || x.shape[1] !== model.inFeatures || x.shape[0] < 1) {
    throw new KanError(`${owner}: x has shape ${formatShape(x.shape)}, expected [N, ${model.inFeatures}]`);
  }
  checkTarget(loss, x.shape[0], model.outFeatures, y);
  for (const [name, t] of [["x", x], ["y", y]] as const) {
    if (t.firstNonFinite !== null && t.firstNonFinite >= 0) {
      throw new KanError(`${owner}: ${name} holds a non-finite value at flat index ${t.firstNonFinite}`);
    }
  }
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

/** Trains `model`; see {@linkcode FitOptions}. */
export async function fit(model: Trainable, options: FitOptions): Promise<FitHistory> {
  if (typeof options !== "object" || options === null) throw new KanError("fit: expected an options object");
  for (const key of Object.keys(options)) {
    if (!FIT_OPTIONS.includes(key)) {
      throw new KanError(`fit: unknown option "${key}" (known: ${FIT_OPTIONS.join(", ")})`);
    }
  }
  const { x, y, loss, optimizer } = options;
  checkData(model, "fit", x, y, loss);
  if (
    !optimizer || (typeof (optimizer as GpuOptimizer).step !== "function" && !isClosureOptimizer(optimizer))
  ) {
    throw new KanError('fit: option "optimizer" must be an optimizer such as new Adam({ lr: 1e-3 })');
  }
  for (const name of ["steps", "epochs", "batchSize", "logEvery"] as const) {
    checkPositiveInteger(name, options[name]);
  }
  if ((options.steps === undefined) === (options.epochs === undefined)) {
    throw new KanError('fit: give exactly one of "steps" and "epochs"');
  }
  const gpu = model.gpu;
  const rows = x.shape[0];
  const batchSize = Math.min(options.batchSize ?? rows, rows);
  const stepsPerEpoch = Math.ceil(rows / batchSize);
  const total = options.steps ?? options.epochs! * stepsPerEpoch;
  const logEvery = options.logEvery ?? Math.max(1, Math.ceil(total / 50));
  const shuffle = options.shuffle ?? batchSize < rows;
  const rng = shuffle ? new Rng(options.seed ?? 0) : null;
  if (loss === "crossEntropy") await checkClassIds(y, model.outFeatures, "fit");

  const named = model.namedParameters();
  const frozen = frozenParameters(named, options.freeze ?? []);
  const parameters = [...named.values()];
  const wasTrainable = parameters.map((p) => p.trainable);
  for (const p of frozen) p.trainable = false;

  const history: FitHistory = { step: [], loss: [] };
  const progress = new Progress(total, options.progress ?? "auto");
  const lossOut = Tensor.zeros(gpu, [1]);
  let order: EpochOrder | null = null;
  try {
    for (let step = 1; step <= total; step++) {
      const inEpoch = (step - 1) % stepsPerEpoch;
      const whole = batchSize === rows && !shuffle;
      if (inEpoch === 0 && !whole) {
        order?.dispose();
        order = new EpochOrder(gpu, permutation(rows, rng));
      }
      const start = inEpoch * batchSize;
      const count = Math.min(batchSize, rows - start);
      const xb = whole ? x : order!.gather(x, start, count);
      const yb = whole ? y : order!.gather(y, start, count);
      const evaluateBatch = () => {
        model.zeroGrad();
        const trace = model.trace(xb);
        const dz = recordLoss(gpu, loss, trace.y, yb, lossOut.binding, 0);
        trace.backward(dz, false);
        dz.dispose();
        trace.release();
        trace.y.dispose();
      };
      const logged = step % logEvery === 0 || step === total;
      let value = Number.NaN;
      if (isClosureOptimizer(optimizer)) {
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
      if (!whole) {
        xb.dispose();
        yb.dispose();
      }
      if (logged) {
        if (!Number.isFinite(value)) {
          throw new KanError(
            `fit: the loss became ${value} by step ${step} (${optimizer.name}); lower the learning rate or check the data`,
          );
        }
        history.step.push(step);
        history.loss.push(value);
        progress.update(step, value);
        options.onProgress?.({ step, loss: value });
      }
    }
  } finally {
    progress.done();
    order?.dispose();
    lossOut.dispose();
    parameters.forEach((p, i) => p.trainable = wasTrainable[i]);
  }
  return history;
}

/** Rows evaluated per forward pass in `evaluate`. */
const EVALUATE_CHUNK = 8192;

/** The mean loss of `model` on (`x`, `y`) and, for crossEntropy, its accuracy (one readback). */
export async function evaluate(model: Trainable, x: Tensor, y: Tensor, loss: LossName): Promise<Evaluation> {
  checkData(model, "evaluate", x, y, loss);
  const gpu = model.gpu;
  const rows = x.shape[0];
  if (loss === "crossEntropy") await checkClassIds(y, model.outFeatures, "evaluate");
  const chunks = Math.ceil(rows / EVALUATE_CHUNK);
  const out = Tensor.zeros(gpu, [2 * chunks]);
  const order = chunks > 1 ? new EpochOrder(gpu, permutation(rows, null)) : null;
  for (let c = 0; c < chunks; c++) {
    const start = c * EVALUATE_CHUNK;
    const count = Math.min(EVALUATE_CHUNK, rows - start);
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
