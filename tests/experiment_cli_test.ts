/**
 * The experiment commands (`deno task fit`, `fmnist`, `report`, `grid-extension`): bad flags are
 * `KanError`s naming the flag, and a short fitting run prints its table and
 * writes one SVG per function with the target and every model's fit.
 */

import { KanError } from "../mod.ts";
import { fitCommand } from "../src/cli/fit.ts";
import { fmnistCommand } from "../src/cli/fmnist.ts";
import { reportCommand, shellWords } from "../src/cli/report.ts";
import { gridExtensionCommand } from "../src/cli/grid_extension.ts";
import { assert, assertEquals } from "./assert.ts";

async function rejects(run: () => Promise<unknown>, text: string): Promise<void> {
  try {
    await run();
  } catch (e) {
    assert(e instanceof KanError, `not a KanError: ${e}`);
    assert(e.message.includes(text), `"${e.message}" does not name "${text}"`);
    return;
  }
  throw new Error(`no error for a bad ${text}`);
}

Deno.test("experiment commands: a bad flag or value is a KanError that names it", async () => {
  await rejects(() => fitCommand(["--models", "relu,kan2"], () => {}), "kan2");
  await rejects(() => fitCommand(["--functions", "f9"], () => {}), "f9");
  await rejects(() => fitCommand(["--steps", "0"], () => {}), "--steps");
  await rejects(() => fitCommand(["--stepz", "10"], () => {}), "stepz");
  await rejects(() => fmnistCommand(["--models", "cnn"], () => {}), "cnn");
  await rejects(() => fmnistCommand(["--epochs", "1.5"], () => {}), "--epochs");
  await rejects(() => reportCommand(["--optimizers", "Adagrad"], () => {}), "--optimizers");
  await rejects(() => reportCommand(["--fit-steps", "-3"], () => {}), "--fit-steps");
});

Deno.test("deno task report: REPORT.md's command line keeps the quotes an argument needs", () => {
  assertEquals(
    shellWords([
      "deno",
      "task",
      "report",
      "--optimizers",
      "Adam 1e-2,LBFGS",
      "--out",
      "it's",
      "--fit-steps=10",
    ]),
    `deno task report --optimizers 'Adam 1e-2,LBFGS' --out 'it'\\''s' --fit-steps=10`,
  );
  assertEquals(shellWords(["--out", "", "a$b"]), `--out '' 'a$b'`);
});

Deno.test("deno task fit: a short run prints the table and writes the function's SVG", async () => {
  const root = await Deno.makeTempDir();
  const out = `${root}/figures/fit`; // not there yet: the command makes it before training
  const lines: string[] = [];
  const results = await fitCommand(
    ["--functions", "f1", "--models", "relu,mlp", "--steps", "200", "--out", out],
    (l) => lines.push(l),
  );
  assertEquals(results.map((r) => r.model), ["relu", "mlp"]);
  for (const r of results) {
    // 200 steps of Adam 1e-3 from the initialization: better than predicting 0 (MSE 0.5) by far.
    assert(r.testMse < 0.1 && r.trainMse < 0.1, `${r.model}: ${r.testMse}`);
    assertEquals(r.curve.length, 101);
  }
  const table = lines.join("\n");
  assert(table.includes("| f1 sin(πx) | ReLU-KAN |") && table.includes("5.1e-6"), table);
  const svg = await Deno.readTextFile(`${out}/fit-f1.svg`);
  for (const name of ["target", "ReLU-KAN", "MLP"]) {
    assert(svg.includes(name), `${name} missing from the SVG`);
  }
  await Deno.remove(root, { recursive: true });
});

Deno.test("deno task grid-extension: a short run trains at each grid, prints the table and writes the SVG; bad flags are refused", async () => {
  await rejects(() => gridExtensionCommand(["--grids", "3,0"], () => {}), "--grids");
  await rejects(() => gridExtensionCommand(["--width", "3,5,1"], () => {}), "--width");
  const root = await Deno.makeTempDir();
  const lines: string[] = [];
  const results = await gridExtensionCommand(
    ["--grids", "3,6", "--width", "2,1,1", "--steps", "3", "--out", `${root}/ge`],
    (l) => lines.push(l),
  );
  assertEquals(results.map((r) => r.grid), [3, 6]);
  // The refined model starts as the same function (6 is a multiple of 3) and trains further.
  assert(
    results[1].trainRmse < results[0].trainRmse,
    `train RMSE ${results[0].trainRmse} -> ${results[1].trainRmse}`,
  );
  assert(lines.join("\n").includes("| 6 |"), lines.join("\n"));
  const svg = await Deno.readTextFile(`${root}/ge/grid-extension.svg`);
  assert(svg.startsWith("<svg") && svg.includes("test RMSE"), "the SVG has the test curve");
  await Deno.remove(root, { recursive: true });
});
