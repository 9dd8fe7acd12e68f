/**
 * `deno task symbolic` and `deno task train --expr`: a formula that does not
 * parse, a missing --inputs, an unsupported basis or a bad width exit 2 with
 * one line naming the flag, before any training; a short run ends with the
 * two lines `formula: …` and `formula test MSE: …` and writes its plot.
 */

import { parseTrainArgs } from "../src/cli/train.ts";
import { symbolicCommand } from "../src/cli/symbolic.ts";
import { parseExpression } from "../src/symbolic/expression.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "./assert.ts";
import { runCli } from "./helpers.ts";

Deno.test("symbolic cli: bad formulas and flags exit 2 with one error line, before any training", async () => {
  const refused = await runCli("symbolic.ts", "--expr", "exp(sin(pi*x1) + x2^", "--inputs", "2");
  assertEquals(refused.code, 2);
  assertEquals(refused.stderr.trim().split("\n").length, 1, refused.stderr);
  assert(/^error: parseExpression: at character \d+ /.test(refused.stderr), refused.stderr);
  for (
    const [args, message] of [
      [["--inputs", "2"], /--expr is required/],
      [["--expr", "x1*x2"], /--inputs is required/],
      [["--expr", "x1*x3", "--inputs", "2"], /x3/],
      [["--expr", "x1*x2", "--inputs", "2", "--basis", "fast"], /--basis: "fast" is not supported here/],
      [
        ["--expr", "x1*x2", "--inputs", "2", "--width", "3,5,1"],
        /--width: "3,5,1" must .* start with --inputs 2/,
      ],
      [["--expr", "x1*x2", "--inputs", "2", "--grids", "3"], /--grids: "3" must be two grids/],
      [["--expr", "x1*x2", "--inputs", "2", "--lamb=-1"], /--lamb must be a number >= 0/],
      [["--expr", "sinh(x1)", "--inputs", "1"], /sinh/],
      [["--expr", "x1", "--inputs", "1", "--range", "2,1"], /--range: "2,1" must be two finite numbers/],
      [["--expr", "log(x1)", "--inputs", "1"], /not finite everywhere on \[-1, 1\]\^1/],
    ] as const
  ) {
    await assertRejects(() => symbolicCommand([...args], () => {}), message);
  }
});

Deno.test("symbolic cli: a short run prints the widths and symbols and ends with the formula and its test MSE", async () => {
  const dir = await Deno.makeTempDir();
  const lines: string[] = [];
  await symbolicCommand(
    [
      "--expr",
      "x1^2",
      "--inputs",
      "1",
      "--width",
      "1,1",
      "--steps",
      "3",
      "--train-size",
      "64",
      "--test-size",
      "32",
    ]
      .concat(["--grids", "3,5", "--plot", `${dir}/net.svg`]),
    (line) => lines.push(line),
  );
  assert(lines.some((l) => l.startsWith("pruned widths: [1,1]")), lines.join("\n"));
  assert(
    lines.some((l) => /^edge \(layer 0, input 1, output 1\): \S+ {2}R² [01]\.\d{6}$/.test(l)),
    lines.join("\n"),
  );
  const [formula, mse] = lines.slice(-2);
  assert(formula.startsWith("formula: "), formula);
  parseExpression(formula.slice("formula: ".length), 1);
  assert(/^formula test MSE: \d\.\d{3}e[-+]\d+$/.test(mse), mse);
  const svg = await Deno.readTextFile(`${dir}/net.svg`);
  assert(svg.startsWith("<svg") && svg.includes("x1"), "the plot is an SVG of the network");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("train --expr: a formula as the data; with --data, without --inputs or unparsable it is refused", () => {
  const a = parseTrainArgs(["--expr", "x1*x2", "--inputs", "2"]);
  assertEquals([a.data, a.fn?.inputs, a.fn?.f([0.5, -2])], ["expr", 2, -1]);
  assertThrows(
    () => parseTrainArgs(["--expr", "x1", "--inputs", "1", "--data", "f1"]),
    /--data or --expr, not both/,
  );
  assertThrows(() => parseTrainArgs(["--expr", "x1"]), /--expr needs --inputs D/);
  assertThrows(() => parseTrainArgs(["--inputs", "2"]), /--expr needs --inputs D/);
  assertThrows(() => parseTrainArgs(["--expr", "x1 +", "--inputs", "1"]), /parseExpression: at character/);
  assertThrows(() => parseTrainArgs(["--expr", "x1", "--inputs", "1", "--width", "2,1"]), /needs 1 inputs/);
});
