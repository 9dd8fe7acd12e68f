/**
 * The training CLI: --help, clear errors and a non-zero exit for bad flags,
 * and a short f1 run that trains, saves a checkpoint and loads it back.
 */

import { kan, loadSafetensors, readSafetensors, Tensor } from "../mod.ts";
import { parseTrainArgs } from "../src/cli/train.ts";
import { functionSplit } from "../src/data/synthetic.ts";
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { testGpu } from "./helpers.ts";

const script = new URL("../src/cli/train.ts", import.meta.url).pathname;

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-net=registry.npmjs.org",
      script,
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

Deno.test("cli: a bad flag or value exits non-zero with a message naming it", async () => {
  for (
    const [args, message] of [
      [["--bogus"], /bogus/],
      [["--data", "f9"], /--data must be one of/],
      [["--model", "cnn"], /--model must be one of/],
      [["--steps=-3"], /--steps must be a positive integer/],
      [["--steps", "0"], /--steps must be a positive integer/],
      [["--lr", "fast"], /--lr must be a number/],
      [["--width", "2,0"], /--width must list at least two positive integers/],
    ] as const
  ) {
    const { code, stderr } = await cli(...args);
    assertEquals(code, 2, `${args}: exit ${code}`);
    assert(message.test(stderr), `${args}: ${stderr}`);
  }
  assertThrows(() => parseTrainArgs(["--steps", "5", "--epochs", "1"]), /--steps or --epochs, not both/);
  assertThrows(() => parseTrainArgs(["--optimizer", "rmsprop"]), /--optimizer must be one of/);
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
  const result = await model.evaluate(
    Tensor.from(gpu, test.x, [test.rows, 1]),
    Tensor.from(gpu, test.y, [test.rows, 1]),
    "mse",
  );
  assert(
    Math.abs(result.loss - testMse) <= 1e-3 * testMse,
    `reloaded model's test MSE ${result.loss} vs ${testMse}`,
  );
  gpu.destroy();
});
