/**
 * The cost side of a step, in counts: a model's parameters live in one buffer
 * (one optimizer dispatch per step, whatever the depth, with freeze
 * honoured), bind groups are made once per kernel and buffers and dropped with
 * a destroyed buffer, and parameters shared between models stay right.
 */

import { Adam, AdamW, BSplineKAN, kan, Linear, ReLUKAN, Sequential, SGD, Tensor } from "../mod.ts";
import { axpy } from "../kernels.ts";
import { recordLoss } from "../src/train/loss.ts";
import { assert, assertEquals } from "./assert.ts";
import { assertClose, seededUniform, testGpu } from "./helpers.ts";

const gpu = await testGpu();

const models = {
  "B-spline KAN [4, 4, 2, 1]": () => kan(gpu, [4, 4, 2, 1], { basis: "bspline", gridSize: 10 }),
  "ReLU-KAN [2, 5, 1]": () => kan(gpu, [2, 5, 1], { basis: "relu" }),
  "FastKAN [3, 4, 2]": () => kan(gpu, [3, 4, 2], { basis: "fast" }),
  "MLP [4, 64, 64, 1]": () => kan(gpu, [4, 64, 64, 1], { basis: "mlp" }),
};

/** Dispatches that one optimizer step records. */
function optimizerDispatches(model: Sequential, optimizer: Adam | SGD): number {
  const before = gpu.stats().dispatches;
  optimizer.step(model.parameters());
  return gpu.stats().dispatches - before;
}

for (const [name, make] of Object.entries(models)) {
  Deno.test(`${name}: one parameter block, one gradient block, one dispatch per Adam, AdamW or SGD step`, async () => {
    const model = make();
    const blocks = new Set(model.parameters().map((p) => p.block));
    assertEquals(blocks.size, 1);
    model.zeroGrad();
    for (const optimizer of [new Adam(), new AdamW(), new SGD({ lr: 0.1, momentum: 0.9 })]) {
      assertEquals(optimizerDispatches(model, optimizer), 1, optimizer.name);
      optimizer.dispose();
    }
    await gpu.sync();
    model.dispose();
  });
}

Deno.test("freeze in one dispatch: frozen parameters do not move, the others take Adam's steps", async () => {
  const random = seededUniform(3);
  const model = kan(gpu, [2, 3, 1], { basis: "bspline" });
  const x = Tensor.from(gpu, Float32Array.from({ length: 64 }, () => random() * 2 - 1), [32, 2]);
  const y = Tensor.from(gpu, Float32Array.from({ length: 32 }, () => random()), [32, 1]);
  const before = await model.stateDict();
  const optimizer = new Adam({ lr: 1e-2 });
  await model.fit({
    x,
    y,
    loss: "mse",
    optimizer,
    steps: 3,
    freeze: ["spline_scaler", "layers.1.base_weight"],
  });
  const after = await model.stateDict();
  for (const key of Object.keys(before)) {
    const frozen = key.endsWith("spline_scaler") || key === "layers.1.base_weight" || key.endsWith("grid");
    const moved = before[key].data.some((v, i) => v !== after[key].data[i]);
    assertEquals(moved, !frozen, key);
  }
  for (const t of [x, y, optimizer]) t.dispose();
  model.dispose();
});

Deno.test("a layer shared by two models: both compute with it and train it, each model's other layers stay its own", async () => {
  const shared = new Linear(gpu, 2, 2);
  const a = new Sequential([shared, new Linear(gpu, 2, 1)]);
  const b = new Sequential([new ReLUKAN(gpu, 2, 2), shared]);
  const x = Tensor.from(gpu, [0.1, 0.2, 0.3, 0.4], [2, 2]);
  const reference = async (model: Sequential) => {
    const state = Object.fromEntries(Object.entries(await model.stateDict()).map(([k, v]) => [k, v.data]));
    return model.reference(state).forward(await x.read(), 2).y;
  };
  for (const model of [a, b]) {
    const y = model.forward(x);
    assertClose("y", await y.read(), await reference(model), 1e-5);
    y.dispose();
  }
  const target = Tensor.zeros(gpu, [2, 1]);
  const optimizer = new SGD({ lr: 0.1 });
  await a.fit({ x, y: target, loss: "mse", optimizer, steps: 2 });
  const sharedWeight = (await a.stateDict())["layers.0.weight"].data;
  assertEquals(
    (await b.stateDict())["layers.1.weight"].data,
    sharedWeight,
    "b sees the trained shared layer",
  );
  const y = b.forward(x);
  assertClose("b after a trained", await y.read(), await reference(b), 1e-5);
  for (const t of [x, target, y, optimizer]) t.dispose();
  a.dispose();
  b.layers[0].dispose();
});

Deno.test("bind groups: made once per kernel and buffers, reused by every later step, dropped with destroyed buffers", async () => {
  const model = new Sequential([new BSplineKAN(gpu, 3, 4), new BSplineKAN(gpu, 4, 1)]);
  const x = Tensor.from(gpu, new Float32Array(30).fill(0.3), [10, 3]);
  const y = Tensor.zeros(gpu, [10, 1]);
  const loss = Tensor.zeros(gpu, [1]);
  const optimizer = new Adam();
  const step = () => {
    model.zeroGrad();
    const trace = model.trace(x);
    const dz = recordLoss(gpu, "mse", trace.y, y, loss.binding, 0);
    trace.backward(dz, false);
    dz.dispose();
    trace.release();
    trace.y.dispose();
    optimizer.step(model.parameters());
  };
  step();
  step();
  await gpu.sync();
  const groups = gpu.stats().bindGroups;
  const dispatches = gpu.stats().dispatches;
  for (let i = 0; i < 5; i++) step();
  await gpu.sync();
  assert(gpu.stats().dispatches - dispatches >= 5 * 10, "the steps dispatched");
  assertEquals(gpu.stats().bindGroups, groups, "later steps made no bind group");
  const value = (await loss.read())[0];
  for (const t of [x, y, loss, optimizer]) t.dispose();
  model.dispose();
  gpu.pool.trim(); // destroys every idle buffer: their groups go with them
  assert(gpu.stats().bindGroups < groups, `${gpu.stats().bindGroups} groups left of ${groups}`);
  // New buffers (some may be new objects at old addresses) compute correctly.
  const a = Tensor.from(gpu, [1, 2, 3], [3]);
  const b = Tensor.from(gpu, [10, 20, 30], [3]);
  axpy(2, a, b);
  assertEquals(Array.from(await b.read()), [12, 24, 36]);
  const c = kan(gpu, [3, 1], { basis: "mlp" });
  const input = Tensor.from(gpu, [1, 1, 1], [1, 3]);
  const out = c.forward(input);
  assert(Number.isFinite((await out.read())[0]) && Number.isFinite(value));
  for (const t of [a, b, input, out]) t.dispose();
  c.dispose();
});

Deno.test("dispatch teardown: nothing left live", () => {
  assertEquals(gpu.stats().liveBuffers, 0);
  gpu.destroy();
});
