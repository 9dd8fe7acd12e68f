/**
 * The commands: --help, one `error: ...` line (no stack trace) and exit 2 for
 * every bad flag, value, combination or unwritable output, checked before any
 * training; and a short f1 run that trains, saves a checkpoint and loads it back.
 */

import { kan, loadSafetensors, readSafetensors, Tensor } from "../mod.ts";
import { parseTrainArgs } from "../src/cli/train.ts";
import { functionSplit } from "../src/data/synthetic.ts";
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { testGpu } from "./helpers.ts";

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return await command("train.ts", ...args);
}

/** Runs `src/cli/<file>` with `args`. */
async function command(
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

Deno.test("cli: --help prints the usage and exits 0", async () => {
  const { code, stdout } = await cli("--help");
  assertEquals(code, 0);
  assert(
    stdout.includes("Usage: deno task train") && stdout.includes("--data NAME") && stdout.includes("--plot"),
  );
});

/** Asserts exit 2 with one `error: ...` line on stderr matching `message`, and no training. */
function assertRefused(
  args: readonly string[],
  result: { code: number; stdout: string; stderr: string },
  message: RegExp,
): void {
  const lines = result.stderr.trim().split("\n");
  assertEquals(result.code, 2, `${args}: exit ${result.code}: ${result.stderr}`);
  assert(
    lines.length === 1 && lines[0].startsWith("error: ") && message.test(lines[0]),
    `${args}: ${result.stderr}`,
  );
  assert(!result.stdout.includes("steps/s"), `${args}: it trained`);
}

Deno.test("cli: a bad flag, value or combination exits 2 with one line naming the flag, before any training", async () => {
  const dir = await Deno.makeTempDir();
  for (
    const [args, message] of [
      [["--bogus"], /bogus/],
      [["--data", "f9"], /--data must be one of .*, got "f9"/],
      [["--model", "cnn"], /--model must be one of .*, got "cnn"/],
      [["--steps=-3"], /--steps must be an integer >= 1, got "-3"/],
      [["--steps", "0"], /--steps must be an integer >= 1, got "0"/],
      [["--lr", "fast"], /--lr must be a number > 0.*, got "fast"/],
      [["--lr="], /--lr must be a number > 0.*, got ""/],
      [["--width", "2,0"], /--width must be at least two positive integers .*, got "2,0"/],
      [["--width", "2,5,1"], /--width 2,5,1 does not fit --data f1: it needs 1 inputs and 1 outputs/],
      [["--order", "9"], /--order must be an integer in 0\.\.7, got "9"/],
      [["--model", "fast", "--order", "2"], /--order does not apply to --model fast/],
      [["--momentum", "0.9"], /--momentum does not apply to --optimizer adam \(only to sgd\)/],
      [["--optimizer", "sgd", "--momentum", "1"], /--momentum must be a number in \[0, 1\), got "1"/],
      [
        ["--optimizer", "lbfgs", "--weight-decay", "0.1"],
        /--weight-decay does not apply to --optimizer lbfgs/,
      ],
      [["--save", `${dir}/missing/model.safetensors`], /--save .*: the folder .*missing does not exist/],
      [["--plot", dir], /--plot .* is a folder; give a file path/],
    ] as const
  ) {
    assertRefused(args, await cli(...args), message);
  }
  assertThrows(() => parseTrainArgs(["--steps", "5", "--epochs", "1"]), /--steps or --epochs, not both/);
  assertThrows(() => parseTrainArgs(["--optimizer", "rmsprop"]), /--optimizer must be one of/);
  assertThrows(() => parseTrainArgs(["--seed", "1.5"]), /--seed must be an integer >= 0, got "1.5"/);
  assertThrows(() => parseTrainArgs(["--data", "mnist", "--train-size", "5"]), /--train-size does not apply/);
  assertThrows(
    () => parseTrainArgs(["--save", "a.st", "--plot", "a.st"]),
    /--save and --plot name the same file/,
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("cli: the other commands refuse bad flags and unwritable folders the same way", async () => {
  const file = await Deno.makeTempFile();
  for (
    const [script, args, message] of [
      ["forgetting.ts", ["--optimizer", "Adagrad"], /--optimizer must be one of .*, got "Adagrad"/],
      ["forgetting.ts", ["--model", "CNN"], /--model "CNN" matches none of/],
      ["forgetting.ts", ["--out", `${file}/figures`], /--out .*: cannot make or write the folder/],
      ["fit.ts", ["--out", `${file}/figures`], /--out .*: cannot make or write the folder/],
      ["fit.ts", ["--steps", "1e400"], /--steps must be an integer >= 1, got "1e400"/],
      ["gpu_info.ts", ["--verbose"], /verbose/],
    ] as const
  ) {
    assertRefused(args, await command(script, ...args), message);
  }
  await Deno.remove(file);
});

Deno.test("cli: a short f1 run trains, saves a checkpoint and a loss plot, and the checkpoint loads back", async () => {
  const dir = await Deno.makeTempDir();
  const save = `${dir}/f1.safetensors`;
  const plot = `${dir}/loss.svg`;
  const { code, stdout, stderr } = await cli(
    "--data",
    "f1",
    "--model",
    "bspline",
    "--optimizer",
    "lbfgs",
    "--steps",
    "20",
    "--save",
    save,
    "--plot",
    plot,
  );
  assertEquals(code, 0, stderr);
  const testMse = Number(/test MSE ([0-9.e+-]+)/.exec(stdout)?.[1]);
  console.log(`  ${stdout.split("\n").find((l) => l.startsWith("train MSE"))}`);
  assert(testMse < 1e-4, `test MSE ${testMse}`);
  assert((await Deno.readTextFile(plot)).startsWith("<svg"), "the plot is an SVG");
  const { metadata } = await readSafetensors(save);
  assertEquals([metadata.model, metadata.width, metadata.data], ["bspline", "1,1", "f1"]);

  const gpu = await testGpu();
  const model = kan(gpu, [1, 1], { basis: "bspline" });
  model.loadStateDict(await loadSafetensors(save));
  const { test } = functionSplit("f1");
  const x = Tensor.from(gpu, test.x, [test.rows, 1]);
  const y = Tensor.from(gpu, test.y, [test.rows, 1]);
  const result = await model.evaluate(x, y, "mse");
  assert(
    Math.abs(result.loss - testMse) <= 1e-3 * testMse,
    `reloaded model's test MSE ${result.loss} vs ${testMse}`,
  );
  for (const t of [x, y, model]) t.dispose();
  await Deno.remove(dir, { recursive: true });
  assertEquals(gpu.stats().liveBuffers, 0);
  gpu.destroy();
});
