/**
 * The KAN paper's interpretability workflow end to end, on examples of the
 * paper (its hello-world formula, and multiplication, deeper composition, phase
 * transition and division from its Table 1; `src/experiments/symbolic_workflow.ts`):
 * each formula sampled on [-1, 1]^D (division: [0.5, 2]^2; 1,000 training and
 * 500 test points, seeded), a B-spline KAN
 * trained with LBFGS (pykan's settings: lr 1, history 10, strong Wolfe) for 20
 * steps a phase: G = 3 with sparsity regularization (lamb 1e-3) and grid
 * updates, pruned by pykan's attribution scores (twice, as pykan judges the edges again on the
 * smaller model), trained, refined to G = 10,
 * trained, every edge snapped to the best library function (from a library
 * narrowed as pykan's tutorials narrow it where the form is known), the symbols
 * trained, the formula composed, its constants refit in float64 and rounded
 * where the training MSE allows. Asserted: the pruned widths, the symbols
 * chosen, and the recovered formula's test MSE against the true formula.
 */

import { runSymbolicWorkflow, type SymbolicWorkflowOptions } from "../src/experiments/symbolic_workflow.ts";
import { parseExpression } from "../src/symbolic/expression.ts";
import { assert, assertEquals } from "./assert.ts";
import { testGpu } from "./helpers.ts";

const gpu = await testGpu();

async function run(options: SymbolicWorkflowOptions) {
  const lines: string[] = [];
  const result = await runSymbolicWorkflow(gpu, {
    steps: 20,
    testSize: 500,
    ...options,
    log: (line) => lines.push(line),
  });
  result.model.dispose();
  console.log(`  ${lines.join("\n  ")}\n  formula: ${result.formula}, test MSE ${result.formulaTestMse}`);
  parseExpression(result.formula, options.inputs); // the printed formula reads back
  return result;
}

function symbols(result: Awaited<ReturnType<typeof run>>): string[] {
  return result.choices.map((c) => `${c.layer}:${c.in}->${c.out} ${c.name}`);
}

Deno.test("symbolic workflow: exp(sin(pi x1) + x2^2) from [2, 5, 1] prunes to [2, 1, 1], sin/x^2/exp, formula test MSE < 1e-6", async () => {
  const r = await run({ expr: "exp(sin(pi*x1) + x2^2)", inputs: 2, seed: 1 });
  assertEquals(r.widths, [2, 1, 1]);
  assertEquals(symbols(r), ["0:0->0 sin", "0:1->0 x^2", "1:0->0 exp"]);
  assertEquals(r.formula, "exp(sin(pi*x1) + x2^2)"); // the paper's "gives back exactly that"
  assert(r.formulaTestMse < 1e-6, `formula test MSE ${r.formulaTestMse}`);
});

Deno.test("symbolic workflow: x1*x2 from [2, 5, 1] prunes to [2, 2, 1], (a x1 + b x2)^2 - (c x1 - d x2)^2, formula test MSE < 1e-6", async () => {
  // pykan's tutorials restrict the library where the form is known; here x and x^2.
  const r = await run({ expr: "x1*x2", inputs: 2, seed: 2, lib: ["x", "x^2"] });
  assertEquals(r.widths, [2, 2, 1]);
  assertEquals(symbols(r).map((s) => s.split(" ")[1]), ["x", "x", "x", "x", "x^2", "x^2"]);
  assert(r.formulaTestMse < 1e-6, `formula test MSE ${r.formulaTestMse}`);
});

Deno.test("symbolic workflow: sqrt((x1-x2)^2 + (x3-x4)^2) from [4, 2, 1, 1] keeps its shape, x/x^2/sqrt, formula test MSE < 1e-6", async () => {
  const r = await run({
    expr: "sqrt((x1-x2)^2 + (x3-x4)^2)",
    inputs: 4,
    width: [4, 2, 1, 1],
    seed: 1,
    lib: ["x", "x^2", "sqrt"],
  });
  assertEquals(r.widths, [4, 2, 1, 1]);
  assertEquals(symbols(r), [
    "0:0->0 x",
    "0:1->0 x",
    "0:2->1 x",
    "0:3->1 x",
    "1:0->0 x^2",
    "1:1->0 x^2",
    "2:0->0 sqrt",
  ]);
  assert(r.formulaTestMse < 1e-6, `formula test MSE ${r.formulaTestMse}`);
});

Deno.test("symbolic workflow: tanh(5(x1^4 + x2^4 + x3^4 - 1)) (phase transition) from [3, 5, 1] prunes to [3, 1, 1], x^4/tanh, formula test MSE < 1e-6", async () => {
  const r = await run({
    expr: "tanh(5*(x1^4 + x2^4 + x3^4 - 1))",
    inputs: 3,
    seed: 3,
    lamb: 0.002,
    grids: [5, 10],
    lib: ["x^4", "tanh"],
  });
  assertEquals(r.widths, [3, 1, 1]);
  assertEquals(symbols(r), ["0:0->0 x^4", "0:1->0 x^4", "0:2->0 x^4", "1:0->0 tanh"]);
  assertEquals(r.formula, "tanh(5*x1^4 + 5*x2^4 + 5*x3^4 - 5)");
  assert(r.formulaTestMse < 1e-6, `formula test MSE ${r.formulaTestMse}`);
});

Deno.test("symbolic workflow: x1/x2 on [0.5, 2]^2 (division) from [2, 5, 1] prunes to [2, 1, 1], exp(log - log), formula test MSE < 1e-6", async () => {
  const r = await run({
    expr: "x1/x2",
    inputs: 2,
    range: [0.5, 2],
    lib: ["x", "x^2", "exp", "log", "sqrt", "1/x"],
  });
  assertEquals(r.widths, [2, 1, 1]);
  assertEquals(symbols(r), ["0:0->0 log", "0:1->0 log", "1:0->0 exp"]);
  assertEquals(r.formula, "x1/x2"); // exp(log(a x1) - log(b x2)), simplified
  assert(r.formulaTestMse < 1e-6, `formula test MSE ${r.formulaTestMse}`);
});

Deno.test("symbolic workflow: no GPU buffer left", () => {
  assertEquals(gpu.stats().liveBuffers, 0);
  gpu.destroy();
});
