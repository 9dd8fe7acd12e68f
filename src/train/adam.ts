/**
 * torch.optim.Adam and AdamW (decoupled weight decay) on the GPU, and their
 * float64 reference.
 *
 * @module
 */

import type { ParamValues } from "../gpu/recorder.ts";
import { StateDictReader } from "../io/checkpoint_entries.ts";
import type { Parameter, StateDict } from "../layers/parameter.ts";
import {
  BOOLEAN,
  check,
  checkOptions,
  FRACTION,
  NON_NEGATIVE,
  option,
  pairOf,
  POSITIVE,
} from "../validate.ts";
import {
  BlockState,
  dispatchRuns,
  type GpuOptimizer,
  type GradientPartials,
  LearningRate,
  optimizerSpecs,
  type UpdateRun,
  updateRuns,
} from "./optimizer.ts";
import {
  applyParameterState,
  checkLoadParameters,
  checkParameterSizes,
  copyEntries,
  headerEntries,
  type LoadedState,
  parameterStateEntries,
  readHeader,
  readParameterState,
} from "./optimizer_state.ts";
import source from "../../shaders/train/adam.wgsl" with { type: "text" };

/** Options of {@linkcode Adam} and {@linkcode AdamW}, with torch's defaults. */
export interface AdamOptions {
  /** Learning rate (default 1e-3). */
  lr?: number;
  /** Decay rates of the moments (default [0.9, 0.999]). */
  betas?: [number, number];
  /** Added to the denominator (default 1e-8). */
  eps?: number;
  /** Weight decay (default 0 for Adam, 1e-2 for AdamW). */
  weightDecay?: number;
}

const WG = 256;

/** The kernel, and its variant that first sums the fused step's partial gradients. */
const SPECS = optimizerSpecs(
  "adam",
  source,
  ["uniform", "storage", "storage", "storage", "storage", "read"],
  WG,
);
const OPTION_NAMES = ["lr", "betas", "eps", "weightDecay"];

/** The resolved options of an Adam-family optimizer. */
export interface AdamSettings {
  /** Learning rate. */
  lr: number;
  /** beta1. */
  beta1: number;
  /** beta2. */
  beta2: number;
  /** Epsilon. */
  eps: number;
  /** Weight decay. */
  weightDecay: number;
  /** Decoupled (AdamW) or L2 (Adam) weight decay. */
  decoupled: boolean;
}

function settings(name: string, options: AdamOptions, decoupled: boolean): AdamSettings {
  checkOptions(name, options, OPTION_NAMES);
  const [beta1, beta2] = option(name, options, "betas", pairOf(FRACTION), [0.9, 0.999]);
  return {
    lr: option(name, options, "lr", POSITIVE, 1e-3),
    beta1,
    beta2,
    eps: option(name, options, "eps", POSITIVE, 1e-8),
    weightDecay: option(name, options, "weightDecay", NON_NEGATIVE, decoupled ? 1e-2 : 0),
    decoupled,
  };
}

/**
 * Adam, as torch.optim.Adam.
 *
 * @example
 * ```ts
 * import { Adam } from "../../mod.ts";
 * console.log(new Adam({ lr: 1e-3 }).settings);
 * ```
 */
export class Adam extends LearningRate implements GpuOptimizer {
  /** "Adam" or "AdamW". */
  readonly name: string;
  /** The options in force. */
  readonly settings: Readonly<AdamSettings>;
  #state = new BlockState(2);
  #steps = new Map<Parameter, number>();
  #parameters: readonly Parameter[] = [];
  #loaded: LoadedState | null = null;

  /** See {@linkcode AdamOptions}. */
  constructor(options: AdamOptions = {}, decoupled = false) {
    const name = check("Adam: decoupled", decoupled, BOOLEAN) ? "AdamW" : "Adam";
    const resolved = settings(name, options, decoupled);
    super(resolved.lr);
    this.name = name;
    this.settings = resolved;
  }

  /**
   * Records one Adam update of every trainable parameter: one dispatch per
   * parameter block (one for a model), each parameter counting its own steps
   * as torch does. With `partials` (the fused step), the gradients are first
   * summed from its partial gradients (and stored in the gradient buffer).
   */
  step(parameters: readonly Parameter[], partials?: GradientPartials): void {
    if (this.#loaded) {
      const loaded = this.#loaded;
      if (loaded.sizes.length > 0) checkParameterSizes(`${this.name}.step`, loaded.sizes, parameters);
      applyParameterState(this.#state, 2, parameters, loaded, (p, t) => this.#steps.set(p, t));
      this.#loaded = null;
    }
    this.#parameters = [...parameters];
    const s = { ...this.settings, lr: this.lr };
    for (const p of parameters) {
      if (p.trainable && p.size > 0) this.#steps.set(p, (this.#steps.get(p) ?? 0) + 1);
    }
    const header: ParamValues = {
      layout: "uufffffffuuu",
      values: [
        0,
        s.decoupled ? 1 : 0,
        s.lr,
        s.beta1,
        s.beta2,
        s.eps,
        s.weightDecay,
        1 - s.beta1,
        1 - s.beta2,
        partials?.rows ?? 0,
        partials?.stride ?? 0,
        0,
      ],
    };
    const entry = (run: UpdateRun) => {
      const { stepSize, bc2Sqrt } = adamCorrections(s, run.tag);
      return [run.offset, run.count, stepSize, bc2Sqrt];
    };
    for (const [block, runs] of updateRuns(parameters, (p) => this.#steps.get(p) ?? 0)) {
      const gpu = block.value.gpu;
      const [m, v] = this.#state.of(gpu, block);
      const buffers = [
        block.grad.binding,
        block.value.binding,
        m.binding,
        v.binding,
        partials?.range ?? gpu.placeholder(0),
      ];
      dispatchRuns(gpu, gpu.kernel(SPECS[partials ? 1 : 0]), header, "uuff", entry, runs, buffers, WG);
    }
  }

  /** The settings a state dict must have been saved with (see `OptimizerStateDict`), in its order. */
  #settingsList(): [string, number][] {
    const s = this.settings;
    return [["betas[0]", s.beta1], ["betas[1]", s.beta2], ["eps", s.eps], ["weightDecay", s.weightDecay]];
  }

  /**
   * Everything it needs to go on exactly where it stopped: the entries of
   * `OptimizerStateDict` (settings `betas[0]`, `betas[1]`, `eps`,
   * `weightDecay`) and, per parameter `i` of its last step that has stepped,
   * `state.<i>.step` (a count), `state.<i>.exp_avg` and `state.<i>.exp_avg_sq`
   * (the parameter's shape), as torch's. One readback per parameter block.
   *
   * @example
   * ```ts
   * import { Adam, Gpu, kan, Tensor } from "../../mod.ts";
   * const gpu = await Gpu.request();
   * const model = kan(gpu, [1, 3, 1], { basis: "relu" });
   * const x = Tensor.from(gpu, [0.1, 0.5, 0.9], [3, 1]);
   * const y = Tensor.from(gpu, [0.2, 0.3, 0.1], [3, 1]);
   * const adam = new Adam({ lr: 1e-2 });
   * await model.fit({ x, y, loss: "mse", optimizer: adam, steps: 3, progress: "none" });
   * const state = await adam.stateDict();
   * const again = new Adam({ lr: 1e-2 });
   * again.loadStateDict(state); // goes on from step 3 at the next step
   * gpu.destroy();
   * ```
   */
  async stateDict(): Promise<StateDict> {
    const names = ["exp_avg", "exp_avg_sq"];
    if (this.#loaded) {
      const header = headerEntries(this.name, this.lr, this.#settingsList(), this.#loaded.sizes);
      return { ...header, ...copyEntries(this.#loaded.dict) };
    }
    const sizes = this.#parameters.map((p) => p.size);
    const header = headerEntries(this.name, this.lr, this.#settingsList(), sizes);
    const state = await parameterStateEntries(
      this.#state,
      this.#parameters,
      names,
      "step",
      (p) => this.#steps.get(p),
    );
    return { ...header, ...state };
  }

  /**
   * Loads what {@linkcode Adam.stateDict} gave (the moments and step counts
   * are taken on at the next step, whose parameters must be as many and of
   * the sizes they were); a dict of another optimizer, saved with other
   * settings, or with a missing, extra or malformed entry is a `KanError`,
   * and the optimizer stays as it was. `lr` is restored. With `parameters`,
   * their count and sizes are checked now.
   *
   * @example
   * ```ts
   * import { Adam, AdamW } from "../../mod.ts";
   * const state = await new Adam().stateDict();
   * try {
   *   new AdamW().loadStateDict(state);
   * } catch (e) {
   *   console.log((e as Error).message); // AdamW.loadStateDict: the dict holds the state of optimizer "Adam", ...
   * }
   * ```
   */
  loadStateDict(dict: StateDict, parameters?: readonly Parameter[]): void {
    const owner = `${this.name}.loadStateDict`;
    const reader = new StateDictReader(owner, dict);
    const { lr, sizes } = readHeader(reader, owner, this.name, this.#settingsList());
    const loaded = readParameterState(reader, owner, sizes, ["exp_avg", "exp_avg_sq"], "step", [
      undefined,
      0,
    ]);
    reader.finish();
    checkLoadParameters(owner, sizes, parameters);
    this.dispose();
    this.#loaded = loaded;
    this.lr = lr;
  }

  /** Releases the moments (and forgets the step counts). */
  dispose(): void {
    this.#state.dispose();
    this.#steps.clear();
    this.#parameters = [];
    this.#loaded = null;
  }
}

/**
 * AdamW, as torch.optim.AdamW (decoupled weight decay, default 1e-2).
 *
 * @example
 * ```ts
 * import { AdamW } from "../../mod.ts";
 * console.log(new AdamW({ lr: 1e-3, weightDecay: 1e-4 }).settings.decoupled); // true
 * ```
 */
export class AdamW extends Adam {
  /** See {@linkcode AdamOptions}. */
  constructor(options: AdamOptions = {}) {
    super(options, true);
  }
}

/** torch's step size `lr / (1 - beta1^t)` and `sqrt(1 - beta2^t)` for step `t`. */
export function adamCorrections(s: AdamSettings, t: number): { stepSize: number; bc2Sqrt: number } {
  return { stepSize: s.lr / (1 - s.beta1 ** t), bc2Sqrt: Math.sqrt(1 - s.beta2 ** t) };
}

/** One float64 Adam/AdamW step `t` (from 1) in place on `p`, `m`, `v`. */
export function adamReferenceStep(
  s: AdamSettings,
  t: number,
  p: Float64Array,
  g: ArrayLike<number>,
  m: Float64Array,
  v: Float64Array,
): void {
  const { stepSize, bc2Sqrt } = adamCorrections(s, t);
  for (let i = 0; i < p.length; i++) {
    let gi = g[i];
    if (s.weightDecay !== 0) {
      if (s.decoupled) p[i] *= 1 - s.lr * s.weightDecay;
      else gi += s.weightDecay * p[i];
    }
    m[i] += (gi - m[i]) * (1 - s.beta1);
    v[i] = s.beta2 * v[i] + (1 - s.beta2) * gi * gi;
    p[i] -= stepSize * m[i] / (Math.sqrt(v[i]) / bc2Sqrt + s.eps);
  }
}
