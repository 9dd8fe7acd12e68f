/**
 * The loop-trip budget, measured: with `Gpu.request({ countLoopTrips: true })`
 * every kernel counts the loop iterations of each invocation (every loop, as
 * if none were unrolled). A training step of every layer class on both kernel
 * paths, the losses and the optimizers must keep every kernel's largest count
 * within the budget: at the default budget on shapes past it, and at a budget
 * lowered to 3,000 on small shapes, where every split of every kernel is taken,
 * so that a plan that undercounts any kernel's loops fails here.
 */

import {
  Adam,
  BSplineKAN,
  ChebyKAN,
  FasterKAN,
  FastKAN,
  FourierKAN,
  Gpu,
  HybridKAN,
  JacobiKAN,
  type Layer,
  Linear,
  RationalKAN,
  ReLUKAN,
  Sequential,
  SGD,
  Tensor,
  WavKAN,
} from "../mod.ts";
import { tripBudget } from "../src/gpu/loop_trips.ts";
import { kernelPath, reduceRows } from "../src/layers/basis_linear.ts";
import { assert, assertEquals } from "./assert.ts";
import { seededUniform } from "./helpers.ts";

const gpu = await Gpu.request({ countLoopTrips: true });

/** Runs a training step of `layers` on random data; returns the largest trip count per kernel. */
async function step(
  layers: Layer[],
  batch: number,
  loss: "mse" | "crossEntropy",
): Promise<Record<string, number>> {
  const model = new Sequential(layers);
  const random = seededUniform(7);
  const x = Tensor.from(
    gpu,
    Float32Array.from({ length: batch * model.inFeatures }, () => random() * 2 - 1),
    [
      batch,
      model.inFeatures,
    ],
  );
  const y = loss === "mse"
    ? Tensor.from(gpu, Float32Array.from({ length: batch * model.outFeatures }, random), [
      batch,
      model.outFeatures,
    ])
    : Tensor.from(gpu, Float32Array.from({ length: batch }, (_, r) => r % model.outFeatures), [batch]);
  await gpu.loopTrips(true);
  const optimizers = [new Adam({ lr: 1e-3 }), new SGD({ lr: 1e-3, momentum: 0.9 })];
  for (const optimizer of optimizers) await model.fit({ x, y, loss, optimizer, steps: 1, progress: "none" });
  await model.evaluate(x, y, loss);
  const trips = await gpu.loopTrips(true);
  for (const optimizer of optimizers) optimizer.dispose();
  for (const t of [x, y]) t.dispose();
  model.dispose();
  return trips;
}

function assertWithin(trips: Record<string, number>, budget: number): void {
  const ran = Object.entries(trips).filter(([, n]) => n > 0).sort(([, a], [, b]) => b - a);
  console.log(`  ${ran.map(([k, n]) => `${k} ${n}`).join(", ")}`);
  assert(ran.length > 0, "no kernel counted any loop");
  for (const [kernel, n] of ran) {
    assert(n <= budget, `${kernel}: ${n} loop trips, past the budget of ${budget}`);
  }
}

Deno.test("loop budget: the instrumentation counts as llvmpipe does (reduce_rows over 10 and 5,000 rows: n + 1)", async () => {
  const a = Tensor.from(gpu, new Float32Array(5000 * 3).fill(1), [5000, 3]);
  const out = Tensor.empty(gpu, [3]);
  await gpu.loopTrips(true);
  reduceRows(gpu, a.binding, 10, 3, out.binding, false);
  assertEquals((await gpu.loopTrips(true))["reduce_rows:main"], 11);
  reduceRows(gpu, a.binding, 5000, 3, out.binding, false);
  assertEquals((await gpu.loopTrips(true))["reduce_rows:main"], 4097, "chunks of 4,096 rows, then 2");
  assertEquals(Array.from(await out.read()), [5000, 5000, 5000]);
  a.dispose();
  out.dispose();
});

const small: { name: string; batch: number; loss: "mse" | "crossEntropy"; layers: () => Layer[] }[] = [
  {
    name: "BSplineKAN [40, 5, 3] G=10 k=3, bias",
    batch: 50,
    loss: "mse",
    layers: () => [new BSplineKAN(gpu, 40, 5, { gridSize: 10, bias: true }), new BSplineKAN(gpu, 5, 3)],
  },
  {
    name: "BSplineKAN [300, 2] G=20 k=5",
    batch: 9,
    loss: "mse",
    layers: () => [new BSplineKAN(gpu, 300, 2, { gridSize: 20, splineOrder: 5 })],
  },
  {
    name: "FastKAN [1500, 20, 3] (chunked LayerNorm), cross entropy",
    batch: 6,
    loss: "crossEntropy",
    layers: () => [new FastKAN(gpu, 1500, 20), new FastKAN(gpu, 20, 3)],
  },
  {
    name: "FasterKAN [1200, 2]",
    batch: 5,
    loss: "mse",
    layers: () => [new FasterKAN(gpu, 1200, 2)],
  },
  {
    name: "ReLUKAN [300, 70, 2]",
    batch: 70,
    loss: "mse",
    layers: () => [new ReLUKAN(gpu, 300, 70), new ReLUKAN(gpu, 70, 2)],
  },
  {
    name: "Linear [2000, 300, 1500] silu, cross entropy over 1,500 classes",
    batch: 5,
    loss: "crossEntropy",
    layers: () => [new Linear(gpu, 2000, 300, { activation: "silu" }), new Linear(gpu, 300, 1500)],
  },
  {
    name: "ChebyKAN [300, 4, 2] degree 6",
    batch: 40,
    loss: "mse",
    layers: () => [new ChebyKAN(gpu, 300, 4, { degree: 6 }), new ChebyKAN(gpu, 4, 2)],
  },
  {
    name: "JacobiKAN [300, 3] degree 5, a -0.5, b 2",
    batch: 20,
    loss: "mse",
    layers: () => [new JacobiKAN(gpu, 300, 3, { degree: 5, a: -0.5, b: 2 })],
  },
  {
    name: "FourierKAN [200, 4, 2] gridsize 10",
    batch: 30,
    loss: "mse",
    layers: () => [new FourierKAN(gpu, 200, 4, { gridsize: 10 }), new FourierKAN(gpu, 4, 2)],
  },
  {
    name: "WavKAN [500, 6, 2] morlet",
    batch: 700,
    loss: "mse",
    layers: () => [new WavKAN(gpu, 500, 6, { waveletType: "morlet" }), new WavKAN(gpu, 6, 2)],
  },
  {
    name: "RationalKAN [400, 8, 2] at batch 3,500",
    batch: 3500,
    loss: "mse",
    layers: () => [new RationalKAN(gpu, 400, 8), new RationalKAN(gpu, 8, 2)],
  },
  {
    name: "Linear [3, 2] at batch 5,000",
    batch: 5000,
    loss: "mse",
    layers: () => [new Linear(gpu, 3, 2)],
  },
];

for (const c of small) {
  for (const path of ["tiled", "direct"] as const) {
    Deno.test(`loop budget 3,000, ${path}: ${c.name}: every kernel within it`, async () => {
      tripBudget.trips = 3000;
      kernelPath.mode = path;
      try {
        assertWithin(await step(c.layers(), c.batch, c.loss), 3000);
      } finally {
        tripBudget.trips = 60000;
        kernelPath.mode = "auto";
      }
    });
  }
}

Deno.test("loop budget, default: BSplineKAN [784, 10] at batch 64 and Linear [70000, 1], auto paths", async () => {
  assertWithin(await step([new BSplineKAN(gpu, 784, 10)], 64, "crossEntropy"), tripBudget.trips);
  assertWithin(await step([new Linear(gpu, 70000, 1)], 2, "mse"), tripBudget.trips);
});

Deno.test("loop budget 3,000: a regularized step (lamb) and the symbolic edges keep every kernel within it", async () => {
  tripBudget.trips = 3000;
  try {
    const random = seededUniform(3);
    const batch = 3000;
    const x = Tensor.from(gpu, Float32Array.from({ length: batch * 40 }, () => random() * 2 - 1), [
      batch,
      40,
    ]);
    const y = Tensor.from(gpu, Float32Array.from({ length: batch * 3 }, random), [batch, 3]);
    const hybrid = new HybridKAN(new BSplineKAN(gpu, 5, 3, { gridSize: 10, seed: 2 }));
    hybrid.fixSymbolic(2, 1, { name: "sin", a: 2, b: 0.1, c: 1, d: 0 });
    const model = new Sequential([new BSplineKAN(gpu, 40, 5, { gridSize: 10, seed: 1 }), hybrid]);
    await gpu.loopTrips(true);
    const optimizer = new Adam({ lr: 1e-3 });
    await model.fit({ x, y, loss: "mse", optimizer, steps: 1, progress: "none", lamb: 0.01, lambCoef: 1 });
    const trips = await gpu.loopTrips(true);
    const names = Object.keys(trips).join(" ");
    assert(/edge_moments/.test(names) && /reg_finalize/.test(names) && /symbolic/.test(names), names);
    assertWithin(trips, 3000);
    optimizer.dispose();
    for (const t of [x, y]) t.dispose();
    model.dispose();
  } finally {
    tripBudget.trips = 60000;
  }
});

Deno.test("loop budget teardown: nothing left live", () => {
  assertEquals(gpu.stats().liveBuffers, 0);
  gpu.destroy();
});
