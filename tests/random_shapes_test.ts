/**
 * Every layer on the GPU against its float64 reference on random shapes:
 * batch 1 to 20,000, widths 1 to 70,000, grid sizes 3 to 50, spline orders 1
 * to 5, with random parameters and inputs partly outside the grids. Outputs,
 * every parameter gradient and the input gradient are compared relative to the
 * largest magnitude of each tensor; the bound is stated per case. Every case
 * runs on both kernel paths: tiled (64 x 64 tiles in workgroup memory) and
 * direct (one thread per output), whatever "auto" would pick; the cases up to
 * 1,700 wide run again with the loop-trip budget lowered to 2,500 and partial
 * sums kept 5,000 floats at a time, so that every kernel splits its reduction
 * (and in groups) even on small shapes. The wider cases are past the default
 * budget.
 */

import { BSplineKAN, FasterKAN, FastKAN, type Layer, Linear, ReLUKAN, Tensor } from "../mod.ts";
import { tripBudget } from "../src/gpu/loop_trips.ts";
import { kernelPath } from "../src/layers/basis_linear.ts";
import { partialLimit } from "../src/ops/reduce_rows.ts";
import { assertEquals } from "./assert.ts";
import { assertClose, seededUniform, testGpu } from "./helpers.ts";

const gpu = await testGpu();

interface Case {
  name: string;
  batch: number;
  layer: () => Layer;
  /** Inputs are uniform on [lo, hi). */
  range: [number, number];
  /**
   * Relative bound. float32 sums of K = in * nBasis terms drift by about
   * sqrt(K) * 6e-8 relative to the largest term; 1e-4 leaves a wide margin for
   * K up to a few thousand, and catches any indexing or basis error (which is
   * of order 1).
   */
  bound: number;
}

const cases: Case[] = [
  {
    name: "BSplineKAN B=1000 3→2 G=5 k=3",
    batch: 1000,
    layer: () => new BSplineKAN(gpu, 3, 2),
    range: [-1.3, 1.3],
    bound: 1e-4,
  },
  {
    name: "BSplineKAN B=1 300→7 G=3 k=1",
    batch: 1,
    layer: () => new BSplineKAN(gpu, 300, 7, { gridSize: 3, splineOrder: 1 }),
    range: [-1.2, 1.2],
    bound: 1e-4,
  },
  {
    name: "BSplineKAN B=17 5→300 G=50 k=5",
    batch: 17,
    layer: () => new BSplineKAN(gpu, 5, 300, { gridSize: 50, splineOrder: 5 }),
    range: [-1.5, 1.5],
    bound: 1e-4,
  },
  {
    name: "BSplineKAN B=33 40→9 G=20 k=2, bias, identity base",
    batch: 33,
    layer: () =>
      new BSplineKAN(gpu, 40, 9, { gridSize: 20, splineOrder: 2, bias: true, baseActivation: "identity" }),
    range: [-2, 0.5],
    bound: 1e-4,
  },
  {
    name: "BSplineKAN B=130 7→65 G=10 k=4 range [0, 3]",
    batch: 130,
    layer: () => new BSplineKAN(gpu, 7, 65, { gridSize: 10, splineOrder: 4, gridRange: [0, 3] }),
    range: [-0.5, 3.5],
    bound: 1e-4,
  },
  {
    name: "FastKAN B=250 300→3",
    batch: 250,
    layer: () => new FastKAN(gpu, 300, 3),
    range: [-3, 3],
    bound: 1e-4,
  },
  {
    name: "FastKAN B=77 1→5 no LayerNorm, 20 grids",
    batch: 77,
    layer: () => new FastKAN(gpu, 1, 5, { useLayerNorm: false, numGrids: 20 }),
    range: [-2.5, 2.5],
    bound: 1e-4,
  },
  {
    name: "FasterKAN B=129 6→300",
    batch: 129,
    layer: () => new FasterKAN(gpu, 6, 300),
    range: [-2, 2],
    bound: 1e-4,
  },
  {
    name: "ReLUKAN B=1000 2→5 g=10 k=3",
    batch: 1000,
    layer: () => new ReLUKAN(gpu, 2, 5, { g: 10, k: 3 }),
    range: [-0.1, 1.1],
    bound: 1e-4,
  },
  {
    name: "ReLUKAN B=3 300→4 g=5 k=3",
    batch: 3,
    layer: () => new ReLUKAN(gpu, 300, 4),
    range: [0, 1],
    bound: 1e-4,
  },
  {
    name: "Linear B=1000 300→300 relu",
    batch: 1000,
    layer: () => new Linear(gpu, 300, 300, { activation: "relu" }),
    range: [-1, 1],
    bound: 1e-4,
  },
  { name: "Linear B=1 1→1", batch: 1, layer: () => new Linear(gpu, 1, 1), range: [-1, 1], bound: 1e-5 },
  // At the lowered budget, their LayerNorms split rows into chunks of features, forward and backward.
  {
    name: "FastKAN B=5 1600→3",
    batch: 5,
    layer: () => new FastKAN(gpu, 1600, 3),
    range: [-3, 3],
    bound: 1e-4,
  },
  {
    name: "FasterKAN B=4 1700→2",
    batch: 4,
    layer: () => new FasterKAN(gpu, 1700, 2),
    range: [-2, 2],
    bound: 1e-4,
  },
];

/** Past the default loop-trip budget: each needs a split of its reduction. */
const wide: Case[] = [
  {
    name: "BSplineKAN B=8 784→10 G=5 k=3",
    batch: 8,
    layer: () => new BSplineKAN(gpu, 784, 10),
    range: [-1.2, 1.2],
    bound: 1e-4,
  },
  {
    name: "BSplineKAN B=4 3000→2 G=20 k=3",
    batch: 4,
    layer: () => new BSplineKAN(gpu, 3000, 2, { gridSize: 20 }),
    range: [-1.2, 1.2],
    bound: 1e-4,
  },
  {
    name: "BSplineKAN B=20000 2→3 G=50 k=3, bias",
    batch: 20000,
    layer: () => new BSplineKAN(gpu, 2, 3, { gridSize: 50, bias: true }),
    range: [-1.2, 1.2],
    bound: 1e-4,
  },
  {
    name: "FastKAN B=3 25000→2",
    batch: 3,
    layer: () => new FastKAN(gpu, 25000, 2),
    range: [-3, 3],
    bound: 1e-4,
  },
  {
    name: "FasterKAN B=2 22000→3",
    batch: 2,
    layer: () => new FasterKAN(gpu, 22000, 3),
    range: [-2, 2],
    bound: 1e-4,
  },
  {
    name: "ReLUKAN B=2 5000→3 g=5 k=3",
    batch: 2,
    layer: () => new ReLUKAN(gpu, 5000, 3),
    range: [0, 1],
    bound: 1e-4,
  },
  {
    name: "Linear B=2 70000→1",
    batch: 2,
    layer: () => new Linear(gpu, 70000, 1),
    range: [-1, 1],
    bound: 1e-4,
  },
];

const runs = [
  ...cases.map((c, index) => ({ c, index, budget: null })),
  ...cases.map((c, index) => ({ c, index, budget: 2500 })),
  ...wide.map((c, index) => ({ c, index: cases.length + index, budget: null })),
];

for (const { c, index, budget } of runs) {
  for (const mode of ["tiled", "direct"] as const) {
    const split = budget ? `, loop budget ${budget}` : "";
    Deno.test(`GPU vs float64 reference, ${mode}${split}: ${c.name} (bound ${c.bound})`, async () => {
      kernelPath.mode = mode;
      if (budget) {
        tripBudget.trips = budget;
        partialLimit.floats = 5000;
      }
      const random = seededUniform(100 + index);
      const layer = c.layer();
      // Random parameters: every trainable entry moves, so no gradient is trivially zero.
      const dict = await layer.stateDict();
      for (const p of layer.parameters()) {
        if (!p.trainable) continue;
        const data = dict[p.name].data;
        const spread = p.name.startsWith("phase") ? 0.02 : 1;
        data.forEach((v, i) => data[i] = v + spread * (random() - 0.5));
      }
      layer.loadStateDict(dict);
      const state = Object.fromEntries(Object.entries(dict).map(([k, v]) => [k, v.data]));
      const xs = Float32Array.from(
        { length: c.batch * layer.inFeatures },
        () => c.range[0] + (c.range[1] - c.range[0]) * random(),
      );
      const dys = Float32Array.from({ length: c.batch * layer.outFeatures }, () => random() - 0.5);

      const x = Tensor.from(gpu, xs, [c.batch, layer.inFeatures]);
      const dy = Tensor.from(gpu, dys, [c.batch, layer.outFeatures]);
      const trace = layer.trace(x);
      const dx = trace.backward(dy, true)!;
      const [y, grads, gx] = [await trace.y.read(), await layer.gradDict(), await dx.read()];

      const ref = layer.reference(state).forward(xs, c.batch);
      const want = ref.backward(dys);
      assertClose("y", y, ref.y, c.bound, "max");
      assertEquals(Object.keys(grads).sort(), Object.keys(want.grads).filter((k) => k in grads).sort());
      for (const [key, g] of Object.entries(grads)) {
        assertClose(`grad ${key}`, g.data, want.grads[key], c.bound, "max");
      }
      assertClose("grad x", gx, want.dx, c.bound, "max");

      trace.release();
      for (const t of [x, dy, dx, trace.y]) t.dispose();
      layer.dispose();
      kernelPath.mode = "auto";
      tripBudget.trips = 60000;
      partialLimit.floats = Infinity;
    });
  }
}

Deno.test("random shapes teardown: nothing left live", () => {
  assertEquals(gpu.stats().liveBuffers, 0);
  gpu.destroy();
});
