/**
 * The state dicts of optimizers: the header every one starts with (its name,
 * `lr`, options and parameter sizes) and per-parameter state entries, read
 * strictly and applied only once everything is checked.
 *
 * @module
 */

import { KanError } from "../errors.ts";
import { countsEntry, float64Entry, type StateDictReader, textEntry } from "../io/checkpoint_entries.ts";
import type { Parameter, ParameterBlock, StateDict } from "../layers/parameter.ts";
import { check, describe, POSITIVE } from "../validate.ts";
import type { BlockState } from "./optimizer.ts";

/**
 * The state dict of an optimizer: float32 entries only (so that it goes into
 * safetensors as it is), written with the encodings of
 * `src/io/checkpoint_entries.ts` where a value is not float32. Every
 * optimizer's has
 *
 * - `optimizer`: its name (`"SGD"`, `"Adam"`, `"AdamW"`, `"LBFGS"`), as text;
 * - `lr`: the learning rate of the next step (float64), restored by a load as
 *   torch's `load_state_dict` restores it (set `lr` afterwards to change it);
 * - `settings`: its other options (float64, in the order its doc gives); a
 *   load into an optimizer made with other options is refused, naming the
 *   option, since it could not go on exactly;
 * - `params`: the sizes of the parameters of its last step, in the order that
 *   step was given them (counts). Parameters are known by that position, as
 *   torch's optimizer knows them by index: `fit` gives a model's parameters
 *   in state-dict order, so the same model in a new process gets the state of
 *   the same parameters.
 *
 * then its state: `state.<i>.<name>` per parameter `i` that has any (SGD's
 * `momentum_buffer`; Adam's `step`, `exp_avg`, `exp_avg_sq`), each of the
 * parameter's shape; LBFGS's `state.<name>` as torch names them.
 */
export type OptimizerStateDict = StateDict;

/** The entries every optimizer's state dict starts with (see {@linkcode OptimizerStateDict}). */
export function headerEntries(
  name: string,
  lr: number,
  settings: readonly (readonly [string, number])[],
  sizes: readonly number[],
): StateDict {
  return {
    optimizer: textEntry(name),
    lr: float64Entry([lr], []),
    settings: float64Entry(settings.map(([, v]) => v), [settings.length]),
    params: countsEntry(sizes),
  };
}

/**
 * Reads and checks the entries of {@linkcode headerEntries}: the name must be
 * `name` and the settings those given; returns the learning rate and the
 * parameter sizes.
 */
export function readHeader(
  reader: StateDictReader,
  owner: string,
  name: string,
  settings: readonly (readonly [string, number])[],
): { lr: number; sizes: number[] } {
  const kind = reader.text("optimizer");
  if (kind !== name) {
    throw new KanError(
      `${owner}: the dict holds the state of optimizer ${JSON.stringify(kind)}, this optimizer is ${name}`,
    );
  }
  const lr = check(`${owner}: entry "lr"`, reader.scalar("lr"), POSITIVE);
  const saved = reader.float64("settings", [settings.length], false).data;
  settings.forEach(([setting, value], i) => {
    if (saved[i] !== value) {
      throw new KanError(
        `${owner}: the dict was saved with ${setting} = ${saved[i]}, this optimizer has ${value}; ` +
          `make it with the same options to resume`,
      );
    }
  });
  return { lr, sizes: reader.counts("params") };
}

/**
 * Throws a {@linkcode KanError} naming `owner` unless `parameters` are as many
 * as `sizes` and each of that size.
 */
export function checkParameterSizes(
  owner: string,
  sizes: readonly number[],
  parameters: readonly Parameter[],
): void {
  if (parameters.length !== sizes.length) {
    throw new KanError(
      `${owner}: the loaded state is of ${sizes.length} parameters, got ${parameters.length} ` +
        `(the optimizer knows parameters by their position in the list fit gives it: the model's, in state-dict order)`,
    );
  }
  parameters.forEach((p, i) => {
    if (p.size !== sizes[i]) {
      throw new KanError(
        `${owner}: the loaded state's parameter ${i} has ${sizes[i]} values, got "${p.name}" with ${p.size}`,
      );
    }
  });
}

/** Per-parameter state loaded into a GPU optimizer, waiting for the parameters of its next step. */
export interface LoadedState {
  /** The sizes of the parameters it was saved with. */
  sizes: number[];
  /** Per parameter position that has state: its tag (a step count) and one array per state tensor. */
  entries: Map<number, { tag: number; values: Float32Array[] }>;
  /** The `state.*` entries, copied, for `stateDict` before the next step. */
  dict: StateDict;
}

/**
 * Reads the per-parameter state `state.<i>.<name>` (for each `name` of
 * `names`, of parameter `i`'s size in any shape, each value at least
 * `minimum[k]` when given; all or none of them per `i`) and, with `tagName`,
 * the count `state.<i>.<tagName>` (at least 1; 1 without it).
 */
export function readParameterState(
  reader: StateDictReader,
  owner: string,
  sizes: readonly number[],
  names: readonly string[],
  tagName: string | null,
  minimum: readonly (number | undefined)[] = [],
): LoadedState {
  const entries = new Map<number, { tag: number; values: Float32Array[] }>();
  const dict: StateDict = {};
  sizes.forEach((size, i) => {
    const keys = [...names, ...(tagName ? [tagName] : [])].map((n) => `state.${i}.${n}`);
    const present = keys.filter((k) => reader.has(k));
    if (present.length === 0) return;
    if (present.length < keys.length) {
      const missing = keys.find((k) => !reader.has(k))!;
      throw new KanError(`${owner}: missing entry "${missing}" (beside "${present[0]}")`);
    }
    const values = names.map((n, k) => {
      const key = `state.${i}.${n}`;
      const { data, shape } = reader.floats(key, null, minimum[k]);
      if (data.length !== size) {
        throw new KanError(
          `${owner}: entry "${key}" has ${data.length} values (shape [${shape}]), expected ${size} ` +
            `(the size of parameter ${i})`,
        );
      }
      dict[key] = { shape, data: data.slice() };
      return data;
    });
    let tag = 1;
    if (tagName) {
      const key = `state.${i}.${tagName}`;
      tag = reader.counts(key, 1)[0];
      if (tag < 1) throw new KanError(`${owner}: entry "${key}" holds ${tag}, expected at least 1`);
      dict[key] = countsEntry([tag]);
    }
    entries.set(i, { tag, values });
  });
  return { sizes: [...sizes], entries, dict };
}

/** A copy of `dict`'s entries. */
export function copyEntries(dict: StateDict): StateDict {
  return Object.fromEntries(
    Object.entries(dict).map(([k, v]) => [k, { shape: [...v.shape], data: v.data.slice() }]),
  );
}

/**
 * Gives the blocks of `parameters` the loaded per-parameter state (zeros
 * elsewhere); `tags` receives each parameter's tag.
 */
export function applyParameterState(
  state: BlockState,
  count: number,
  parameters: readonly Parameter[],
  loaded: LoadedState,
  tags: (p: Parameter, tag: number) => void,
): void {
  const byBlock = new Map<ParameterBlock, Float32Array[]>();
  for (const [i, { tag, values }] of loaded.entries) {
    const p = parameters[i];
    let arrays = byBlock.get(p.block);
    if (!arrays) {
      arrays = Array.from({ length: count }, () => new Float32Array(p.block.value.size));
      byBlock.set(p.block, arrays);
    }
    values.forEach((v, k) => arrays[k].set(v, p.offset));
    tags(p, tag);
  }
  for (const [block, arrays] of byBlock) state.load(block.value.gpu, block, arrays);
}

/**
 * The state dict entries `state.<i>.<name>` of the parameters for which
 * `tagOf` gives a number (their tag, written as `state.<i>.<tagName>` when
 * `tagName` is given), read from `state` (one readback per block and tensor).
 */
export async function parameterStateEntries(
  state: BlockState,
  parameters: readonly Parameter[],
  names: readonly string[],
  tagName: string | null,
  tagOf: (p: Parameter) => number | undefined,
): Promise<StateDict> {
  const blocks = [...new Set(parameters.filter((p) => tagOf(p) !== undefined).map((p) => p.block))];
  const read = await Promise.all(blocks.map((b) => state.read(b)));
  const of = new Map(blocks.map((b, i) => [b, read[i]]));
  const dict: StateDict = {};
  parameters.forEach((p, i) => {
    const tag = tagOf(p);
    if (tag === undefined) return;
    const arrays = of.get(p.block)!;
    names.forEach((n, k) => {
      dict[`state.${i}.${n}`] = { shape: [...p.shape], data: arrays[k].slice(p.offset, p.offset + p.size) };
    });
    if (tagName) dict[`state.${i}.${tagName}`] = countsEntry([tag]);
  });
  return dict;
}

/**
 * Checks the `parameters` argument of `loadStateDict` (when given) against
 * the loaded sizes; see {@linkcode checkParameterSizes}.
 */
export function checkLoadParameters(
  owner: string,
  sizes: readonly number[],
  parameters: readonly Parameter[] | undefined,
): void {
  if (parameters === undefined) return;
  if (!Array.isArray(parameters) || !parameters.every((p) => typeof p?.size === "number")) {
    throw new KanError(
      `${owner}: parameters must be an array of a model's parameters, got ${describe(parameters)}`,
    );
  }
  if (sizes.length > 0) checkParameterSizes(owner, sizes, parameters);
}
