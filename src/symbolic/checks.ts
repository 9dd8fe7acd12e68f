/**
 * Argument checks shared by the symbolic functions: each failure is a
 * `KanError` naming the caller, the argument, what it must be and what came.
 *
 * @module
 */

import { KanError } from "../errors.ts";

/**
 * Checks that `options` is undefined or a plain object whose keys are all in
 * `allowed`; returns it (or `{}`).
 *
 * @example
 * ```ts
 * import { checkOptionNames } from "./checks.ts";
 * console.log(checkOptionNames("demo", { topK: 3 }, ["topK"])); // { topK: 3 }
 * ```
 */
export function checkOptionNames<T extends object>(
  owner: string,
  options: T | undefined,
  allowed: readonly string[],
): Partial<T> {
  if (options === undefined) return {};
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw new KanError(`${owner}: options must be an object, got ${JSON.stringify(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      throw new KanError(`${owner}: unknown option "${key}"; expected one of ${allowed.join(", ")}`);
    }
  }
  return options;
}

/**
 * Checks a pair of samples `xs`, `ys`: arrays of finite numbers of one length
 * >= `min`; returns float64 copies.
 *
 * @example
 * ```ts
 * import { checkSamples } from "./checks.ts";
 * const { xs, ys } = checkSamples("demo", [0, 1, 2], [1, 3, 5]);
 * console.log(xs.length, ys[2]); // 3 5
 * ```
 */
export function checkSamples(
  owner: string,
  xs: ArrayLike<number>,
  ys: ArrayLike<number>,
  min = 2,
): { xs: Float64Array; ys: Float64Array } {
  const copy = (what: string, v: ArrayLike<number>): Float64Array => {
    if (v === null || typeof v !== "object" || typeof v.length !== "number") {
      throw new KanError(
        `${owner}: ${what} must be an array of numbers, got ${v === null ? "null" : typeof v}`,
      );
    }
    const out = new Float64Array(v.length);
    for (let i = 0; i < v.length; i++) {
      if (typeof v[i] !== "number" || !Number.isFinite(v[i])) {
        throw new KanError(`${owner}: ${what} must hold finite numbers, got ${v[i]} at index ${i}`);
      }
      out[i] = v[i];
    }
    return out;
  };
  const x = copy("xs", xs), y = copy("ys", ys);
  if (x.length !== y.length) {
    throw new KanError(`${owner}: xs and ys must have one length, got ${x.length} and ${y.length}`);
  }
  if (x.length < min) throw new KanError(`${owner}: needs at least ${min} samples, got ${x.length}`);
  return { xs: x, ys: y };
}

/**
 * Checks an option that is a range `[low, high]` of finite numbers with
 * `low < high`.
 *
 * @example
 * ```ts
 * import { checkRange } from "./checks.ts";
 * console.log(checkRange("demo", "aRange", [-10, 10])); // [-10, 10]
 * ```
 */
export function checkRange(owner: string, what: string, range: unknown): [number, number] {
  if (
    !Array.isArray(range) || range.length !== 2 ||
    !range.every((v) => typeof v === "number" && Number.isFinite(v)) ||
    !(range[0] < range[1])
  ) {
    throw new KanError(
      `${owner}: ${what} must be [low, high] with finite low < high, got ${JSON.stringify(range)}`,
    );
  }
  return [range[0], range[1]];
}

/**
 * Checks an integer option within `[min, max]`.
 *
 * @example
 * ```ts
 * import { checkInteger } from "./checks.ts";
 * console.log(checkInteger("demo", "steps", 10, 1)); // 10
 * ```
 */
export function checkInteger(
  owner: string,
  what: string,
  value: unknown,
  min: number,
  max = Infinity,
): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    const bounds = max === Infinity ? `>= ${min}` : `in ${min}..${max}`;
    throw new KanError(`${owner}: ${what} must be an integer ${bounds}, got ${JSON.stringify(value)}`);
  }
  return value;
}
