/**
 * Training checkpoints as files: the model, the optimizer and the step in one
 * safetensors file (layout in `checkpoint_codec.ts`), saved through
 * `saveSafetensors` (a temporary file renamed over the target), loaded so that
 * training goes on exactly where it stopped.
 *
 * @module
 */

import { KanError } from "../errors.ts";
import { loadState, type StateDict } from "../layers/parameter.ts";
import type { Module } from "../layers/module.ts";
import type { ClosureOptimizer, GpuOptimizer } from "../train/optimizer.ts";
import { checkOptions, describe, isPlainObject } from "../validate.ts";
import { checkpointEntries, checkpointParts } from "./checkpoint_codec.ts";
import { readSafetensors, saveSafetensors } from "./safetensors_file.ts";

/** What {@linkcode saveCheckpoint} saves. */
export interface SaveCheckpointOptions {
  /** The model. */
  model: Module;
  /** Its optimizer. */
  optimizer: GpuOptimizer | ClosureOptimizer;
  /** The number of optimizer steps taken so far (give it to `fit({ startStep })` to go on). */
  step: number;
  /** Strings to keep beside them (not `kan_checkpoint`, `step` or `optimizer`). */
  metadata?: Record<string, string>;
}

/** What {@linkcode loadCheckpoint} loads into. */
export interface LoadCheckpointOptions {
  /** A model of the saved one's layout. */
  model: Module;
  /** An optimizer of the saved one's kind, made with the same options. */
  optimizer: GpuOptimizer | ClosureOptimizer;
}

function checkArguments(
  owner: string,
  options: unknown,
  names: string[],
): { model: Module; optimizer: GpuOptimizer | ClosureOptimizer } {
  if (!isPlainObject(options)) {
    throw new KanError(
      `${owner}: expected an options object { ${names.join(", ")} }, got ${describe(options)}`,
    );
  }
  checkOptions(owner, options, names);
  const { model, optimizer } = options as { model?: Module; optimizer?: GpuOptimizer };
  if (typeof model?.stateDict !== "function" || typeof model.namedParameters !== "function") {
    throw new KanError(
      `${owner}: option "model" must be a model such as kan(gpu, [2, 5, 1]), got ${describe(model)}`,
    );
  }
  if (
    typeof optimizer?.stateDict !== "function" || typeof optimizer.loadStateDict !== "function" ||
    typeof optimizer.name !== "string"
  ) {
    throw new KanError(
      `${owner}: option "optimizer" must be an optimizer such as new Adam(), got ${describe(optimizer)}`,
    );
  }
  return { model, optimizer };
}

/**
 * Saves a training checkpoint: the model's state dict, the optimizer's
 * (`optimizer.stateDict()`), `step` and `metadata`, in one safetensors file
 * written to a temporary file and renamed over `path`. Bad arguments are a
 * `KanError` and leave `path` as it was.
 *
 * @example
 * ```ts
 * import { Adam, Gpu, kan, loadCheckpoint, saveCheckpoint, Tensor } from "../../mod.ts";
 * const gpu = await Gpu.request();
 * const x = Tensor.from(gpu, [0, 0.5, 1], [3, 1]);
 * const y = Tensor.from(gpu, [0, 0.25, 1], [3, 1]);
 * const model = kan(gpu, [1, 4, 1], { basis: "bspline" });
 * const optimizer = new Adam({ lr: 1e-2 });
 * await model.fit({ x, y, loss: "mse", optimizer, steps: 10, progress: "none" });
 * const path = await Deno.makeTempFile({ suffix: ".safetensors" });
 * await saveCheckpoint(path, { model, optimizer, step: 10, metadata: { run: "example" } });
 *
 * // later, maybe in another process: the same layout and options, any seed
 * const again = kan(gpu, [1, 4, 1], { basis: "bspline", seed: 1 });
 * const resumed = new Adam({ lr: 1e-2 });
 * const { step } = await loadCheckpoint(path, { model: again, optimizer: resumed });
 * await again.fit({ x, y, loss: "mse", optimizer: resumed, steps: 10, progress: "none" }); // steps 11..20
 * console.log(step); // 10
 * gpu.destroy();
 * ```
 */
export async function saveCheckpoint(path: string, options: SaveCheckpointOptions): Promise<void> {
  const owner = "saveCheckpoint";
  const { model, optimizer } = checkArguments(owner, options, ["model", "optimizer", "step", "metadata"]);
  if (typeof path !== "string" || path === "") {
    throw new KanError(`${owner}: path must be a non-empty string, got ${describe(path)}`);
  }
  // The step and metadata are checked before any GPU work.
  checkpointEntries(owner, {
    model: {},
    optimizer: {},
    optimizerName: optimizer.name,
    step: options.step,
    metadata: options.metadata ?? {},
  });
  const [modelDict, optimizerDict] = await Promise.all([model.stateDict(), optimizer.stateDict()]);
  const { dict, metadata } = checkpointEntries(owner, {
    model: modelDict,
    optimizer: optimizerDict,
    optimizerName: optimizer.name,
    step: options.step,
    metadata: options.metadata ?? {},
  });
  try {
    await saveSafetensors(path, dict, metadata);
  } catch (cause) {
    if (!(cause instanceof KanError)) throw cause;
    throw new KanError(`${owner}: ${cause.message}`, { cause });
  }
}

/** Checks `dict` as `model.loadStateDict(dict)` would, without writing anything. */
function checkModelDict(model: Module, dict: StateDict): void {
  const checked = new Error("checked");
  try {
    loadState(model.namedParameters(), dict, () => {
      model.checkState(dict);
      throw checked; // stops loadState before it writes
    });
  } catch (e) {
    if (e !== checked) throw e;
  }
}

/**
 * Loads a checkpoint of {@linkcode saveCheckpoint} into `model` and
 * `optimizer` (of the saved kind, made with the same options; any seed) and
 * returns the step and the user's metadata. Everything is checked before
 * anything changes: a missing or malformed file, a file that is not a
 * checkpoint, a model of another layout or an optimizer of another kind or
 * other options is a `KanError`, and model and optimizer stay as they were.
 * The optimizer takes its state on at its next step, whose parameters must be
 * the model's (as `fit` gives them). To go on with shuffled minibatches in
 * the same order, give `fit` the returned step (its `startStep`).
 *
 * @example
 * ```ts
 * import { Gpu, kan, loadCheckpoint, saveCheckpoint, SGD } from "../../mod.ts";
 * const gpu = await Gpu.request();
 * const model = kan(gpu, [2, 3, 1], { basis: "mlp" });
 * const path = await Deno.makeTempFile({ suffix: ".safetensors" });
 * await saveCheckpoint(path, { model, optimizer: new SGD({ lr: 0.1 }), step: 0 });
 * const { step, metadata } = await loadCheckpoint(path, { model, optimizer: new SGD({ lr: 0.1 }) });
 * console.log(step, metadata); // 0 {}
 * gpu.destroy();
 * ```
 */
export async function loadCheckpoint(
  path: string,
  options: LoadCheckpointOptions,
): Promise<{ step: number; metadata: Record<string, string> }> {
  const owner = "loadCheckpoint";
  const { model, optimizer } = checkArguments(owner, options, ["model", "optimizer"]);
  let file: { dict: StateDict; metadata: Record<string, string> };
  try {
    file = await readSafetensors(path);
  } catch (cause) {
    if (!(cause instanceof KanError)) throw cause;
    throw new KanError(`${owner}: ${cause.message}`, { cause });
  }
  const parts = checkpointParts(`${owner}: "${path}"`, file.dict, file.metadata);
  if (parts.optimizerName !== optimizer.name) {
    throw new KanError(
      `${owner}: "${path}" holds the state of optimizer ${JSON.stringify(parts.optimizerName)}, ` +
        `got ${optimizer.name}`,
    );
  }
  const prefixed = (e: unknown, what: string) =>
    e instanceof KanError ? new KanError(`${owner}: "${path}": ${what}: ${e.message}`, { cause: e }) : e;
  try {
    checkModelDict(model, parts.model);
  } catch (e) {
    throw prefixed(e, "the model's state");
  }
  try {
    optimizer.loadStateDict(parts.optimizer, [...model.namedParameters().values()]);
  } catch (e) {
    throw prefixed(e, "the optimizer's state");
  }
  model.loadStateDict(parts.model);
  return { step: parts.step, metadata: parts.metadata };
}
