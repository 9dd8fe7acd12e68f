/**
 * Shared helpers of the test files: one GPU per file, and numeric comparisons
 * that print the maximum difference the way llm.c's tests do.
 *
 * @module
 */

import { Gpu } from "../mod.ts";

/** Opens the GPU a test file shares; the file's last test destroys it. */
export async function testGpu(): Promise<Gpu> {
  return await Gpu.request();
}

/** The largest absolute difference between two arrays of equal length. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

/** The largest magnitude in an array. */
export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/**
 * Asserts `max|actual - expected| <= tol * max(1, max|expected|)` (or
 * `<= tol * max|expected|` when `relativeTo` is `"max"`), prints the
 * difference, and returns it.
 */
export function assertClose(
  label: string,
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: number,
  relativeTo: "max" | "maxOrOne" = "maxOrOne",
): number {
  const diff = maxAbsDiff(actual, expected);
  const scale = relativeTo === "max" ? maxAbs(expected) : Math.max(1, maxAbs(expected));
  const rel = scale === 0 ? diff : diff / scale;
  console.log(
    `  ${label}: max |diff| = ${diff.toExponential(3)} (relative ${rel.toExponential(3)}, bound ${tol})`,
  );
  if (!(rel <= tol)) {
    throw new Error(`${label}: max relative difference ${rel} exceeds ${tol} (max |diff| ${diff})`);
  }
  return diff;
}

/** A seeded uniform generator on [0, 1) (mulberry32), for reproducible test data. */
export function seededUniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Runs the command `src/cli/<file>` with `args` in a new Deno process (the
 * permissions of `deno task train`), and returns its exit code and output.
 */
export async function runCli(
  file: string,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-net=registry.npmjs.org",
      new URL(`../src/cli/${file}`, import.meta.url).pathname,
      ...args,
    ],
    env: { XDG_RUNTIME_DIR: "/tmp", NO_COLOR: "1" },
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code, stdout: decode(stdout), stderr: decode(stderr) };
}
