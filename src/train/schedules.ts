/**
 * Learning-rate schedules for `fit({ schedule })`: functions of the optimizer
 * step (counted from 0) and the optimizer's `baseLr` that return the learning
 * rate of that step, as PyTorch's `LambdaLR`, `CosineAnnealingLR`, `StepLR`
 * and `ExponentialLR` give it with `last_epoch` = step (their closed forms, in
 * float64).
 *
 * @module
 */

import { KanError } from "../errors.ts";
import {
  check,
  checkOptions,
  COUNT,
  describe,
  FUNCTION,
  integer,
  NON_NEGATIVE,
  POSITIVE,
} from "../validate.ts";

/**
 * A learning-rate schedule: the learning rate of optimizer step `step`
 * (0 for the first step ever taken, `startStep` included) from the
 * optimizer's `baseLr` (the `lr` it was made with). `fit` calls it before
 * every optimizer step and refuses a result that is not a positive finite
 * number.
 */
export type Schedule = (step: number, baseLr: number) => number;

const STEP = integer(0);

/** Checks the arguments a schedule gets (when a user calls one directly). */
function checkCall(owner: string, step: unknown, baseLr: unknown): void {
  check(`${owner}: step`, step, STEP);
  check(`${owner}: baseLr`, baseLr, POSITIVE);
}

/**
 * Linear warm-up over `steps` steps: `baseLr * (step + 1) / steps` while
 * `step < steps` (PyTorch's `LambdaLR(optimizer, lambda s: min(1, (s + 1) / steps))`,
 * so the first step already takes `baseLr / steps` and step `steps - 1` takes
 * `baseLr`). From step `steps` on it hands over to `then` with the step
 * shifted to start at 0, `then(step - steps, baseLr)`, as PyTorch's
 * `SequentialLR([warmup, then], milestones=[steps])` does; without `then`
 * the rate stays `baseLr`.
 *
 * @example
 * ```ts
 * import { cosineDecay, warmup } from "./schedules.ts";
 * const schedule = warmup(4, cosineDecay({ steps: 100, minLr: 1e-5 }));
 * console.log([0, 1, 2, 3].map((s) => schedule(s, 0.1))); // [0.025, 0.05, 0.075 (rounded), 0.1]
 * console.log(schedule(4, 0.1)); // 0.1 (the cosine's step 0)
 * ```
 */
export function warmup(steps: number, then?: Schedule): Schedule {
  check("warmup: steps", steps, COUNT);
  if (then !== undefined) check("warmup: then", then, FUNCTION);
  return (step, baseLr) => {
    checkCall("warmup", step, baseLr);
    if (step < steps) return baseLr * ((step + 1) / steps);
    return then ? then(step - steps, baseLr) : baseLr;
  };
}

/** Options of {@linkcode cosineDecay}. */
export interface CosineDecayOptions {
  /** Steps from `baseLr` down to `minLr` (PyTorch's `T_max`). */
  steps: number;
  /** The rate reached at step `steps` (PyTorch's `eta_min`, default 0). */
  minLr?: number;
}

/**
 * Cosine annealing, PyTorch's `CosineAnnealingLR(optimizer, T_max=steps, eta_min=minLr)`
 * in its closed form: `minLr + (baseLr - minLr) * (1 + cos(pi * step / steps)) / 2`.
 * It reaches `minLr` at step `steps` and, as PyTorch's, rises again after it
 * (a period of `2 * steps`). With the default `minLr` of 0 the rate at step
 * `steps` is 0, which `fit` refuses (an optimizer's `lr` must be positive): run
 * at most `steps` steps or give `minLr > 0`.
 *
 * @example
 * ```ts
 * import { cosineDecay } from "./schedules.ts";
 * const schedule = cosineDecay({ steps: 10, minLr: 0.01 });
 * console.log(schedule(0, 0.1), schedule(5, 0.1), schedule(10, 0.1)); // 0.1 0.055 (rounded) 0.01
 * ```
 */
export function cosineDecay(options: CosineDecayOptions): Schedule {
  checkOptions("cosineDecay", options, ["steps", "minLr"]);
  if (options === undefined) {
    throw new KanError(`cosineDecay: expected options { steps, minLr? }, got undefined`);
  }
  const steps = check(`cosineDecay: option "steps"`, options.steps, COUNT);
  const minLr = options.minLr === undefined
    ? 0
    : check(`cosineDecay: option "minLr"`, options.minLr, NON_NEGATIVE);
  return (step, baseLr) => {
    checkCall("cosineDecay", step, baseLr);
    return minLr + (baseLr - minLr) * (1 + Math.cos(Math.PI * step / steps)) / 2;
  };
}

/** Options of {@linkcode stepDecay}. */
export interface StepDecayOptions {
  /** Steps between decays (PyTorch's `step_size`). */
  every: number;
  /** Factor of each decay (PyTorch's `gamma`; any positive number). */
  gamma: number;
}

/**
 * Step decay, PyTorch's `StepLR(optimizer, step_size=every, gamma=gamma)`:
 * `baseLr * gamma ** floor(step / every)`.
 *
 * @example
 * ```ts
 * import { stepDecay } from "./schedules.ts";
 * const schedule = stepDecay({ every: 10, gamma: 0.5 });
 * console.log(schedule(9, 0.1), schedule(10, 0.1), schedule(25, 0.1)); // 0.1 0.05 0.025
 * ```
 */
export function stepDecay(options: StepDecayOptions): Schedule {
  checkOptions("stepDecay", options, ["every", "gamma"]);
  if (options === undefined) {
    throw new KanError(`stepDecay: expected options { every, gamma }, got undefined`);
  }
  const every = check(`stepDecay: option "every"`, options.every, COUNT);
  const gamma = check(`stepDecay: option "gamma"`, options.gamma, POSITIVE);
  return (step, baseLr) => {
    checkCall("stepDecay", step, baseLr);
    return baseLr * gamma ** Math.floor(step / every);
  };
}

/** Options of {@linkcode exponentialDecay}. */
export interface ExponentialDecayOptions {
  /** Factor per step (PyTorch's `gamma`; any positive number). */
  gamma: number;
}

/**
 * Exponential decay, PyTorch's `ExponentialLR(optimizer, gamma=gamma)`:
 * `baseLr * gamma ** step`.
 *
 * @example
 * ```ts
 * import { exponentialDecay } from "./schedules.ts";
 * const schedule = exponentialDecay({ gamma: 0.5 });
 * console.log(schedule(0, 0.1), schedule(3, 0.1)); // 0.1 0.0125
 * ```
 */
export function exponentialDecay(options: ExponentialDecayOptions): Schedule {
  checkOptions("exponentialDecay", options, ["gamma"]);
  if (options === undefined) {
    throw new KanError(`exponentialDecay: expected options { gamma }, got undefined`);
  }
  const gamma = check(`exponentialDecay: option "gamma"`, options.gamma, POSITIVE);
  return (step, baseLr) => {
    checkCall("exponentialDecay", step, baseLr);
    return baseLr * gamma ** step;
  };
}

/**
 * The learning rate `schedule` gives optimizer step `step` (from 0) of an
 * optimizer made with `baseLr`; a result that is not a positive finite
 * number is a {@linkcode KanError} naming the step. An exception the schedule
 * throws propagates unchanged.
 */
export function scheduledLr(schedule: Schedule, step: number, baseLr: number): number {
  const lr = schedule(step, baseLr);
  if (!POSITIVE.test(lr)) {
    throw new KanError(
      `fit: option "schedule" returned ${
        describe(lr)
      } for step ${step} (baseLr ${baseLr}); expected ${POSITIVE.expected}`,
    );
  }
  return lr;
}
