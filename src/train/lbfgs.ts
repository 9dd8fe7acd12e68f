/**
 * torch.optim.LBFGS for models on the GPU. The GPU evaluates the loss and the
 * gradient (one forward and backward pass, then one readback of the loss and
 * every trainable gradient, gathered into one buffer); the two-loop recursion
 * and the strong-Wolfe line search run in float64 on the CPU (`lbfgs_core.ts`),
 * since every line-search decision needs a scalar on the CPU anyway.
 *
 * @module
 */

import { KanError } from "../errors.ts";
import type { BufferRange } from "../gpu/recorder.ts";
import type { Parameter } from "../layers/parameter.ts";
import { Tensor } from "../tensor.ts";
import type { ClosureOptimizer } from "./optimizer.ts";
import {
  type Evaluated,
  type LbfgsSettings,
  type LbfgsState,
  lbfgsStep,
  newLbfgsState,
} from "./lbfgs_core.ts";
import { trainableRanges } from "./optimizer.ts";
import { check, checkOptions, COUNT, NON_NEGATIVE, oneOf, option, POSITIVE, type Rule } from "../validate.ts";

const LINE_SEARCH: Rule<"strong_wolfe" | null> = oneOf<"strong_wolfe" | null>(["strong_wolfe", null]);

/** Options of {@linkcode LBFGS}: torch's, with pykan's history of 10 and strong-Wolfe line search. */
export interface LBFGSOptions {
  /** Step scale (default 1). */
  lr?: number;
  /** Iterations per step (default 20). */
  maxIter?: number;
  /** Function evaluations per step (default 1.25 * maxIter). */
  maxEval?: number;
  /** Gradient tolerance (default 1e-7). */
  toleranceGrad?: number;
  /** Loss and step tolerance (default 1e-9). */
  toleranceChange?: number;
  /** Curvature pairs kept (default 10). */
  historySize?: number;
  /** Keep a curvature pair only when y·s exceeds this (default 1e-10, torch's; pykan uses 1e-32). */
  toleranceYs?: number;
  /** `"strong_wolfe"` (default) or `null`. */
  lineSearch?: "strong_wolfe" | null;
}

const OPTION_NAMES = [
  "lr",
  "maxIter",
  "maxEval",
  "toleranceGrad",
  "toleranceChange",
  "historySize",
  "toleranceYs",
  "lineSearch",
];

/**
 * Limited-memory BFGS, as torch.optim.LBFGS; use it with `fit` like any optimizer.
 *
 * @example
 * ```ts
 * import { LBFGS } from "../../mod.ts";
 * console.log(new LBFGS({ historySize: 10 }).settings.lineSearch); // "strong_wolfe"
 * ```
 */
export class LBFGS implements ClosureOptimizer {
  /** "LBFGS". */
  readonly name = "LBFGS";
  /** The options in force. */
  readonly settings: Readonly<LbfgsSettings>;
  #lr: number;
  #state: LbfgsState = newLbfgsState();

  /** See {@linkcode LBFGSOptions}. */
  constructor(options: LBFGSOptions = {}) {
    checkOptions("LBFGS", options, OPTION_NAMES);
    const maxIter = option("LBFGS", options, "maxIter", COUNT, 20);
    this.settings = {
      lr: option("LBFGS", options, "lr", POSITIVE, 1),
      maxIter,
      maxEval: option("LBFGS", options, "maxEval", COUNT, Math.floor(maxIter * 5 / 4)),
      toleranceGrad: option("LBFGS", options, "toleranceGrad", NON_NEGATIVE, 1e-7),
      toleranceChange: option("LBFGS", options, "toleranceChange", NON_NEGATIVE, 1e-9),
      historySize: option("LBFGS", options, "historySize", COUNT, 10),
      toleranceYs: option("LBFGS", options, "toleranceYs", NON_NEGATIVE, 1e-10),
      lineSearch: option("LBFGS", options, "lineSearch", LINE_SEARCH, "strong_wolfe"),
    };
    this.#lr = this.settings.lr;
  }

  /** The learning rate it was made with: a schedule's `baseLr`. */
  get baseLr(): number {
    return this.settings.lr;
  }

  /** The learning rate of the next step (`settings.lr` until set; a schedule sets it before every step). */
  get lr(): number {
    return this.#lr;
  }
  set lr(value: number) {
    this.#lr = check("LBFGS: lr", value, POSITIVE);
  }

  /**
   * One step: `record` records a forward and backward pass at the current
   * parameters and returns where the loss will be; it runs as often as the
   * line search needs. Returns the loss at the start of the step.
   */
  async stepWithClosure(parameters: readonly Parameter[], record: () => BufferRange): Promise<number> {
    const ranges = trainableRanges(parameters);
    if (ranges.length === 0) throw new KanError("LBFGS: no trainable parameters");
    const gpu = ranges[0].block.value.gpu;
    const size = ranges.reduce((s, r) => s + r.count, 0);
    const flat = Tensor.empty(gpu, [1 + size]);
    const gather = (what: "value" | "grad") => {
      let at = 1;
      for (const r of ranges) {
        const src = what === "value" ? r.block.value : r.block.grad;
        gpu.copy(src.buffer, r.offset * 4, flat.buffer, at * 4, r.count * 4);
        at += r.count;
      }
    };
    const write = (x: Float64Array) => {
      let at = 0;
      for (const r of ranges) {
        gpu.write(r.block.value.buffer, r.offset * 4, Float32Array.from(x.subarray(at, at + r.count)));
        at += r.count;
      }
    };
    try {
      gather("value");
      const x = Float64Array.from((await flat.read()).subarray(1));
      const evaluate = async (point: Float64Array): Promise<Evaluated> => {
        write(point);
        const loss = record();
        gpu.copy(loss.buffer, loss.offset ?? 0, flat.buffer, 0, 4);
        gather("grad");
        const values = await flat.read();
        return { loss: values[0], grad: Float64Array.from(values.subarray(1)) };
      };
      const loss = await lbfgsStep({ ...this.settings, lr: this.#lr }, this.#state, x, evaluate);
      write(x);
      return loss;
    } finally {
      flat.dispose();
    }
  }

  /** Forgets the curvature history. */
  dispose(): void {
    this.#state = newLbfgsState();
  }
}
