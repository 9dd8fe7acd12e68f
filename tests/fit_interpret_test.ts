/**
 * `fit`'s interpretability options: pykan's sparsity regularization (`lamb`
 * and its weights) changes an SGD step by exactly `lr * d (lamb reg) / d w`
 * of the float64 reference, and the logged loss is the objective; grid
 * updates (`updateGrid`) happen at pykan's steps and equal `updateModelGrid`
 * called by hand; bad combinations are KanErrors.
 */

import { BSplineKAN, kan, KanError, Linear, Sequential, SGD, Tensor } from "../mod.ts";
import { regularizationReference } from "../src/interpret/reg_reference.ts";
import { updateModelGrid } from "../src/interpret/grid_update.ts";
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { assertClose, seededUniform, testGpu } from "./helpers.ts";

const gpu = await testGpu();
const ROWS = 32;

function rows(seed: number, n: number): Float32Array {
  const random = seededUniform(seed);
  return Float32Array.from({ length: n }, () => 1.8 * random() - 0.9);
}

function asState(dict: Record<string, { data: Float32Array }>): Record<string, Float32Array> {
  return Object.fromEntries(Object.entries(dict).map(([k, e]) => [k, e.data]));
}

Deno.test("fit with lamb: one SGD step equals w - lr (d mse + d lamb reg) of the float64 references; the logged loss is mse + lamb reg", async () => {
  const settings = { lamb: 0.05, lambL1: 1.5, lambEntropy: 2, lambCoef: 0.3, lambCoefdiff: 0.2 };
  const layer = new BSplineKAN(gpu, 3, 2, { seed: 2, scaleNoise: 0.5 });
  const xs = rows(1, ROWS * 3);
  const ts = rows(2, ROWS * 2);
  const state = asState(await layer.stateDict());
  const fwd = layer.reference(state).forward(xs, ROWS);
  let mse = 0;
  const dy = fwd.y.map((v, k) => {
    mse += (v - ts[k]) ** 2 / fwd.y.length;
    return 2 * (v - ts[k]) / fwd.y.length;
  });
  const lossGrads = fwd.backward(dy).grads;
  const reg = regularizationReference(layer, state, xs, ROWS, settings); // value and grads are of lamb * reg
  const x = Tensor.from(gpu, xs, [ROWS, 3]);
  const y = Tensor.from(gpu, ts, [ROWS, 2]);
  const lr = 0.1;
  const optimizer = new SGD({ lr });
  const history = await layer.fit({ x, y, loss: "mse", optimizer, steps: 1, progress: "none", ...settings });
  const objective = mse + reg.value;
  console.log(`  logged ${history.loss[0]}, mse ${mse}, lamb reg ${reg.value}`);
  assert(
    Math.abs(history.loss[0] - objective) <= 1e-5 * objective,
    `logged loss ${history.loss[0]} vs ${objective}`,
  );
  assert(reg.value > 0.05 * mse, "the regularization is a sizable part of the objective");
  const after = asState(await layer.stateDict());
  for (const name of ["base_weight", "spline_weight", "spline_scaler"] as const) {
    const want = state[name].map((w, k) => w - lr * (lossGrads[name][k] + reg.grads[name][k]));
    const without = state[name].map((w, k) => w - lr * lossGrads[name][k]);
    const diff = assertClose(name, after[name], want, 1e-5);
    const moved = Math.max(...without.map((v, k) => Math.abs(v - want[k])));
    console.log(`  ${name}: the regularization moves the step by ${moved.toExponential(2)}`);
    assert(
      moved > 1e-4 && moved > 50 * diff,
      `${name}: the regularization moved the step by ${moved} (error ${diff})`,
    );
  }
  for (const t of [x, y]) t.dispose();
  optimizer.dispose();
  layer.dispose();
});

Deno.test("fit with lamb through a 2-layer model: layer by layer (not fused), the objective falls", async () => {
  const model = kan(gpu, [3, 4, 1], { basis: "bspline", seed: 3 });
  const x = Tensor.from(gpu, rows(3, ROWS * 3), [ROWS, 3]);
  const y = Tensor.from(gpu, rows(4, ROWS), [ROWS, 1]);
  const optimizer = new SGD({ lr: 0.05 });
  const before = gpu.stats().dispatches;
  const history = await model.fit({ x, y, loss: "mse", optimizer, steps: 20, progress: "none", lamb: 0.01 });
  const perStep = (gpu.stats().dispatches - before) / 20;
  assert(perStep > 10, `not the fused step (${perStep} dispatches a step)`);
  assert(history.loss.at(-1)! < history.loss[0], `objective ${history.loss[0]} -> ${history.loss.at(-1)}`);
  for (const t of [x, y]) t.dispose();
  optimizer.dispose();
  model.dispose();
});

Deno.test("fit with updateGrid: the grid moves at pykan's steps, as updateModelGrid by hand does", async () => {
  const xs = Float32Array.from(rows(5, ROWS * 2), (v) => 0.4 * v + 0.2); // inputs in [-0.16, 0.56]
  const x = Tensor.from(gpu, xs, [ROWS, 2]);
  const y = Tensor.from(gpu, rows(6, ROWS), [ROWS, 1]);
  const a = kan(gpu, [2, 3, 1], { basis: "bspline", seed: 4 });
  const b = kan(gpu, [2, 3, 1], { basis: "bspline", seed: 4 });
  const grid0 = asState(await a.stateDict())["layers.0.grid"];
  // stopGridUpdateStep 4, gridUpdateNum 2: updates before steps 0 and 2 of this call.
  const optA = new SGD({ lr: 0.05 });
  const grid = { updateGrid: true, gridUpdateNum: 2, stopGridUpdateStep: 4 };
  await a.fit({ x, y, loss: "mse", optimizer: optA, steps: 3, progress: "none", ...grid });
  const optB = new SGD({ lr: 0.05 });
  for (let s = 0; s < 3; s++) {
    if (s % 2 === 0) await updateModelGrid(b, x);
    await b.fit({ x, y, loss: "mse", optimizer: optB, steps: 1, progress: "none" });
  }
  const sa = asState(await a.stateDict());
  const sb = asState(await b.stateDict());
  assert(Math.abs(sa["layers.0.grid"][3] - grid0[3]) > 0.05, "the first layer's grid moved onto the data");
  for (const k of Object.keys(sa)) assertClose(k, sa[k], sb[k], 1e-6);
  for (const t of [x, y]) t.dispose();
  for (const o of [optA, optB]) o.dispose();
  a.dispose();
  b.dispose();
});

Deno.test("fit: lamb without B-spline layers, updateGrid on other layers, one-row batches or a lone gridUpdateNum are KanErrors", async () => {
  const x = Tensor.from(gpu, rows(7, 8 * 2), [8, 2]);
  const y = Tensor.from(gpu, rows(8, 8), [8, 1]);
  const mlp = new Sequential([new Linear(gpu, 2, 1)]);
  const spline = kan(gpu, [2, 1], { basis: "bspline" });
  const optimizer = new SGD({ lr: 0.1 });
  const base = { x, y, loss: "mse" as const, optimizer, steps: 1, progress: "none" as const };
  await assertRejects(
    () => mlp.fit({ ...base, lamb: 0.1 }),
    /regularizes BSplineKAN layers, and the model has none/,
  );
  await assertRejects(
    () => mlp.fit({ ...base, updateGrid: true }),
    /updateGrid" needs a Sequential of BSplineKAN/,
  );
  await assertRejects(() => spline.fit({ ...base, lamb: 0.1, batchSize: 7 }), /at least 2 rows/);
  await assertRejects(() => spline.fit({ ...base, gridUpdateNum: 3 }), /needs option "updateGrid: true"/);
  await assertRejects(() => spline.fit({ ...base, lamb: -1 }), KanError);
  await assertRejects(() => spline.fit({ ...base, lamb: 0.1, lambL1: Number.NaN }), /lambL1/);
  for (const t of [x, y]) t.dispose();
  optimizer.dispose();
  mlp.dispose();
  spline.dispose();
});

Deno.test("fit interpret: no GPU buffer left", () => {
  assertEquals(gpu.stats().liveBuffers, 0);
  gpu.destroy();
});
