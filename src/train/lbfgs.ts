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
import { countsEntry, float64Entry, StateDictReader } from "../io/checkpoint_entries.ts";
import type { Parameter, StateDict } from "../layers/parameter.ts";
import { Tensor } from "../tensor.ts";
import { type ClosureOptimizer, LearningRate, trainableRanges } from "./optimizer.ts";
import { checkLoadParameters, checkParameterSizes, headerEntries, readHeader } from "./optimizer_state.ts";
import {
  type Evaluated,
  type LbfgsSettings,
  type LbfgsState,
  lbfgsStep,
  newLbfgsState,
} from "./lbfgs_core.ts";
import { checkOptions, COUNT, NON_NEGATIVE, oneOf, option, POSITIVE, type Rule } from "../validate.ts";

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
export class LBFGS extends LearningRate implements ClosureOptimizer {
  /** "LBFGS". */
  readonly name = "LBFGS";
  /** The options in force. */
  readonly settings: Readonly<LbfgsSettings>;
  #state: LbfgsState = newLbfgsState();
  /** The sizes of the parameters of its last step (or of the loaded state). */
  #sizes: number[] = [];
  /** Whether the next step checks its parameters against `#sizes` (after a load). */
  #checkSizes = false;

  /** See {@linkcode LBFGSOptions}. */
  constructor(options: LBFGSOptions = {}) {
    checkOptions("LBFGS", options, OPTION_NAMES);
    const maxIter = option("LBFGS", options, "maxIter", COUNT, 20);
    const resolved: LbfgsSettings = {
      lr: option("LBFGS", options, "lr", POSITIVE, 1),
      maxIter,
      maxEval: option("LBFGS", options, "maxEval", COUNT, Math.floor(maxIter * 5 / 4)),
      toleranceGrad: option("LBFGS", options, "toleranceGrad", NON_NEGATIVE, 1e-7),
      toleranceChange: option("LBFGS", options, "toleranceChange", NON_NEGATIVE, 1e-9),
      historySize: option("LBFGS", options, "historySize", COUNT, 10),
      toleranceYs: option("LBFGS", options, "toleranceYs", NON_NEGATIVE, 1e-10),
      lineSearch: option("LBFGS", options, "lineSearch", LINE_SEARCH, "strong_wolfe"),
    };
    super(resolved.lr);
    this.settings = resolved;
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
    if (this.#checkSizes && this.#sizes.length > 0) {
      checkParameterSizes("LBFGS.step", this.#sizes, parameters);
    }
    const held = this.#state.d?.length ?? this.#state.prevFlatGrad?.length ?? size;
    if (held !== size) {
      throw new KanError(
        `LBFGS.step: its state (curvature history, direction) is of ${held} values, but the trainable ` +
          `parameters hold ${size}; the set of trainable parameters (fit's "freeze") must stay the same, ` +
          `or use a new LBFGS`,
      );
    }
    this.#checkSizes = false;
    this.#sizes = parameters.map((p) => p.size);
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
      const loss = await lbfgsStep({ ...this.settings, lr: this.lr }, this.#state, x, evaluate);
      write(x);
      return loss;
    } finally {
      flat.dispose();
    }
  }

  /** The settings a state dict must have been saved with (see `OptimizerStateDict`), in its order. */
  #settingsList(): [string, number][] {
    const s = this.settings;
    return [
      ["maxIter", s.maxIter],
      ["maxEval", s.maxEval],
      ["toleranceGrad", s.toleranceGrad],
      ["toleranceChange", s.toleranceChange],
      ["historySize", s.historySize],
      ["toleranceYs", s.toleranceYs],
      ["lineSearch", s.lineSearch === "strong_wolfe" ? 1 : 0],
    ];
  }

  /**
   * Everything it needs to go on exactly where it stopped: the entries of
   * `OptimizerStateDict` (settings `maxIter`, `maxEval`, `toleranceGrad`,
   * `toleranceChange`, `historySize`, `toleranceYs`, `lineSearch` as 1 for
   * `"strong_wolfe"`, 0 for null) and torch's state, every value in float64
   * bits: `state.func_evals` and `state.n_iter` (counts), `state.t`,
   * `state.H_diag`, `state.prev_loss`, and over the `n` trainable values
   * `state.d [n]` and `state.prev_flat_grad [n]` (when set),
   * `state.old_dirs [h, n]`, `state.old_stps [h, n]`, `state.ro [h]` (when
   * the history holds `h > 0` pairs). No GPU work.
   *
   * @example
   * ```ts
   * import { LBFGS } from "../../mod.ts";
   * const state = await new LBFGS({ historySize: 5 }).stateDict();
   * new LBFGS({ historySize: 5 }).loadStateDict(state);
   * console.log(Object.keys(state).includes("state.n_iter")); // true
   * ```
   */
  stateDict(): Promise<StateDict> {
    const st = this.#state;
    const n = st.d?.length ?? st.prevFlatGrad?.length ?? 0;
    const h = st.oldDirs.length;
    const stack = (rows: Float64Array[]) => {
      const all = new Float64Array(h * n);
      rows.forEach((r, i) => all.set(r, i * n));
      return float64Entry(all, [h, n]);
    };
    const dict: StateDict = {
      ...headerEntries(this.name, this.lr, this.#settingsList(), this.#sizes),
      "state.func_evals": countsEntry([st.funcEvals]),
      "state.n_iter": countsEntry([st.nIter]),
      "state.t": float64Entry([st.t], []),
      "state.H_diag": float64Entry([st.hDiag], []),
      "state.prev_loss": float64Entry([st.prevLoss], []),
    };
    if (st.d) dict["state.d"] = float64Entry(st.d, [n]);
    if (st.prevFlatGrad) dict["state.prev_flat_grad"] = float64Entry(st.prevFlatGrad, [n]);
    if (h > 0) {
      dict["state.old_dirs"] = stack(st.oldDirs);
      dict["state.old_stps"] = stack(st.oldStps);
      dict["state.ro"] = float64Entry(st.ro, [h]);
    }
    return Promise.resolve(dict);
  }

  /**
   * Loads what {@linkcode LBFGS.stateDict} gave; the next step's parameters
   * must be as many and of the sizes they were, and its trainable values as
   * many as the state's. A dict of another optimizer, saved with other
   * settings, or with a missing, extra or malformed entry is a `KanError`,
   * and the optimizer stays as it was. `lr` is restored. With `parameters`,
   * their count and sizes are checked now.
   *
   * @example
   * ```ts
   * import { LBFGS } from "../../mod.ts";
   * const state = await new LBFGS().stateDict();
   * try {
   *   new LBFGS({ historySize: 100 }).loadStateDict(state);
   * } catch (e) {
   *   console.log((e as Error).message); // LBFGS.loadStateDict: the dict was saved with historySize = 10, ...
   * }
   * ```
   */
  loadStateDict(dict: StateDict, parameters?: readonly Parameter[]): void {
    const owner = "LBFGS.loadStateDict";
    const reader = new StateDictReader(owner, dict);
    const { lr, sizes } = readHeader(reader, owner, this.name, this.#settingsList());
    const vector = (key: string, n: number) => reader.has(key) ? reader.float64(key, [n]).data : null;
    const d = vector("state.d", -1);
    const prevFlatGrad = vector("state.prev_flat_grad", d?.length ?? -1);
    let n = d?.length ?? -1;
    // torch sets the direction and the previous gradient together, and keeps a history only beside them.
    const history = reader.has("state.old_dirs");
    if ((d === null) !== (prevFlatGrad === null) || (history && d === null)) {
      throw new KanError(
        `${owner}: "state.d" and "state.prev_flat_grad" come together, and "state.old_dirs" only with them; ` +
          `got ${
            ["state.d", "state.prev_flat_grad", "state.old_dirs"].filter((k) => reader.has(k)).join(", ")
          }`,
      );
    }
    const state: LbfgsState = {
      ...newLbfgsState(),
      funcEvals: reader.counts("state.func_evals", 1)[0],
      nIter: reader.counts("state.n_iter", 1)[0],
      t: reader.scalar("state.t"),
      hDiag: reader.scalar("state.H_diag"),
      prevLoss: reader.scalar("state.prev_loss", false),
      d,
      prevFlatGrad,
    };
    if (history) {
      const dirs = reader.float64("state.old_dirs", [-1, n]);
      const [h] = dirs.shape;
      n = dirs.shape[1];
      if (h > this.settings.historySize) {
        throw new KanError(
          `${owner}: entry "state.old_dirs" holds ${h} curvature pairs, more than historySize ${this.settings.historySize}`,
        );
      }
      const stps = reader.float64("state.old_stps", [h, n]).data;
      const rows = (all: Float64Array) => Array.from({ length: h }, (_, i) => all.slice(i * n, (i + 1) * n));
      state.oldDirs = rows(dirs.data);
      state.oldStps = rows(stps);
      state.ro = [...reader.float64("state.ro", [h]).data];
    }
    reader.finish();
    checkLoadParameters(owner, sizes, parameters);
    this.#state = state;
    this.#sizes = sizes;
    this.#checkSizes = true;
    this.lr = lr;
  }

  /** Forgets the curvature history. */
  dispose(): void {
    this.#state = newLbfgsState();
    this.#sizes = [];
    this.#checkSizes = false;
  }
}
