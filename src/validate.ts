/**
 * The checks of arguments and options, each rule written once. Every public
 * constructor, optimizer, `fit`, `evaluate` and command-line flag validates
 * through these before any GPU work or weight change; a refusal is a
 * {@linkcode KanError} whose message names the argument or option, what it
 * must be, and the value that came.
 *
 * @module
 */

import { formatShape, KanError } from "./errors.ts";
import { Gpu } from "./gpu/gpu.ts";
import { Tensor } from "./tensor.ts";

/** The largest finite float32, `(2 - 2^-23) * 2^127`. */
export const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * What a value must be: `expected` completes "must be ..." in messages, and
 * `test` says whether a value follows the rule.
 *
 * @example
 * ```ts
 * import { check, type Rule } from "./validate.ts";
 * const even: Rule<number> = {
 *   expected: "an even integer",
 *   test: (v): v is number => Number.isInteger(v) && (v as number) % 2 === 0,
 * };
 * console.log(check("count", 4, even)); // 4
 * ```
 */
export interface Rule<T> {
  /** What the value must be, e.g. `"a number > 0"`. */
  readonly expected: string;
  /** Whether `value` follows the rule (a value that does is a `T`). */
  readonly test: (value: unknown) => value is T;
}

function rule<T>(expected: string, test: (value: unknown) => boolean): Rule<T> {
  return { expected, test: test as (value: unknown) => value is T };
}

const isNumber = (v: unknown): v is number => typeof v === "number" && Math.abs(v) <= FLOAT32_MAX;

/** A number that float32 holds without overflowing (NaN and infinities fail). */
export const FINITE: Rule<number> = rule("a finite float32 number", isNumber);

/** The smallest normal float32: GPUs may flush anything smaller to zero. */
export const MIN_NORMAL_FLOAT32 = 1.1754943508222875e-38;

/** A number > 0 that stays > 0 on a GPU (at least float32's smallest normal). */
export const POSITIVE: Rule<number> = rule(
  "a number > 0 (and >= 1.18e-38, float32's smallest normal)",
  (v) => isNumber(v) && v >= MIN_NORMAL_FLOAT32,
);

/** A finite number >= 0. */
export const NON_NEGATIVE: Rule<number> = rule("a number >= 0", (v) => isNumber(v) && v >= 0);

/** A number in [0, 1) (momentum, Adam's betas). */
export const FRACTION: Rule<number> = rule("a number in [0, 1)", (v) => isNumber(v) && v >= 0 && v < 1);

/** A number in [0, 1] (SGD's dampening). */
export const UNIT_INTERVAL: Rule<number> = rule(
  "a number in [0, 1]",
  (v) => isNumber(v) && v >= 0 && v <= 1,
);

/** `true` or `false`. */
export const BOOLEAN: Rule<boolean> = rule("true or false", (v) => typeof v === "boolean");

/** A function. */
export const FUNCTION: Rule<(...args: never[]) => unknown> = rule(
  "a function",
  (v) => typeof v === "function",
);

/** A seed: any integer that a double holds exactly. */
export const SEED: Rule<number> = rule("a finite integer", (v) => Number.isSafeInteger(v));

/** An array of strings. */
export const STRINGS: Rule<string[]> = rule(
  "an array of strings",
  (v) => Array.isArray(v) && v.every((s) => typeof s === "string"),
);

/** A grid range: `[lo, hi]`, finite float32 numbers with `lo < hi`. */
export const RANGE: Rule<[number, number]> = rule(
  "[lo, hi] with finite float32 numbers lo < hi",
  (v) => Array.isArray(v) && v.length === 2 && isNumber(v[0]) && isNumber(v[1]) && v[0] < v[1],
);

/** An integer (that a double holds exactly) of at least `min` and, when given, at most `max`. */
export function integer(min: number, max?: number): Rule<number> {
  return rule(
    max === undefined ? `an integer >= ${min}` : `an integer in ${min}..${max}`,
    (v) => Number.isSafeInteger(v) && (v as number) >= min && (max === undefined || (v as number) <= max),
  );
}

/** A count: an integer >= 1. */
export const COUNT: Rule<number> = integer(1);

/** One of `values` (compared with `===`; strings are listed unquoted). */
export function oneOf<T>(values: readonly T[]): Rule<T> {
  const names = values.map((v) => typeof v === "string" ? v : describe(v));
  return rule(`one of ${names.join(", ")}`, (v) => values.includes(v as T));
}

/** A pair `[a, b]` whose items each follow `item`. */
export function pairOf<T>(item: Rule<T>): Rule<[T, T]> {
  return rule(
    `[a, b] with each ${item.expected}`,
    (v) => Array.isArray(v) && v.length === 2 && item.test(v[0]) && item.test(v[1]),
  );
}

/** An instance of the class `type` (described as `name`); private constructors are fine. */
export function instanceOf<T>(type: { readonly prototype: T }, name: string): Rule<T> {
  return rule(name, (v) => Object.prototype.isPrototypeOf.call(type.prototype, v as object));
}

/**
 * A short, never-throwing description of any value for messages: strings
 * quoted, `-0`, `5n`, `Symbol(x)`, arrays by their items, objects by their class.
 *
 * @example
 * ```ts
 * import { describe } from "./validate.ts";
 * console.log(describe("adam"), describe(Symbol("s")), describe([1, NaN]), describe(10n)); // "adam" Symbol(s) [1, NaN] 10n
 * ```
 */
export function describe(value: unknown, depth = 0): string {
  try {
    switch (typeof value) {
      case "string":
        return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}...` : value);
      case "number":
        return Object.is(value, -0) ? "-0" : String(value);
      case "bigint":
        return `${value}n`;
      case "symbol":
        return value.toString();
      case "function":
        return value.name ? `a function (${value.name})` : "a function";
      case "boolean":
      case "undefined":
        return String(value);
    }
    if (value === null) return "null";
    if (Array.isArray(value)) {
      if (depth > 1 || value.length > 8) return `an array of ${value.length} items`;
      return `[${value.map((v) => describe(v, depth + 1)).join(", ")}]`;
    }
    const name = Object.getPrototypeOf(value)?.constructor?.name;
    return typeof name === "string" && name !== "" && name !== "Object" ? `a ${name}` : "an object";
  } catch {
    return "a value that cannot be shown";
  }
}

/**
 * Returns `value` when it follows `rule`; otherwise throws a {@linkcode KanError}
 * "`where` must be `rule.expected`, got `shown`".
 *
 * @example
 * ```ts
 * import { check, POSITIVE } from "./validate.ts";
 * try {
 *   check('SGD: option "lr"', -1, POSITIVE);
 * } catch (e) {
 *   console.log((e as Error).message); // SGD: option "lr" must be a number > 0, got -1
 * }
 * ```
 */
export function check<T>(where: string, value: unknown, rule: Rule<T>, shown?: string): T {
  if (!rule.test(value)) {
    throw new KanError(`${where} must be ${rule.expected}, got ${shown ?? describe(value)}`);
  }
  return value;
}

/** Reads option `name` of `options` (checked by {@linkcode checkOptions}): `fallback` when absent, else checked. */
export function option<T>(
  owner: string,
  options: object | undefined,
  name: string,
  rule: Rule<T>,
): T | undefined;
/** Reads option `name` of `options`: `fallback` when absent (undefined), else checked against `rule`. */
export function option<T>(
  owner: string,
  options: object | undefined,
  name: string,
  rule: Rule<T>,
  fallback: T,
): T;
export function option<T>(
  owner: string,
  options: object | undefined,
  name: string,
  rule: Rule<T>,
  fallback?: T,
): T | undefined {
  const value = (options as Record<string, unknown> | undefined)?.[name];
  return value === undefined ? fallback : check(`${owner}: option "${name}"`, value, rule);
}

/** Reads option `name`, which must be present and follow `rule`. */
export function requiredOption<T>(
  owner: string,
  options: object | undefined,
  name: string,
  rule: Rule<T>,
): T {
  return check(`${owner}: option "${name}"`, (options as Record<string, unknown> | undefined)?.[name], rule);
}

/** Whether `value` is a plain object (`{...}` or `Object.create(null)`), not an array, class instance or function. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Throws a {@linkcode KanError} unless `options` is `undefined` or a plain
 * object whose keys are all in `allowed`.
 *
 * @example
 * ```ts
 * import { checkOptions } from "./validate.ts";
 * checkOptions("SGD", { lr: 0.1 }, ["lr", "momentum"]);
 * try {
 *   checkOptions("SGD", { lr: 0.1, moment: 0.9 }, ["lr", "momentum"]);
 * } catch (e) {
 *   console.log((e as Error).message); // SGD: unknown option "moment" (known: lr, momentum)
 * }
 * ```
 */
export function checkOptions(owner: string, options: unknown, allowed: readonly string[]): void {
  if (options === undefined) return;
  if (!isPlainObject(options)) {
    throw new KanError(`${owner}: options must be a plain object, got ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      throw new KanError(`${owner}: unknown option ${describe(key)} (known: ${allowed.join(", ")})`);
    }
  }
}

/** Throws a {@linkcode KanError} unless `gpu` is a {@linkcode Gpu} that was not destroyed. */
export function checkGpu(owner: string, value: unknown): Gpu {
  // Rules made here, not at load, so that gpu.ts and tensor.ts may import this module.
  const gpu = check(`${owner}: gpu`, value, instanceOf(Gpu, "a Gpu from Gpu.request()"));
  try {
    gpu.assertAlive();
  } catch (cause) {
    throw new KanError(`${owner}: ${(cause as Error).message}`, { cause });
  }
  return gpu;
}

let tensorRule: Rule<Tensor> | undefined;

/** Throws a {@linkcode KanError} unless `t` is a {@linkcode Tensor}; returns it. */
export function checkIsTensor(where: string, value: unknown): Tensor {
  // Made on first use, not at load, so that tensor.ts may import this module.
  tensorRule ??= instanceOf(Tensor, "a Tensor");
  return check(where, value, tensorRule);
}

/** Throws a {@linkcode KanError} unless `t` is a live {@linkcode Tensor} of `gpu`. */
export function checkTensor(where: string, value: unknown, gpu: Gpu): Tensor {
  const t = checkIsTensor(where, value);
  if (t.gpu !== gpu) throw new KanError(`${where} lives on another Gpu`);
  if (t.disposed) throw new KanError(`${where} (shape ${formatShape(t.shape)}) was disposed`);
  return t;
}

/**
 * Throws a {@linkcode KanError} naming `what` and the limit when a tensor of
 * `floats` values cannot be a buffer of `gpu` bound to a kernel (its
 * `maxStorageBufferBindingSize` and `maxBufferSize`; the pool never rounds a
 * buffer past the latter).
 */
export function checkTensorSize(gpu: Gpu, what: string, floats: number): void {
  const bytes = 4 * floats;
  const { maxStorageBufferBindingSize: binding, maxBufferSize: buffer } = gpu.device.limits;
  for (
    const [name, limit] of [["maxStorageBufferBindingSize", binding], ["maxBufferSize", buffer]] as const
  ) {
    if (bytes > limit) {
      throw new KanError(`${what} needs ${bytes} bytes, more than this device's ${name} (${limit} bytes)`);
    }
  }
}

/** Whether two shapes are equal. */
export function sameShape(a: readonly unknown[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Throws a {@linkcode KanError} unless `t` has shape `[B, cols]` with `B >= 1`;
 * `what` names it in the message (`"input"`, `"x"`).
 */
export function checkRows(where: string, what: string, t: Tensor, cols: number): void {
  if (t.shape.length !== 2 || t.shape[1] !== cols || t.shape[0] < 1) {
    throw new KanError(
      `${where}: expected ${what} of shape [B, ${cols}] with B >= 1, got ${formatShape(t.shape)}`,
    );
  }
}

/** Throws a {@linkcode KanError} naming the position when `t`'s upload held a NaN or an infinity. */
export function checkFinite(where: string, t: Tensor): void {
  const bad = t.firstNonFinite;
  if (bad === null || bad < 0) return;
  const cols = t.shape.length === 2 ? t.shape[1] : 0;
  const at = cols > 0 ? ` ([${Math.floor(bad / cols)}, ${bad % cols}])` : "";
  throw new KanError(`${where} holds a non-finite value at flat index ${bad}${at}`);
}

/**
 * The values of `rows` (an array of `B >= 1` arrays of `cols` finite numbers)
 * in row-major order; anything else is a {@linkcode KanError} naming the first
 * bad row or value.
 *
 * @example
 * ```ts
 * import { flattenRows } from "./validate.ts";
 * console.log(flattenRows("predict", [[1, 2], [3, 4]], 2)); // Float32Array [1, 2, 3, 4]
 * ```
 */
export function flattenRows(where: string, rows: unknown, cols: number): Float32Array {
  if (!Array.isArray(rows) || rows.length === 0) {
    throw new KanError(
      `${where}: expected rows (a non-empty array of arrays of ${cols} numbers), got ${describe(rows)}`,
    );
  }
  const out = new Float32Array(rows.length * cols);
  rows.forEach((row: unknown, r) => {
    if (!Array.isArray(row) && !ArrayBuffer.isView(row)) {
      throw new KanError(`${where}: row ${r} must be an array of ${cols} numbers, got ${describe(row)}`);
    }
    const values = row as ArrayLike<unknown>;
    if (values.length !== cols) {
      throw new KanError(`${where}: row ${r} has ${values.length} values but the model takes ${cols}`);
    }
    for (let c = 0; c < cols; c++) {
      const v = values[c];
      if (typeof v !== "number" || !Number.isFinite(v)) {
        throw new KanError(`${where}: rows[${r}][${c}] must be a finite number, got ${describe(v)}`);
      }
      out[r * cols + c] = v;
    }
  });
  return out;
}
