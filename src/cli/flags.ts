/**
 * What the experiment commands share: strict flag parsing whose errors are
 * `KanError`s naming the flag, integer and list flags, and the entry point
 * that prints a `KanError` and exits 2.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { KanError } from "../errors.ts";

/** Flags that take a value (strings, with an optional default). */
export type StringFlags = Record<string, { type: "string"; default?: string }>;

/**
 * Parses `args` strictly: only `flags` and `--help`/`-h`, no positionals. An
 * unknown flag or a missing value is a {@linkcode KanError}.
 */
export function parseFlags(
  args: string[],
  flags: StringFlags,
): { values: Record<string, string | undefined>; help: boolean } {
  try {
    const { values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: { ...flags, help: { type: "boolean", short: "h", default: false } },
    });
    const { help, ...rest } = values as Record<string, string | boolean | undefined>;
    return { values: rest as Record<string, string | undefined>, help: help === true };
  } catch (cause) {
    throw new KanError(`${(cause as Error).message}; see --help`, { cause });
  }
}

/** The integer value of `--flag` (at least `min`), or `fallback` when it is absent. */
export function integerFlag<T extends number | undefined>(
  flag: string,
  value: string | undefined,
  fallback: T,
  min: number,
): number | T {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) {
    throw new KanError(`--${flag} must be an integer >= ${min}, got "${value}"`);
  }
  return n;
}

/** The comma-separated items of `--flag`, each one of `all`; all of them when it is absent. */
export function listFlag<T extends string>(flag: string, value: string | undefined, all: readonly T[]): T[] {
  if (value === undefined) return [...all];
  const list = value.split(",").map((v) => v.trim());
  for (const v of list) {
    if (!all.includes(v as T)) throw new KanError(`--${flag}: "${v}" is not one of ${all.join(", ")}`);
  }
  return list as T[];
}

/** Runs a command's `main`; a `KanError` is printed as `error: ...` and exits with status 2. */
export async function runCommand(main: (args: string[]) => Promise<unknown>): Promise<void> {
  try {
    await main(Deno.args);
  } catch (e) {
    if (!(e instanceof KanError)) throw e;
    console.error(`error: ${e.message}`);
    Deno.exit(2);
  }
}
