/**
 * What every optimizer shares: the trainable ranges of each parameter block,
 * and per-block state tensors created on first use.
 *
 * @module
 */

import type { Gpu } from "../gpu/gpu.ts";
import type { BindingKind, Kernel, KernelSpec } from "../gpu/kernel.ts";
import { linearGrid } from "../gpu/params.ts";
import type { BufferRange, ParamValues } from "../gpu/recorder.ts";
import type { Parameter, ParameterBlock, StateDict } from "../layers/parameter.ts";
import { Tensor } from "../tensor.ts";
import { check, POSITIVE } from "../validate.ts";
import updateRunsSource from "../../shaders/train/update_runs.wgsl" with { type: "text" };

/** A contiguous trainable run of a block: `count` floats from `offset`. */
export interface TrainableRange {
  /** The block. */
  block: ParameterBlock;
  /** Offset in floats. */
  offset: number;
  /** Number of floats. */
  count: number;
}

/** The trainable runs of `parameters`, adjacent views of one block merged. */
export function trainableRanges(parameters: readonly Parameter[]): TrainableRange[] {
  const ranges: TrainableRange[] = [];
  const sorted = parameters.filter((p) => p.trainable && p.size > 0);
  for (const p of sorted) {
    const last = ranges.find((r) => r.block === p.block && r.offset + r.count === p.offset);
    if (last) last.count += p.size;
    else ranges.push({ block: p.block, offset: p.offset, count: p.size });
  }
  return ranges;
}

/**
 * A run of one block updated in one go: `count` floats from `offset`, whose
 * parameters share `tag` (a step count, a first-step flag).
 */
export interface UpdateRun {
  /** Offset in floats. */
  offset: number;
  /** Number of floats. */
  count: number;
  /** What its parameters share. */
  tag: number;
}

/**
 * The runs to update in each block: the trainable parameters in offset order,
 * merged while their `tagOf` is equal and nothing but padding (floats no
 * parameter of `parameters` holds, kept at zero, which every optimizer keeps
 * at zero) lies between them. A model whose parameters all train gets one run.
 */
export function updateRuns(
  parameters: readonly Parameter[],
  tagOf: (p: Parameter) => number,
): Map<ParameterBlock, UpdateRun[]> {
  const byBlock = new Map<ParameterBlock, Parameter[]>();
  for (const p of parameters) {
    const list = byBlock.get(p.block);
    if (list) list.push(p);
    else byBlock.set(p.block, [p]);
  }
  const runs = new Map<ParameterBlock, UpdateRun[]>();
  for (const [block, list] of byBlock) {
    const sorted = [...new Set(list)].sort((a, b) => a.offset - b.offset);
    const blockRuns: UpdateRun[] = [];
    let open: UpdateRun | null = null;
    for (const p of sorted) {
      if (!p.trainable || p.size === 0) {
        open = null; // a frozen parameter ends the run
        continue;
      }
      const tag = tagOf(p);
      if (open && open.tag === tag) {
        open.count = p.offset + p.size - open.offset;
      } else {
        open = { offset: p.offset, count: p.size, tag };
        blockRuns.push(open);
      }
    }
    if (blockRuns.length > 0) runs.set(block, blockRuns);
  }
  return runs;
}

/**
 * An optimizer kernel's two specs: reading the gradient buffer, and summing
 * the fused step's partial gradients first (`FROM_PARTIALS`); `source`
 * declares `p` (with `runs`, `run`, `partial_rows`, `partial_stride`),
 * `grad` and `partials`, and gets update_runs.wgsl appended.
 */
export function optimizerSpecs(
  name: string,
  source: string,
  bindings: readonly BindingKind[],
  workgroupSize: number,
): readonly [KernelSpec, KernelSpec] {
  const spec = (fromPartials: number): KernelSpec => ({
    name: fromPartials ? `${name}.from_partials` : name,
    source: `${source}\n${updateRunsSource}`,
    bindings,
    constants: { WG: workgroupSize, FROM_PARTIALS: fromPartials },
  });
  return [spec(0), spec(1)];
}

/** The most runs one optimizer dispatch takes (its parameter struct holds a table of them). */
export const RUNS_PER_DISPATCH = 8;

/**
 * Records an optimizer kernel over `runs` of a block, {@linkcode RUNS_PER_DISPATCH}
 * at a time: its parameter struct is `header` (whose layout must fill a
 * multiple of 16 bytes) followed by a table of `RUNS_PER_DISPATCH` entries of
 * four fields each (`entry` gives the fields of a run, `entryLayout` their
 * types), unused entries zero, and the kernel runs one thread per float of
 * its runs.
 */
export function dispatchRuns(
  gpu: Gpu,
  kernel: Kernel,
  header: ParamValues,
  entryLayout: string,
  entry: (run: UpdateRun) => readonly number[],
  runs: readonly UpdateRun[],
  buffers: readonly BufferRange[],
  workgroupSize: number,
): void {
  for (let first = 0; first < runs.length; first += RUNS_PER_DISPATCH) {
    const group = runs.slice(first, first + RUNS_PER_DISPATCH);
    const values = [...header.values];
    let layout = header.layout;
    let total = 0;
    for (let r = 0; r < RUNS_PER_DISPATCH; r++) {
      layout += entryLayout;
      if (r < group.length) {
        values.push(...entry(group[r]));
        total += group[r].count;
      } else {
        values.push(0, 0, 0, 0);
      }
    }
    values[0] = group.length; // the header's first field counts the runs
    gpu.dispatch(kernel, { layout, values }, buffers, linearGrid(total, workgroupSize));
  }
}

/**
 * The partial gradients of a fused step (`src/fused/`): `rows` rows of
 * `stride` floats, each laid out as the parameters' block; the gradient is
 * their sum.
 */
export interface GradientPartials {
  /** The partials. */
  range: BufferRange;
  /** Rows to sum. */
  rows: number;
  /** Floats per row (the block's size). */
  stride: number;
}

/** An optimizer that updates parameters on the GPU from their gradients, with no CPU round trip. */
export interface GpuOptimizer {
  /** Its name, for messages. */
  readonly name: string;
  /** The learning rate it was made with (`lr` of its options): a schedule's `baseLr`. */
  readonly baseLr: number;
  /** The learning rate of the next step (settable: schedules set it). */
  lr: number;
  /**
   * Records one update of every trainable parameter; with `partials`, from
   * the sum of a fused step's partial gradients (all parameters in one block).
   */
  step(parameters: readonly Parameter[], partials?: GradientPartials): void;
  /**
   * Everything it needs to go on exactly where it stopped, as a state dict
   * (see {@linkcode OptimizerStateDict}); one readback per parameter block.
   */
  stateDict(): Promise<StateDict>;
  /**
   * Loads what {@linkcode GpuOptimizer.stateDict} gave; a dict of another
   * optimizer, other settings, or malformed entries is a `KanError` that
   * leaves the optimizer as it was. With `parameters` (those it will step, as
   * `fit` gives them: the model's in state-dict order), their count and sizes
   * are checked now; they are checked again at the next step, which takes the
   * state on.
   */
  loadStateDict(dict: StateDict, parameters?: readonly Parameter[]): void;
  /** Releases its state. */
  dispose(): void;
}

/**
 * An optimizer that needs the loss and gradient evaluated again within one
 * step (LBFGS): `record` records a forward and backward pass on the batch at
 * the current parameters and returns where on the GPU the loss will be.
 */
export interface ClosureOptimizer {
  /** Its name. */
  readonly name: string;
  /** The learning rate it was made with (`lr` of its options): a schedule's `baseLr`. */
  readonly baseLr: number;
  /** The learning rate of the next step (settable: schedules set it). */
  lr: number;
  /** One step, calling `record` as often as it needs; returns the loss at the start. */
  stepWithClosure(parameters: readonly Parameter[], record: () => BufferRange): Promise<number>;
  /** Everything it needs to go on exactly where it stopped, as a state dict (see {@linkcode OptimizerStateDict}). */
  stateDict(): Promise<StateDict>;
  /**
   * Loads what {@linkcode ClosureOptimizer.stateDict} gave; a dict that does
   * not fit is a `KanError` that leaves the optimizer as it was. With
   * `parameters`, their count and sizes are checked now, and again at the next step.
   */
  loadStateDict(dict: StateDict, parameters?: readonly Parameter[]): void;
  /** Releases its state. */
  dispose(): void;
}

/**
 * What every optimizer shares about its learning rate: the one it was made
 * with (`baseLr`) and the next step's (`lr`, which schedules set).
 *
 * @example
 * ```ts
 * import { SGD } from "../../mod.ts";
 * const optimizer = new SGD({ lr: 0.1 });
 * optimizer.lr = 0.05; // as a scheduler sets param_groups[0]["lr"]
 * console.log(optimizer.baseLr, optimizer.lr); // 0.1 0.05
 * ```
 */
export abstract class LearningRate {
  /** Its name, for messages. */
  abstract readonly name: string;
  /** The learning rate it was made with: a schedule's `baseLr`. */
  readonly baseLr: number;
  #lr: number;

  /** Starts at `baseLr`. */
  constructor(baseLr: number) {
    this.baseLr = baseLr;
    this.#lr = baseLr;
  }

  /**
   * The learning rate of the next step (`baseLr` until set; a schedule sets
   * it before every step, as PyTorch's schedulers set `param_groups`).
   */
  get lr(): number {
    return this.#lr;
  }
  set lr(value: number) {
    this.#lr = check(`${this.name}: lr`, value, POSITIVE);
  }
}

/** Zeroed state tensors per block (momentum buffers, moments), created on first use. */
export class BlockState {
  #tensors = new Map<ParameterBlock, Tensor[]>();
  #count: number;

  /** `count` state tensors per block. */
  constructor(count: number) {
    this.#count = count;
  }

  /** Whether `block` already has state. */
  has(block: ParameterBlock): boolean {
    return this.#tensors.has(block);
  }

  /** Sets the state of `block` to `values` (one array of the block's size per state tensor). */
  load(gpu: Gpu, block: ParameterBlock, values: readonly Float32Array[]): void {
    for (const t of this.#tensors.get(block) ?? []) t.dispose();
    this.#tensors.set(block, values.map((v) => Tensor.from(gpu, v, [v.length])));
  }

  /** The values of `block`'s state tensors, one readback each; zeros where it has none yet. */
  async read(block: ParameterBlock): Promise<Float32Array[]> {
    const state = this.#tensors.get(block);
    if (!state) return Array.from({ length: this.#count }, () => new Float32Array(block.value.size));
    return await Promise.all(state.map((t) => t.read()));
  }

  /** The state tensors of `block`. */
  of(gpu: Gpu, block: ParameterBlock): Tensor[] {
    let state = this.#tensors.get(block);
    if (!state) {
      state = Array.from({ length: this.#count }, () => Tensor.zeros(gpu, [block.value.size]));
      this.#tensors.set(block, state);
    }
    return state;
  }

  /** Releases every state tensor. */
  dispose(): void {
    for (const list of this.#tensors.values()) for (const t of list) t.dispose();
    this.#tensors.clear();
  }
}
