/**
 * What the commands share: strict flag parsing whose errors are `KanError`s
 * naming the flag, number and list flags checked by the module's own rules,
 * output files and folders checked writable before any training, and the
 * entry point that prints a user's mistake as one `error: ...` line and exits 2.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { KanError } from "../errors.ts";
import { check, COUNT, integer, type Rule } from "../validate.ts";

/** Flags that take a value (strings, with an optional default). */
export type StringFlags = Record<string, { type: "string"; default?: string }>;

/**
 * Parses `args` strictly: only `flags` and `--help`/`-h`, no positionals. An
 * unknown flag or a missing value is a {@linkcode KanError}.
 *
 * @example
 * ```ts
 * import { parseFlags } from "./flags.ts";
 * const { values } = parseFlags(["--steps", "10"], { steps: { type: "string" } });
 * console.log(values.steps); // "10"
 * ```
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

/**
 * The number given as `--flag` checked against `rule` (the rule the module
 * applies to the option it sets), or `fallback` when the flag is absent.
 * An empty or non-numeric value is refused, naming the flag and the text.
 *
 * @example
 * ```ts
 * import { numberFlag } from "./flags.ts";
 * import { POSITIVE } from "../validate.ts";
 * console.log(numberFlag("lr", "1e-3", POSITIVE, 0.01)); // 0.001
 * ```
 */
export function numberFlag<T extends number | undefined>(
  flag: string,
  value: string | undefined,
  rule: Rule<number>,
  fallback: T,
): number | T {
  if (value === undefined) return fallback;
  const n = value.trim() === "" ? Number.NaN : Number(value);
  return check(`--${flag}`, n, rule, JSON.stringify(value));
}

/** The integer value of `--flag` (at least `min`), or `fallback` when it is absent. */
export function integerFlag<T extends number | undefined>(
  flag: string,
  value: string | undefined,
  fallback: T,
  min: number,
): number | T {
  return numberFlag(flag, value, min === 1 ? COUNT : integer(min), fallback);
}

/**
 * The comma-separated integers (each at least 1) of `--flag`, or `fallback`
 * when it is absent; an item that is not one is refused, naming the flag.
 *
 * @example
 * ```ts
 * import { integerList } from "./flags.ts";
 * console.log(integerList("width", "2,5,1", [1, 1])); // [2, 5, 1]
 * ```
 */
export function integerList(flag: string, value: string | undefined, fallback: readonly number[]): number[] {
  if (value === undefined) return [...fallback];
  return value.split(",").map((v) => integerFlag(flag, v.trim(), 0, 1));
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

function folderOf(path: string): string {
  const at = path.lastIndexOf("/");
  return at < 0 ? "." : at === 0 ? "/" : path.slice(0, at);
}

async function probeFolder(dir: string): Promise<void> {
  const probe = await Deno.makeTempFile({ dir, prefix: ".kan-write-check-" });
  await Deno.remove(probe);
}

function cannot(flag: string, path: string, what: string, cause: unknown): KanError {
  return new KanError(`--${flag} ${path}: cannot ${what} (${(cause as Error)?.message ?? cause})`, { cause });
}

/**
 * Checks before any work that the file `path` of `--flag` can be written:
 * not a folder, in an existing folder where a file can be created, and
 * writable when it already exists. Nothing is changed.
 */
export async function checkWritableFile(flag: string, path: string): Promise<void> {
  if (path.trim() === "") throw new KanError(`--${flag} needs a file path, got ""`);
  let exists = false;
  try {
    const info = await Deno.stat(path);
    if (info.isDirectory) throw new KanError(`--${flag} ${path} is a folder; give a file path`);
    exists = true;
  } catch (cause) {
    if (cause instanceof KanError) throw cause;
    if (!(cause instanceof Deno.errors.NotFound)) throw cannot(flag, path, "check the file", cause);
  }
  const folder = folderOf(path);
  try {
    await probeFolder(folder);
    if (exists) (await Deno.open(path, { write: true })).close();
  } catch (cause) {
    if (cause instanceof Deno.errors.NotFound) {
      throw new KanError(`--${flag} ${path}: the folder ${folder} does not exist`, { cause });
    }
    throw cannot(flag, path, "write the file", cause);
  }
}

/** Makes the folder `dir` of `--flag` (with its parents) and checks that files can be written in it. */
export async function prepareOutDir(flag: string, dir: string): Promise<void> {
  if (dir.trim() === "") throw new KanError(`--${flag} needs a folder, got ""`);
  try {
    await Deno.mkdir(dir, { recursive: true });
    await probeFolder(dir);
  } catch (cause) {
    throw cannot(flag, dir, "make or write the folder", cause);
  }
}

/**
 * Runs a command's `main`. A user's mistake (a `KanError`, or a permission
 * that the command was not given) is printed as one `error: ...` line, without
 * a stack trace, and exits with status 2; anything else is a bug and is thrown.
 */
export async function runCommand(main: (args: string[]) => Promise<unknown>): Promise<void> {
  try {
    await main(Deno.args);
  } catch (e) {
    if (
      !(e instanceof KanError || e instanceof Deno.errors.NotCapable ||
        e instanceof Deno.errors.PermissionDenied)
    ) {
      throw e;
    }
    console.error(`error: ${e.message}`);
    Deno.exit(2);
  }
}
