/**
 * The originals' own checkpoints: `model.loadStateDict(dict, { from })` and
 * `model.stateDict({ to })` convert between this module's state dict and the
 * state dict of the original project's model class, so that the model computes
 * the function the original computes. One file per original; this one
 * dispatches on the name.
 *
 * | format            | original model class (commit)                          | layers here  |
 * | ----------------- | ------------------------------------------------------ | ------------ |
 * | `"efficient-kan"` | efficient-kan `KAN` (7b6ce1c)                          | `BSplineKAN` |
 * | `"fast-kan"`      | fast-kan `FastKAN` (17b6540)                           | `FastKAN`    |
 * | `"faster-kan"`    | faster-kan `FasterKAN` (3bcabc2)                       | `FasterKAN`  |
 * | `"relu-kan"`      | ReLU-KAN `ReLUKAN` (79eab7a)                           | `ReLUKAN`    |
 * | `"pykan"`         | pykan `KAN` / `MultKAN` (ecde4ec)                      | `BSplineKAN` |
 * | `"torch"`         | `torch.nn.Sequential` of `Linear` and activations      | `Linear`     |
 *
 * A lone layer converts as a model of that one layer (keys `layers.0.*`,
 * `rk_layers.0.*`, `act_fun.0.*`, `0.weight`).
 *
 * @module
 */

import { KanError } from "../../errors.ts";
import type { Module } from "../../layers/module.ts";
import type { StateDict } from "../../layers/parameter.ts";
import { describe } from "../../validate.ts";
import { type ModelLayers, modelLayers, splitByLayer } from "./checkpoint_reader.ts";
import { fromEfficientKan, toEfficientKan } from "./efficient_kan.ts";
import { fromFastKan, toFastKan } from "./fast_kan.ts";
import { fromFasterKan, toFasterKan } from "./faster_kan.ts";
import { fromPykan, toPykan } from "./pykan.ts";
import { fromReluKan, toReluKan } from "./relu_kan.ts";
import { fromTorch, toTorch } from "./torch.ts";

/** The originals whose model classes' state dicts {@linkcode fromCheckpoint} and {@linkcode toCheckpoint} speak. */
export type CheckpointFormat = "efficient-kan" | "fast-kan" | "faster-kan" | "relu-kan" | "pykan" | "torch";

/**
 * Every {@linkcode CheckpointFormat}.
 *
 * @example
 * ```ts
 * import { CHECKPOINT_FORMATS } from "../../../mod.ts";
 * console.log(CHECKPOINT_FORMATS.join(", ")); // efficient-kan, fast-kan, faster-kan, relu-kan, pykan, torch
 * ```
 */
export const CHECKPOINT_FORMATS: readonly CheckpointFormat[] = [
  "efficient-kan",
  "fast-kan",
  "faster-kan",
  "relu-kan",
  "pykan",
  "torch",
];

type From = (call: string, model: ModelLayers, dict: StateDict) => StateDict[];
type To = (call: string, model: ModelLayers, dicts: StateDict[]) => StateDict;

const CONVERTERS: Record<CheckpointFormat, { from: From; to: To }> = {
  "efficient-kan": { from: fromEfficientKan, to: toEfficientKan },
  "fast-kan": { from: fromFastKan, to: toFastKan },
  "faster-kan": { from: fromFasterKan, to: toFasterKan },
  "relu-kan": { from: fromReluKan, to: toReluKan },
  "pykan": { from: fromPykan, to: toPykan },
  "torch": { from: fromTorch, to: toTorch },
};

function converter(method: string, option: string, format: unknown): { from: From; to: To } {
  if (typeof format !== "string" || !Object.hasOwn(CONVERTERS, format)) {
    throw new KanError(
      `${method}: option "${option}" must be one of ${
        CHECKPOINT_FORMATS.map((f) => `"${f}"`).join(", ")
      }, got ${describe(format)}`,
    );
  }
  return CONVERTERS[format as CheckpointFormat];
}

/**
 * The original's state dict `dict` (its model class's `state_dict()`) as this
 * module's state dict for `model`, so that the model computes what the original
 * computes. Throws a {@linkcode KanError} naming the entry or option at fault:
 * a missing, extra or misshaped entry, or a checkpoint the model cannot compute
 * the same way. Nothing is loaded.
 *
 * @example
 * ```ts
 * import { fromCheckpoint } from "./checkpoint_format.ts";
 * import { Gpu, Linear, Sequential } from "../../../mod.ts";
 * const gpu = await Gpu.request();
 * const model = new Sequential([new Linear(gpu, 2, 3, { activation: "relu" }), new Linear(gpu, 3, 1)]);
 * const torchDict = { // torch.nn.Sequential(Linear(2, 3), ReLU(), Linear(3, 1)).state_dict()
 *   "0.weight": { shape: [3, 2], data: new Float32Array(6).fill(0.5) },
 *   "0.bias": { shape: [3], data: new Float32Array(3) },
 *   "2.weight": { shape: [1, 3], data: new Float32Array(3).fill(1) },
 *   "2.bias": { shape: [1], data: new Float32Array(1) },
 * };
 * console.log(Object.keys(fromCheckpoint(model, torchDict, "torch"))); // layers.0.weight, ...
 * gpu.destroy();
 * ```
 */
export function fromCheckpoint(model: Module, dict: StateDict, format: CheckpointFormat): StateDict {
  const { from } = converter("loadStateDict", "from", format);
  const layers = modelLayers(model);
  const perLayer = from(`loadStateDict({ from: "${format}" })`, layers, dict);
  const out: StateDict = {};
  perLayer.forEach((d, i) => {
    for (const [k, v] of Object.entries(d)) out[layers.prefix(i) + k] = v;
  });
  return out;
}

/**
 * This module's state dict `dict` of `model` as the original's (its model
 * class's `state_dict()` keys and shapes, buffers included), computing the
 * same function. Throws a {@linkcode KanError} where the original's model
 * class cannot compute what the model computes.
 *
 * @example
 * ```ts
 * import { toCheckpoint } from "./checkpoint_format.ts";
 * import { Gpu, kan } from "../../../mod.ts";
 * const gpu = await Gpu.request();
 * const model = kan(gpu, [2, 3, 1], { basis: "relu", g: 5, k: 3 });
 * console.log(Object.keys(toCheckpoint(model, await model.stateDict(), "relu-kan"))); // rk_layers.0.phase_low, ...
 * gpu.destroy();
 * ```
 */
export function toCheckpoint(model: Module, dict: StateDict, format: CheckpointFormat): StateDict {
  const { to } = converter("stateDict", "to", format);
  const layers = modelLayers(model);
  return to(`stateDict({ to: "${format}" })`, layers, splitByLayer(layers, dict));
}

/** Throws a {@linkcode KanError} unless `options` is undefined or an object with only the key `name`. */
export function checkFormatOptions(method: string, options: unknown, name: "from" | "to"): void {
  if (options === undefined) return;
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new KanError(
      `${method}: options must be an object such as { ${name}: "pykan" }, got ${describe(options)}`,
    );
  }
  for (const key of Object.keys(options)) {
    if (key !== name) throw new KanError(`${method}: unknown option "${key}" (known: ${name})`);
  }
  const format = (options as Record<string, unknown>)[name];
  if (format !== undefined) converter(method, name, format);
}
