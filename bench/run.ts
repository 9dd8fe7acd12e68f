/**
 * `deno task bench`: runs the benchmark files with `deno bench`, all of them
 * or those named, optionally only the benchmarks whose name matches a
 * filter; `--help` prints this command's usage (not `deno bench`'s).
 *
 * Run: deno run --allow-read --allow-env --allow-run bench/run.ts [--help]
 *
 * @module
 */

import { KanError } from "../src/errors.ts";
import { parseFlags, runCommand } from "../src/cli/flags.ts";

/** The benchmark files, by the name the command line takes, and what each measures. */
export const BENCHES: Readonly<Record<string, string>> = {
  layers: "every layer type, forward and forward + backward, at [784, 64, 10] and [1000, 1000, 1]",
  grid_sweep: "G = 5, 20, 50, 200 for every basis at [784, 64, 10], batch 512",
  speed_test: "the ReLU-KAN paper's speed test: 500 full-batch Adam steps on five functions",
  runtime: "fixed costs: one GPU→CPU wait, recording dispatches, recording one Adam step",
};

const HELP = `Benchmarks of the module on the GPU (deno bench; on a software adapter such as lavapipe
the figures only show that the benchmarks run).

Usage: deno task bench [--only LIST] [--filter TEXT]
  --only LIST        comma-separated files, from ${Object.keys(BENCHES).join(",")} (default all)
  --filter TEXT      only the benchmarks whose name contains TEXT (deno bench --filter)
  -h, --help         this text

Files (bench/NAME_bench.ts)
${Object.entries(BENCHES).map(([name, what]) => `  ${name.padEnd(12)} ${what}`).join("\n")}`;

/** The `deno bench` arguments for the command line `args`, or null for `--help`. */
export function benchArgs(args: string[]): string[] | null {
  const { values, help } = parseFlags(args, { only: { type: "string" }, filter: { type: "string" } });
  if (help) return null;
  const only = values.only?.split(",").map((s) => s.trim()) ?? Object.keys(BENCHES);
  for (const name of only) {
    if (!(name in BENCHES)) {
      throw new KanError(`--only: "${name}" is not one of ${Object.keys(BENCHES).join(", ")}`);
    }
  }
  if (values.filter?.trim() === "") throw new KanError(`--filter needs a text, got ""`);
  const dir = new URL(".", import.meta.url).pathname;
  return [
    "bench",
    "--allow-read",
    "--allow-env",
    ...(values.filter === undefined ? [] : ["--filter", values.filter]),
    ...only.map((name) => `${dir}${name}_bench.ts`),
  ];
}

/** Prints the usage, or runs `deno bench` and exits with its status. */
async function main(args: string[]): Promise<void> {
  const benchArguments = benchArgs(args);
  if (benchArguments === null) {
    console.log(HELP);
    return;
  }
  const { code } = await new Deno.Command(Deno.execPath(), { args: benchArguments }).spawn().status;
  if (code !== 0) Deno.exit(code);
}

if (import.meta.main) await runCommand(main);
