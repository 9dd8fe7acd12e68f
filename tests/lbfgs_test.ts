/**
 * LBFGS: the float64 core (torch.optim.LBFGS's algorithm) on Rosenbrock's
 * function; the GPU driver against the core driven by a model's float64
 * reference; and LBFGS reaching a lower loss than Adam on f1 in 50 steps.
 */

import { Adam, BSplineKAN, kan, LBFGS, Sequential, Tensor } from "../mod.ts";
import { functionSplit } from "../src/data/synthetic.ts";
import { cubicInterpolate, lbfgsStep, newLbfgsState, strongWolfe } from "../src/train/lbfgs_core.ts";
import { mseReference } from "../src/train/loss.ts";
import { assert } from "./assert.ts";
import { assertClose, testGpu } from "./helpers.ts";

const gpu = await testGpu();

Deno.test("lbfgs core: the cubic interpolation finds a cubic's minimizer", () => {
  // f(x) = (x - 0.3)^2 (x + 2): minimizer of the cubic through x = 0 and x = 1 with their slopes.
  const f = (x: number) => (x - 0.3) ** 2 * (x + 2);
  const g = (x: number) => 2 * (x - 0.3) * (x + 2) + (x - 0.3) ** 2;
  assertClose("cubic minimizer", [cubicInterpolate(0, f(0), g(0), 1, f(1), g(1))], [0.3], 1e-12);
  assertClose("clamped to bounds", [cubicInterpolate(0, f(0), g(0), 1, f(1), g(1), [0.5, 2])], [0.5], 0);
});

Deno.test("lbfgs core: minimizes Rosenbrock's function to 1e-12 with strong-Wolfe line search", async () => {
  const x = Float64Array.of(-1.5, 2);
  const state = newLbfgsState();
  const settings = {
    lr: 1,
    maxIter: 20,
    maxEval: 25,
    toleranceGrad: 1e-12,
    toleranceChange: 1e-15,
    historySize: 10,
    toleranceYs: 1e-10,
    lineSearch: "strong_wolfe" as const,
  };
  const evaluate = (p: Float64Array) => {
    const [a, b] = p;
    return Promise.resolve({
      loss: (1 - a) ** 2 + 100 * (b - a * a) ** 2,
      grad: Float64Array.of(-2 * (1 - a) - 400 * a * (b - a * a), 200 * (b - a * a)),
    });
  };
  for (let s = 0; s < 10; s++) await lbfgsStep(settings, state, x, evaluate);
  const { loss } = await evaluate(x);
  console.log(
    `  after 10 steps: x = (${x[0]}, ${x[1]}), loss ${loss.toExponential(2)}, ${state.funcEvals} evaluations`,
  );
  assert(loss < 1e-12, `loss ${loss}`);
  assertClose("minimizer", x, [1, 1], 1e-6);
});

Deno.test("lbfgs: on the GPU it follows the float64 core driven by the model's float64 reference", async () => {
  const { train } = functionSplit("f1", { seed: 5 });
  const rows = 200;
  const xs = train.x.subarray(0, rows);
  const ys = train.y.subarray(0, rows);
  const model = new Sequential([new BSplineKAN(gpu, 1, 1, { seed: 2 })]);
  const start = await model.stateDict();
  const x = Tensor.from(gpu, xs, [rows, 1]);
  const y = Tensor.from(gpu, ys, [rows, 1]);
  const options = { maxIter: 4, historySize: 10 };
  await model.fit({ x, y, loss: "mse", optimizer: new LBFGS(options), steps: 2, progress: "none" });
  const after = await model.stateDict();

  const keys = model.parameters().filter((p) => p.trainable).map((p) => `layers.0.${p.name}`);
  const state = Object.fromEntries(Object.entries(start).map(([k, e]) => [k, Float64Array.from(e.data)]));
  const flat = Float64Array.from(keys.flatMap((k) => [...state[k]]));
  const unflatten = (v: Float64Array) => {
    let at = 0;
    for (const k of keys) {
      state[k] = v.slice(at, at + state[k].length);
      at += state[k].length;
    }
  };
  const evaluate = (point: Float64Array) => {
    unflatten(point);
    const trace = model.reference(state).forward(xs, rows);
    const { loss, dz } = mseReference(trace.y, ys);
    const { grads } = trace.backward(dz);
    return Promise.resolve({ loss, grad: Float64Array.from(keys.flatMap((k) => [...grads[k]])) });
  };
  const core = newLbfgsState();
  for (let s = 0; s < 2; s++) await lbfgsStep(new LBFGS(options).settings, core, flat, evaluate);
  unflatten(flat);
  for (const k of keys) assertClose(`${k} after 2 LBFGS steps`, after[k].data, state[k], 1e-4, "max");
  model.dispose();
  x.dispose();
  y.dispose();
});

Deno.test("lbfgs: reaches a lower loss than Adam on f1 in 50 steps", async () => {
  const { train, test } = functionSplit("f1", { seed: 0 });
  const x = Tensor.from(gpu, train.x, [train.rows, 1]);
  const y = Tensor.from(gpu, train.y, [train.rows, 1]);
  const xt = Tensor.from(gpu, test.x, [test.rows, 1]);
  const yt = Tensor.from(gpu, test.y, [test.rows, 1]);
  const results: Record<string, number> = {};
  for (const [name, optimizer] of [["LBFGS", new LBFGS()], ["Adam", new Adam({ lr: 1e-3 })]] as const) {
    const model = kan(gpu, [1, 1], { basis: "bspline" });
    await model.fit({ x, y, loss: "mse", optimizer, steps: 50, logEvery: 50, progress: "none" });
    results[name] = (await model.evaluate(xt, yt, "mse")).loss;
    model.dispose();
  }
  console.log(
    `  test MSE after 50 steps: LBFGS ${results.LBFGS.toExponential(2)}, Adam ${
      results.Adam.toExponential(2)
    }`,
  );
  assert(results.LBFGS < results.Adam, "LBFGS beats Adam");
  assert(results.LBFGS < 1e-4, `LBFGS fits f1: ${results.LBFGS}`);
  for (const t of [x, y, xt, yt]) t.dispose();
});

Deno.test("lbfgs teardown", () => {
  gpu.destroy();
});

Deno.test("lbfgs: a loss that overflows in the line search bisects instead of making the step NaN", async () => {
  // torch's cubic interpolation turns an infinite trial loss into a NaN step (the
  // reference runs of ReLU-KAN and the MLP that went NaN in the forgetting
  // experiment); here it falls back to the bracket's midpoint.
  assert(cubicInterpolate(0, 1, -1, 1, Infinity, 5) === 0.5, "midpoint for an infinite trial loss");
  assert(cubicInterpolate(0, 1, -1, 1, Infinity, Infinity) === 0.5, "midpoint for an infinite trial");
  assert(cubicInterpolate(0, 1, -1, 2, NaN, NaN) === 1, "midpoint for a NaN trial");
  // f(x) = (x - 1)^2, its value infinite from x = 3 on; the first trial step (t = 10) lands there.
  const evaluate = (p: Float64Array) => {
    const x = p[0];
    const finite = x < 3;
    return Promise.resolve({
      loss: finite ? (x - 1) ** 2 : Infinity,
      grad: Float64Array.of(2 * (x - 1)),
    });
  };
  const start = Float64Array.of(0);
  const g = Float64Array.of(-2);
  const r = await strongWolfe(evaluate, start, 10, Float64Array.of(2), 1, g, -4, 1e-9);
  assert(Number.isFinite(r.t) && Number.isFinite(r.loss), `t ${r.t}, loss ${r.loss}`);
  assert(r.loss < 1, `the step decreased the loss: ${r.loss}`);
});
