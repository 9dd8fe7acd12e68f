/**
 * torch.optim.SGD on the GPU (momentum, dampening, Nesterov, weight decay),
 * and its float64 reference.
 *
 * @module
 */

import { KanError } from "../errors.ts";
import type { ParamValues } from "../gpu/recorder.ts";
import { StateDictReader } from "../io/checkpoint_entries.ts";
import type { Parameter, StateDict } from "../layers/parameter.ts";
import {
  BOOLEAN,
  checkOptions,
  FRACTION,
  NON_NEGATIVE,
  option,
  POSITIVE,
  requiredOption,
  UNIT_INTERVAL,
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
import source from "../../shaders/train/sgd.wgsl" with { type: "text" };

/** Options of {@linkcode SGD}, with torch's defaults. */
export interface SGDOptions {
  /** Learning rate (required). */
  lr: number;
  /** Momentum factor (default 0). */
  momentum?: number;
  /** Dampening of momentum (default 0). */
  dampening?: number;
  /** L2 penalty (default 0). */
  weightDecay?: number;
  /** Nesterov momentum (default false). */
  nesterov?: boolean;
}

const WG = 256;

/** The kernel, and its variant that first sums the fused step's partial gradients. */
const SPECS = optimizerSpecs("sgd", source, ["uniform", "storage", "storage", "storage", "read"], WG);
/**
 * Stochastic gradient descent, as torch.optim.SGD.
 *
 * @example
 * ```ts
 * import { SGD } from "../../mod.ts";
 * const optimizer = new SGD({ lr: 0.1, momentum: 0.9 });
 * console.log(optimizer.name);
 * ```
 */
export class SGD extends LearningRate implements GpuOptimizer {
  /** "SGD". */
  readonly name = "SGD";
  /** The options in force. */
  readonly options: Readonly<Required<SGDOptions>>;
  #state = new BlockState(1);
  #stepped = new Set<Parameter>();
  #parameters: readonly Parameter[] = [];
  #loaded: LoadedState | null = null;

  /** See {@linkcode SGDOptions}. */
  constructor(options: SGDOptions) {
    checkOptions("SGD", options, ["lr", "momentum", "dampening", "weightDecay", "nesterov"]);
    const resolved = {
      lr: requiredOption("SGD", options, "lr", POSITIVE),
      momentum: option("SGD", options, "momentum", FRACTION, 0),
      dampening: option("SGD", options, "dampening", UNIT_INTERVAL, 0),
      weightDecay: option("SGD", options, "weightDecay", NON_NEGATIVE, 0),
      nesterov: option("SGD", options, "nesterov", BOOLEAN, false),
    };
    super(resolved.lr);
    this.options = resolved;
    if (this.options.nesterov && (this.options.momentum <= 0 || this.options.dampening !== 0)) {
      throw new KanError(
        `SGD: Nesterov momentum requires a momentum > 0 and zero dampening, got momentum ${this.options.momentum} ` +
          `and dampening ${this.options.dampening}`,
      );
    }
  }

  /**
   * Records `p -= lr * update` for every trainable parameter: one dispatch per
   * parameter block (one for a model); a parameter's momentum buffer starts at
   * its first step, as torch's. With `partials` (the fused step), the
   * gradients are first summed from its partial gradients.
   */
  step(parameters: readonly Parameter[], partials?: GradientPartials): void {
    if (this.#loaded) {
      const loaded = this.#loaded;
      if (loaded.sizes.length > 0) checkParameterSizes("SGD.step", loaded.sizes, parameters);
      applyParameterState(this.#state, 1, parameters, loaded, (p) => this.#stepped.add(p));
      this.#loaded = null;
    }
    this.#parameters = [...parameters];
    const o = { ...this.options, lr: this.lr };
    const header: ParamValues = {
      layout: "uuffffuu",
      values: [
        0,
        o.nesterov ? 1 : 0,
        o.lr,
        o.momentum,
        o.dampening,
        o.weightDecay,
        partials?.rows ?? 0,
        partials?.stride ?? 0,
      ],
    };
    const entry = (run: UpdateRun) => [run.offset, run.count, run.tag, 0];
    const runs = updateRuns(parameters, (p) => this.#stepped.has(p) ? 0 : 1);
    for (const p of parameters) if (p.trainable && p.size > 0) this.#stepped.add(p);
    for (const [block, blockRuns] of runs) {
      const gpu = block.value.gpu;
      const [buf] = this.#state.of(gpu, block);
      const buffers = [
        block.grad.binding,
        block.value.binding,
        buf.binding,
        partials?.range ?? gpu.placeholder(0),
      ];
      dispatchRuns(gpu, gpu.kernel(SPECS[partials ? 1 : 0]), header, "uuuu", entry, blockRuns, buffers, WG);
    }
  }

  /** The settings a state dict must have been saved with (see `OptimizerStateDict`), in its order. */
  #settingsList(): [string, number][] {
    const o = this.options;
    return [
      ["momentum", o.momentum],
      ["dampening", o.dampening],
      ["weightDecay", o.weightDecay],
      ["nesterov", o.nesterov ? 1 : 0],
    ];
  }

  /**
   * Everything it needs to go on exactly where it stopped: the entries of
   * `OptimizerStateDict` (settings `momentum`, `dampening`, `weightDecay`,
   * `nesterov` as 0 or 1) and `state.<i>.momentum_buffer` (the parameter's
   * shape) for each parameter `i` of its last step that has started (its
   * buffer, zeros without momentum, marks that it has). One readback per block.
   *
   * @example
   * ```ts
   * import { SGD } from "../../mod.ts";
   * const sgd = new SGD({ lr: 0.1, momentum: 0.9 });
   * sgd.lr = 0.05;
   * const again = new SGD({ lr: 0.1, momentum: 0.9 });
   * again.loadStateDict(await sgd.stateDict());
   * console.log(again.lr); // 0.05
   * ```
   */
  async stateDict(): Promise<StateDict> {
    if (this.#loaded) {
      const header = headerEntries(this.name, this.lr, this.#settingsList(), this.#loaded.sizes);
      return { ...header, ...copyEntries(this.#loaded.dict) };
    }
    const sizes = this.#parameters.map((p) => p.size);
    const header = headerEntries(this.name, this.lr, this.#settingsList(), sizes);
    const state = await parameterStateEntries(
      this.#state,
      this.#parameters,
      ["momentum_buffer"],
      null,
      (p) => this.#stepped.has(p) ? 1 : undefined,
    );
    return { ...header, ...state };
  }

  /**
   * Loads what {@linkcode SGD.stateDict} gave (taken on at the next step,
   * whose parameters must be as many and of the sizes they were); a dict that
   * does not fit is a `KanError` and the optimizer stays as it was. `lr` is
   * restored. With `parameters`, their count and sizes are checked now.
   *
   * @example
   * ```ts
   * import { SGD } from "../../mod.ts";
   * const state = await new SGD({ lr: 0.1, momentum: 0.9 }).stateDict();
   * try {
   *   new SGD({ lr: 0.1, momentum: 0.5 }).loadStateDict(state);
   * } catch (e) {
   *   console.log((e as Error).message); // SGD.loadStateDict: the dict was saved with momentum = 0.9, ...
   * }
   * ```
   */
  loadStateDict(dict: StateDict, parameters?: readonly Parameter[]): void {
    const owner = "SGD.loadStateDict";
    const reader = new StateDictReader(owner, dict);
    const { lr, sizes } = readHeader(reader, owner, this.name, this.#settingsList());
    const loaded = readParameterState(reader, owner, sizes, ["momentum_buffer"], null);
    reader.finish();
    checkLoadParameters(owner, sizes, parameters);
    this.dispose();
    this.#loaded = loaded;
    this.lr = lr;
  }

  /** Releases the momentum buffers (and forgets which parameters have started). */
  dispose(): void {
    this.#state.dispose();
    this.#stepped.clear();
    this.#parameters = [];
    this.#loaded = null;
  }
}

/** One float64 SGD step in place on `p` (and the momentum buffer `buf`); `first` on the first step. */
export function sgdReferenceStep(
  options: Required<SGDOptions>,
  p: Float64Array,
  g: ArrayLike<number>,
  buf: Float64Array,
  first: boolean,
): void {
  const { lr, momentum, dampening, weightDecay, nesterov } = options;
  for (let i = 0; i < p.length; i++) {
    const gi = g[i] + weightDecay * p[i];
    let d = gi;
    if (momentum !== 0) {
      buf[i] = first ? gi : momentum * buf[i] + (1 - dampening) * gi;
      d = nesterov ? gi + momentum * buf[i] : buf[i];
    }
    p[i] -= lr * d;
  }
}
