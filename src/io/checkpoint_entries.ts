/**
 * How values that are not float32 fit a state dict (all float32, so that it
 * goes into safetensors as it is) without losing a bit, and a strict reader
 * of such a dict, for the optimizers' `stateDict` and `loadStateDict`:
 *
 * - counts (step counts, sizes): shape `[n, 2]`, each `hi * 2^24 + lo`, both
 *   float32 integers below 2^24, exact up to 2^48;
 * - float64 values (LBFGS's state, learning rates, settings): shape
 *   `[...shape, 4]`, each value's IEEE-754 bits as four 16-bit chunks,
 *   least significant first, so NaN, infinities and subnormals survive;
 * - text (an optimizer's name): shape `[length]`, the UTF-16 code units.
 *
 * Touches no Deno API.
 *
 * @module
 */

import { formatShape, KanError } from "../errors.ts";
import type { StateDict, StateEntry } from "../layers/parameter.ts";
import { describe, isPlainObject } from "../validate.ts";

const TWO_24 = 2 ** 24;

/**
 * Counts (non-negative integers below 2^48) as a `[n, 2]` entry of exact
 * float32 integers, `hi * 2^24 + lo`.
 *
 * @example
 * ```ts
 * import { countsEntry } from "./checkpoint_entries.ts";
 * console.log(countsEntry([3, 2 ** 30]).data); // Float32Array [0, 3, 64, 0]
 * ```
 */
export function countsEntry(values: readonly number[]): StateEntry {
  const data = new Float32Array(values.length * 2);
  values.forEach((v, i) => {
    if (!Number.isInteger(v) || v < 0 || v >= TWO_24 * TWO_24) {
      throw new KanError(
        `countsEntry: value ${describe(v)} at index ${i} is not an integer in 0 .. 2^48 - 1`,
      );
    }
    data[2 * i] = Math.floor(v / TWO_24);
    data[2 * i + 1] = v % TWO_24;
  });
  return { shape: [values.length, 2], data };
}

/**
 * Float64 values as a `[...shape, 4]` entry: each value's bits in four
 * 16-bit chunks (exact float32 integers), least significant first.
 *
 * @example
 * ```ts
 * import { float64Entry } from "./checkpoint_entries.ts";
 * console.log(float64Entry([1], []).data); // Float32Array [0, 0, 0, 16368]
 * ```
 */
export function float64Entry(values: ArrayLike<number>, shape: readonly number[]): StateEntry {
  const data = new Float32Array(values.length * 4);
  const view = new DataView(new ArrayBuffer(8));
  for (let i = 0; i < values.length; i++) {
    view.setFloat64(0, values[i], true);
    for (let c = 0; c < 4; c++) data[4 * i + c] = view.getUint16(2 * c, true);
  }
  return { shape: [...shape, 4], data };
}

/**
 * Text as a `[length]` entry of its UTF-16 code units.
 *
 * @example
 * ```ts
 * import { textEntry } from "./checkpoint_entries.ts";
 * console.log(textEntry("SGD").data); // Float32Array [83, 71, 68]
 * ```
 */
export function textEntry(text: string): StateEntry {
  return { shape: [text.length], data: Float32Array.from(text, (c) => c.charCodeAt(0)) };
}

/**
 * Reads a state dict written with the encodings above, entry by entry, and
 * refuses with a {@linkcode KanError} naming `owner`, the entry and what was
 * wrong: a missing entry, a shape or length that differs, a value that is not
 * what its encoding allows, and (at {@linkcode StateDictReader.finish}) any
 * entry nobody read. It never changes the dict.
 *
 * @example
 * ```ts
 * import { countsEntry, StateDictReader } from "./checkpoint_entries.ts";
 * const reader = new StateDictReader("example", { n: countsEntry([7]) });
 * console.log(reader.counts("n", 1)); // [7]
 * reader.finish();
 * ```
 */
export class StateDictReader {
  readonly #owner: string;
  readonly #dict: StateDict;
  readonly #read = new Set<string>();

  /** A reader of `dict`; a value that is not a plain object is refused here. */
  constructor(owner: string, dict: unknown) {
    if (!isPlainObject(dict)) {
      throw new KanError(
        `${owner}: expected a state dict (a plain object of entries), got ${describe(dict)}`,
      );
    }
    this.#owner = owner;
    this.#dict = dict as StateDict;
  }

  /** Whether the dict has `key`. */
  has(key: string): boolean {
    return Object.hasOwn(this.#dict, key);
  }

  /** The keys of the dict. */
  keys(): string[] {
    return Object.keys(this.#dict);
  }

  #fail(message: string): never {
    throw new KanError(`${this.#owner}: ${message}`);
  }

  /**
   * The values of `key` (a copy) after checking its shape: `shape` exactly,
   * with `-1` for a dimension read from the entry (returned in `shape`).
   */
  #values(key: string, shape: readonly number[] | null): { values: ArrayLike<unknown>; shape: number[] } {
    if (!this.has(key)) this.#fail(`missing entry "${key}"`);
    this.#read.add(key);
    const entry = this.#dict[key] as Partial<StateEntry> | null;
    const got = entry?.shape;
    const ok = Array.isArray(got) && (shape === null || got.length === shape.length) &&
      got.every((d, i) =>
        Number.isSafeInteger(d) && d >= 0 && (shape === null || shape[i] === -1 || d === shape[i])
      );
    if (!ok) {
      const wanted = shape === null
        ? "any shape"
        : `[${shape.map((d) => d === -1 ? "n" : String(d)).join(", ")}]`;
      const shown = Array.isArray(got) && got.every((d) => typeof d === "number")
        ? formatShape(got)
        : describe(got);
      this.#fail(`entry "${key}" has shape ${shown}, expected ${wanted}`);
    }
    const size = got.reduce((a, b) => a * b, 1);
    const data = entry?.data as ArrayLike<unknown> | undefined;
    if (typeof data !== "object" || data === null || data.length !== size) {
      const what = typeof data === "object" && data !== null
        ? `${describe(data.length)} values`
        : describe(data);
      this.#fail(`entry "${key}" has ${what}, expected ${size} numbers (shape ${formatShape(got)})`);
    }
    return { values: data, shape: [...got] };
  }

  #number(
    key: string,
    values: ArrayLike<unknown>,
    i: number,
    test: (v: number) => boolean,
    expected: string,
  ) {
    const v = values[i];
    if (typeof v !== "number" || !test(v)) {
      this.#fail(`entry "${key}" holds ${describe(v)} at index ${i}, expected ${expected}`);
    }
    return v;
  }

  /**
   * Float32 values of shape `shape` (`-1`: any length there; `null`: any
   * shape), each finite (and at least `min` when given); returns a copy and the shape.
   */
  floats(
    key: string,
    shape: readonly number[] | null,
    min?: number,
  ): { data: Float32Array; shape: number[] } {
    const { values, shape: got } = this.#values(key, shape);
    const data = new Float32Array(values.length);
    const expected = min === undefined ? "a finite float32 number" : `a finite float32 number >= ${min}`;
    const test = (v: number) =>
      Number.isFinite(Math.fround(v)) && (min === undefined || Math.fround(v) >= min);
    for (let i = 0; i < values.length; i++) data[i] = this.#number(key, values, i, test, expected);
    return { data, shape: got };
  }

  /** Counts written by {@linkcode countsEntry} (`count` of them, or any number when omitted). */
  counts(key: string, count?: number): number[] {
    const { values, shape } = this.#values(key, [count ?? -1, 2]);
    const expected = "an integer in 0 .. 2^24 - 1 (counts are stored as hi * 2^24 + lo)";
    const word = (i: number) =>
      this.#number(key, values, i, (v) => Number.isInteger(v) && v >= 0 && v < TWO_24, expected);
    return Array.from({ length: shape[0] }, (_, i) => word(2 * i) * TWO_24 + word(2 * i + 1));
  }

  /**
   * Float64 values written by {@linkcode float64Entry}, of shape `shape`
   * (`-1`: any length there); `finite` refuses NaN and infinities.
   */
  float64(key: string, shape: readonly number[], finite = true): { data: Float64Array; shape: number[] } {
    const { values, shape: got } = this.#values(key, [...shape, 4]);
    const n = values.length / 4;
    const data = new Float64Array(n);
    const view = new DataView(new ArrayBuffer(8));
    const chunk = "an integer in 0 .. 65535 (float64 values are stored as four 16-bit chunks)";
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < 4; c++) {
        const v = this.#number(
          key,
          values,
          4 * i + c,
          (v) => Number.isInteger(v) && v >= 0 && v <= 0xffff,
          chunk,
        );
        view.setUint16(2 * c, v, true);
      }
      data[i] = view.getFloat64(0, true);
      if (finite && !Number.isFinite(data[i])) {
        this.#fail(`entry "${key}" holds the float64 value ${data[i]} at ${i}, expected a finite number`);
      }
    }
    return { data, shape: got.slice(0, -1) };
  }

  /** One float64 value (an entry of shape `[4]`). */
  scalar(key: string, finite = true): number {
    return this.float64(key, [], finite).data[0];
  }

  /** Text written by {@linkcode textEntry}. */
  text(key: string): string {
    const { values } = this.#values(key, [-1]);
    const expected = "a UTF-16 code unit (an integer in 0 .. 65535)";
    let text = "";
    for (let i = 0; i < values.length; i++) {
      text += String.fromCharCode(
        this.#number(key, values, i, (v) => Number.isInteger(v) && v >= 0 && v <= 0xffff, expected),
      );
    }
    return text;
  }

  /** Refuses the dict when it has an entry that was not read, naming the first. */
  finish(): void {
    const extra = this.keys().filter((k) => !this.#read.has(k));
    if (extra.length > 0) {
      this.#fail(
        `unexpected entry ${describe(extra[0])}${
          extra.length > 1 ? ` (and ${extra.length - 1} more)` : ""
        } (expected ${[...this.#read].join(", ")})`,
      );
    }
  }
}
