/**
 * What the checkpoint converters share: reading an original's state dict entry
 * by entry (each checked for presence, shape and finite values, and every
 * entry accounted for), the layers of a model with their key prefixes, and
 * small array helpers.
 *
 * @module
 */

import { formatShape, KanError } from "../../errors.ts";
import type { Layer } from "../../layers/layer.ts";
import type { Module } from "../../layers/module.ts";
import type { StateDict, StateEntry } from "../../layers/parameter.ts";
import { describe } from "../../validate.ts";

/** The layers of a model (a `Sequential`, or one layer on its own) and this module's key prefix of each. */
export interface ModelLayers {
  /** The layers in order. */
  layers: readonly Layer[];
  /** This module's state-dict key prefix of layer `i` (`layers.<i>.`, or `""` for a lone layer). */
  prefix(i: number): string;
}

/** The layers of `model`; a lone layer stands for a model of one layer. */
export function modelLayers(model: Module): ModelLayers {
  const layers = (model as { layers?: unknown }).layers;
  if (Array.isArray(layers)) return { layers: layers as Layer[], prefix: (i) => `layers.${i}.` };
  return { layers: [model as Layer], prefix: () => "" };
}

/** `layer 1 (BSplineKAN 5 -> 1)`, for messages. */
export function describeLayer(layer: Layer, i: number): string {
  return `layer ${i} (${layer.kind} ${layer.inFeatures} -> ${layer.outFeatures})`;
}

/** Throws a {@linkcode KanError} for `what`, prefixed by the call and format, e.g. `loadStateDict({ from: "pykan" })`. */
export function refuse(call: string, what: string): never {
  throw new KanError(`${call}: ${what}`);
}

/**
 * Reads an original's state dict: {@linkcode take} checks an entry's presence,
 * shape and values and marks it read; {@linkcode finish} refuses entries never read.
 */
export class CheckpointReader {
  readonly #dict: StateDict;
  readonly #read = new Set<string>();
  /** The call and format, for messages, e.g. `loadStateDict({ from: "pykan" })`. */
  readonly call: string;

  /** A reader of `dict`; a non-object is refused at once. */
  constructor(call: string, dict: StateDict) {
    if (typeof dict !== "object" || dict === null || Array.isArray(dict)) {
      refuse(call, `expected a state dict (an object of { shape, data } entries), got ${describe(dict)}`);
    }
    this.call = call;
    this.#dict = dict;
  }

  /** Whether the checkpoint has `key`. */
  has(key: string): boolean {
    return Object.hasOwn(this.#dict, key);
  }

  /** The shape of `key`, or null when absent or malformed. */
  shapeOf(key: string): number[] | null {
    const shape = this.has(key) ? this.#dict[key]?.shape : undefined;
    return Array.isArray(shape) ? shape : null;
  }

  /**
   * The values of `key`, which must have `shape` and finite values; `context`
   * (e.g. `layer 0 (BSplineKAN 2 -> 5), gridSize 5, splineOrder 3`) goes into messages.
   */
  take(key: string, shape: readonly number[], context: string): Float32Array {
    if (!this.has(key)) refuse(this.call, `missing entry "${key}" for ${context}`);
    const entry = this.#dict[key] as StateEntry | undefined;
    const got = entry?.shape;
    const same = Array.isArray(got) && got.length === shape.length && got.every((d, i) => d === shape[i]);
    if (!same) {
      refuse(
        this.call,
        `entry "${key}" has shape ${
          Array.isArray(got) && got.every((d) => typeof d === "number") ? formatShape(got) : describe(got)
        }, expected ${formatShape(shape)} for ${context}`,
      );
    }
    const size = shape.reduce((a, b) => a * b, 1);
    const data = entry!.data as unknown;
    if (typeof data !== "object" || data === null) {
      refuse(this.call, `entry "${key}" has data ${describe(data)}, expected ${size} numbers`);
    }
    const values = data as ArrayLike<unknown>;
    if (values.length !== size) {
      refuse(this.call, `entry "${key}" has ${describe(values.length)} values, expected ${size}`);
    }
    for (let i = 0; i < size; i++) {
      const v = values[i];
      if (typeof v !== "number") {
        refuse(this.call, `entry "${key}" holds ${describe(v)}, not a number, at index ${i}`);
      }
      if (!Number.isFinite(v)) {
        refuse(this.call, `entry "${key}" holds a non-finite value (${v}) at index ${i}`);
      }
    }
    this.#read.add(key);
    return Float32Array.from(values as ArrayLike<number>);
  }

  /** Refuses the checkpoint if it has entries that were never read, naming them. */
  finish(hint = ""): void {
    const extra = Object.keys(this.#dict).filter((k) => !this.#read.has(k));
    if (extra.length > 0) {
      const shown = extra.slice(0, 6).map((k) => `"${k}"`).join(", ");
      refuse(
        this.call,
        `unexpected entr${extra.length === 1 ? "y" : "ies"} ${shown}${
          extra.length > 6 ? ` and ${extra.length - 6} more` : ""
        } that the model has no place for${hint}`,
      );
    }
  }
}

/** A state-dict entry. */
export function entry(shape: number[], data: Float32Array): StateEntry {
  return { shape, data };
}

/** The transpose of a row-major `[rows, cols]` matrix. */
export function transpose(data: ArrayLike<number>, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

/** The values of this module's entry `name` of one layer (keys without the layer prefix). */
export function local(dict: StateDict, name: string): Float32Array {
  const e = dict[name];
  if (!e) throw new KanError(`stateDict: the model's own state has no entry "${name}"`);
  return e.data;
}

/** Splits this module's state dict into one dict per layer, keys without their prefix. */
export function splitByLayer(model: ModelLayers, dict: StateDict): StateDict[] {
  return model.layers.map((_, i) => {
    const prefix = model.prefix(i);
    const out: StateDict = {};
    for (const [k, v] of Object.entries(dict)) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = v;
    return out;
  });
}

/** Refuses a knot row that does not strictly increase (repeated knots divide by zero in the recurrence). */
export function checkKnots(call: string, key: string, grid: Float32Array, rows: number): void {
  const cols = grid.length / rows;
  for (let r = 0; r < rows; r++) {
    for (let c = 1; c < cols; c++) {
      if (!(grid[r * cols + c] > grid[r * cols + c - 1])) {
        refuse(
          call,
          `entry "${key}" row ${r} does not strictly increase (knot ${c - 1} is ${
            grid[r * cols + c - 1]
          }, knot ${c} is ${grid[r * cols + c]}); the B-spline kernel needs distinct knots`,
        );
      }
    }
  }
}

/** Refuses layers that are not of `kind`, naming the first one. */
export function requireKind(call: string, model: ModelLayers, kind: string, format: string): void {
  model.layers.forEach((layer, i) => {
    if (layer.kind !== kind) {
      refuse(call, `"${format}" holds ${kind} layers, but ${describeLayer(layer, i)} is a ${layer.kind}`);
    }
  });
}

/** Refuses a model whose layers differ in an option that the original's model class sets once for all layers. */
export function requireShared<T>(
  call: string,
  model: ModelLayers,
  option: string,
  value: (layer: Layer) => T,
  originalClass: string,
): void {
  const first = value(model.layers[0]);
  model.layers.forEach((layer, i) => {
    const v = value(layer);
    if (JSON.stringify(v) !== JSON.stringify(first)) {
      refuse(
        call,
        `${originalClass} takes one ${option} for all its layers, but layer 0 has ${
          JSON.stringify(first)
        } and layer ${i} has ${JSON.stringify(v)}`,
      );
    }
  });
}
