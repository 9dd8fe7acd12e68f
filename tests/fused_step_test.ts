/**
 * The fused step (src/fused/): a training step in at most three dispatches
 * whatever the depth, computing what the layer-by-layer kernels compute.
 *
 * - Dispatch counts from `gpu.stats()` for 1-, 2- and 3-layer models.
 * - Every basis, the SiLU and identity base branches, biases, LayerNorm,
 *   ReLU-KAN's trainable phases, `Linear` activations, mixed models, MSE and
 *   cross entropy, whole batches and shuffled minibatches whose last batch
 *   does not fill a workgroup, freeze, SGD and Adam: the losses and weights
 *   after ten steps equal the layer-by-layer path's within float32
 *   summation-order error (bound 2e-5 relative to the largest weight, 1e-5 on
 *   the losses; a wrong index or derivative is off by 1e-2 and more).
 * - `forward` and `evaluate` equal the layer-by-layer ones; the PyTorch parity
 *   vectors hold on the fused path (outputs and every gradient).
 */

import {
  Adam,
  BSplineKAN,
  FastKAN,
  kan,
  type Layer,
  Linear,
  ReLUKAN,
  Sequential,
  SGD,
  Tensor,
} from "../mod.ts";
import { fusedModel } from "../src/fused/fused_step.ts";
import { assert, assertEquals } from "./assert.ts";
import { assertClose, seededUniform, testGpu } from "./helpers.ts";
import { buildModel, parityFiles, readVector } from "./vectors.ts";

const gpu = await testGpu();

interface Case {
  name: string;
  make: () => Layer[];
  loss?: "mse" | "crossEntropy";
  rows?: number;
  batchSize?: number;
  freeze?: string[];
  sgd?: boolean;
}

const cases: Case[] = [
  { name: "B-spline [2, 5, 1]", make: () => kan(gpu, [2, 5, 1], { basis: "bspline" }).layers.slice() },
  {
    name: "B-spline identity base, bias, G=12 k=2 [3, 4]",
    make: () => [
      new BSplineKAN(gpu, 3, 4, { baseActivation: "identity", bias: true, gridSize: 12, splineOrder: 2 }),
    ],
  },
  {
    name: "B-spline no base [4, 4, 2, 1] G=10, 37 rows",
    make: () =>
      kan(gpu, [4, 4, 2, 1], { basis: "bspline", gridSize: 10, baseActivation: "zero" }).layers.slice(),
    rows: 37,
  },
  {
    name: "FastKAN [3, 6, 2] (LayerNorm, base)",
    make: () => kan(gpu, [3, 6, 2], { basis: "fast" }).layers.slice(),
  },
  {
    name: "FastKAN no LayerNorm, no base [2, 3]",
    make: () => [new FastKAN(gpu, 2, 3, { useLayerNorm: false, useBaseUpdate: false })],
  },
  { name: "FasterKAN [3, 5, 2]", make: () => kan(gpu, [3, 5, 2], { basis: "faster" }).layers.slice() },
  {
    name: "ReLU-KAN [2, 5, 1] (phases trained)",
    make: () => kan(gpu, [2, 5, 1], { basis: "relu" }).layers.slice(),
  },
  {
    name: "ReLU-KAN phases frozen, g=4 k=2 [3, 2]",
    make: () => [new ReLUKAN(gpu, 3, 2, { g: 4, k: 2, trainBoundaries: false })],
  },
  {
    name: "MLP [4, 16, 16, 3] cross entropy, shuffled batches of 24",
    make: () => kan(gpu, [4, 16, 16, 3], { basis: "mlp" }).layers.slice(),
    loss: "crossEntropy",
    batchSize: 24,
  },
  {
    name: "mixed: B-spline, Linear tanh, FastKAN, ReLU-KAN, batches of 30",
    make: () => [
      new BSplineKAN(gpu, 3, 4, { bias: true }),
      new Linear(gpu, 4, 4, { activation: "tanh" }),
      new FastKAN(gpu, 4, 3),
      new ReLUKAN(gpu, 3, 2),
    ],
    batchSize: 30,
  },
  {
    name: "freeze spline_scaler and layer 1's base, SGD with momentum",
    make: () => kan(gpu, [2, 3, 1], { basis: "bspline" }).layers.slice(),
    freeze: ["spline_scaler", "layers.1.base_weight"],
    sgd: true,
  },
  {
    name: "Linear relu [5, 8, 8, 2], SGD",
    make: () => [
      new Linear(gpu, 5, 8, { activation: "relu" }),
      new Linear(gpu, 8, 8, { activation: "silu" }),
      new Linear(gpu, 8, 2),
    ],
    sgd: true,
  },
];

function data(model: Sequential, rows: number, loss: "mse" | "crossEntropy", seed: number) {
  const random = seededUniform(seed);
  const x = Tensor.from(gpu, Float32Array.from({ length: rows * model.inFeatures }, () => random() * 2 - 1), [
    rows,
    model.inFeatures,
  ]);
  const y = loss === "mse"
    ? Tensor.from(gpu, Float32Array.from({ length: rows * model.outFeatures }, random), [
      rows,
      model.outFeatures,
    ])
    : Tensor.from(gpu, Float32Array.from({ length: rows }, (_, r) => r % model.outFeatures), [rows]);
  return { x, y };
}

for (const [index, c] of cases.entries()) {
  Deno.test(`fused step equals the layer-by-layer path: ${c.name}`, async () => {
    const loss = c.loss ?? "mse";
    const fused = new Sequential(c.make());
    const layered = new Sequential(c.make());
    layered.fused = false;
    layered.loadStateDict(await fused.stateDict());
    assert(fusedModel(gpu, fused) !== null, "the model qualifies");
    const { x, y } = data(fused, c.rows ?? 100, loss, 10 + index);
    const options = { x, y, loss, steps: 10, logEvery: 1, batchSize: c.batchSize, freeze: c.freeze, seed: 3 };
    const make = () => c.sgd ? new SGD({ lr: 0.05, momentum: 0.9 }) : new Adam({ lr: 1e-2 });
    const [oa, ob] = [make(), make()];
    const a = await fused.fit({ ...options, optimizer: oa });
    const b = await layered.fit({ ...options, optimizer: ob });
    assertClose("losses", a.loss, b.loss, 1e-5);
    const [sa, sb] = [await fused.stateDict(), await layered.stateDict()];
    const scale = Math.max(...Object.values(sb).map((e) => Math.max(...e.data.map(Math.abs))));
    for (const key of Object.keys(sb)) {
      const diff = Math.max(...sa[key].data.map((v, i) => Math.abs(v - sb[key].data[i])));
      assert(diff <= 2e-5 * scale, `${key}: weights differ by ${diff} (max |w| ${scale})`);
    }
    const [ya, yb] = [fused.forward(x), layered.forward(x)];
    assertClose("forward", await ya.read(), await yb.read(), 1e-5);
    const [ea, eb] = [await fused.evaluate(x, y, loss), await layered.evaluate(x, y, loss)];
    assertClose("evaluate loss", [ea.loss], [eb.loss], 1e-5);
    assertEquals(ea.accuracy, eb.accuracy);
    for (const t of [x, y, ya, yb, oa, ob]) t.dispose();
    fused.dispose();
    layered.dispose();
  });
}

Deno.test("fused step: at most 3 dispatches per step for 1, 2 and 3 layers (2 when the loss is not read)", async () => {
  for (const widths of [[2, 1], [2, 5, 1], [4, 4, 2, 1]]) {
    const model = kan(gpu, widths, { basis: "bspline" });
    const { x, y } = data(model, 200, "mse", 1);
    const optimizer = new Adam();
    const before = gpu.stats().dispatches;
    await model.fit({ x, y, loss: "mse", optimizer, steps: 1, logEvery: 1 });
    const logged = gpu.stats().dispatches - before;
    await model.fit({ x, y, loss: "mse", optimizer, steps: 11, logEvery: 11 });
    const eleven = gpu.stats().dispatches - before - logged;
    console.log(`  [${widths}]: ${logged} dispatches for a logged step, ${eleven} for 11 steps logging 1`);
    assertEquals(logged, 3);
    assertEquals(eleven, 10 * 2 + 3);
    const off = gpu.stats().dispatches;
    await model.fit({ x, y, loss: "mse", optimizer, steps: 1, fused: false });
    assert(gpu.stats().dispatches - off > 3 + widths.length * 3, "fused: false runs the layer kernels");
    for (const t of [x, y, optimizer]) t.dispose();
    model.dispose();
  }
});

Deno.test("fused step: models that do not qualify run the layer kernels (too wide, too many functions, too much work per row)", () => {
  const wide = kan(gpu, [100, 2], { basis: "mlp" });
  const fine = kan(gpu, [2, 2], { basis: "bspline", gridSize: 40 });
  const heavy = kan(gpu, [4, 64, 64, 1], { basis: "mlp" });
  const widest = kan(gpu, [64, 16, 1], { basis: "mlp" });
  assertEquals(fusedModel(gpu, wide), null, "100 inputs");
  assertEquals(fusedModel(gpu, fine), null, "43 functions per input");
  assertEquals(fusedModel(gpu, heavy), null, "4,416 multiply-adds per row");
  assert(fusedModel(gpu, widest) !== null, "64 wide, 1,040 multiply-adds per row qualifies");
  for (const m of [wide, fine, heavy, widest]) m.dispose();
});

for (const file of parityFiles) {
  Deno.test(`fused step holds the PyTorch parity vector ${file} (y and every gradient, 1e-4 of the max)`, async () => {
    const v = await readVector(file);
    const model = buildModel(gpu, v);
    if (fusedModel(gpu, model) === null) throw new Error(`${file} does not run fused`);
    const x = Tensor.from(gpu, v.x.data, v.x.shape);
    const target = Tensor.from(gpu, v.target.data, v.target.shape);
    const y = model.forward(x);
    assertClose("y", await y.read(), v.y.data, 1e-4, "max");
    const optimizer = new SGD({ lr: 1e-30 });
    await model.fit({ x, y: target, loss: "mse", optimizer, steps: 1 });
    const grads = await model.gradDict();
    for (const [key, want] of Object.entries(v.grad)) {
      assertClose(`grad ${key}`, grads[key].data, want.data, 1e-4, "max");
    }
    for (const t of [x, target, y, optimizer]) t.dispose();
    model.dispose();
  });
}

Deno.test("fused step teardown: nothing left live", () => {
  assertEquals(gpu.stats().liveBuffers, 0);
  gpu.destroy();
});
