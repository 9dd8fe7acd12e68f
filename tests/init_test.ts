/**
 * Initialization follows each original, from a seeded generator: the bounds
 * and spreads of kaiming-uniform, xavier-uniform, truncated normal and torch's
 * Linear/Conv2d defaults; efficient-kan's spline weights fitted to noise of
 * scale scaleNoise / G; the grids and phases of each reference; and the same
 * seed giving the same state.
 */

import { BSplineKAN, FasterKAN, FastKAN, kan, Linear, ReLUKAN } from "../mod.ts";
import { bsplineReference } from "../src/basis/bspline.ts";
import { assert, assertEquals } from "./assert.ts";
import { testGpu } from "./helpers.ts";

const gpu = await testGpu();

function spread(data: Float32Array): { max: number; std: number; mean: number } {
  const mean = data.reduce((s, v) => s + v, 0) / data.length;
  const std = Math.sqrt(data.reduce((s, v) => s + (v - mean) ** 2, 0) / data.length);
  return { max: data.reduce((m, v) => Math.max(m, Math.abs(v)), 0), std, mean };
}

/** A uniform on [-b, b] has max near b and std b / sqrt 3. */
function assertUniform(label: string, data: Float32Array, bound: number): void {
  const s = spread(data);
  assert(s.max <= bound && s.max > 0.95 * bound, `${label}: max ${s.max} vs bound ${bound}`);
  assert(
    Math.abs(s.std - bound / Math.sqrt(3)) < 0.08 * bound,
    `${label}: std ${s.std} vs ${bound / Math.sqrt(3)}`,
  );
}

Deno.test("init: BSplineKAN follows efficient-kan", async () => {
  const layer = new BSplineKAN(gpu, 64, 32);
  const s = await layer.stateDict();
  assertUniform("base_weight (kaiming a=sqrt 5)", s.base_weight.data, 1 / Math.sqrt(64));
  assertUniform("spline_scaler (kaiming a=sqrt 5)", s.spline_scaler.data, 1 / Math.sqrt(64));
  assertEquals([...s.grid.data.slice(0, 12)].map((v) => Math.round(v * 1e6) / 1e6), [
    -2.2,
    -1.8,
    -1.4,
    -1,
    -0.6,
    -0.2,
    0.2,
    0.6,
    1,
    1.4,
    1.8,
    2.2,
  ]);
  // The spline of every (o, i) interpolates noise bounded by scaleNoise / (2 G) at the grid points.
  const w = s.spline_weight.data;
  let worst = 0;
  for (let r = 0; r < 64 * 32; r++) {
    for (let p = 0; p <= 5; p++) {
      const x = s.grid.data[3 + p];
      let v = 0;
      for (let j = 0; j < 8; j++) v += w[r * 8 + j] * bsplineReference(s.grid.data, 0, 3, j, x)[0];
      worst = Math.max(worst, Math.abs(v));
    }
  }
  assert(worst <= 0.1 / 5 / 2 + 1e-6 && worst > 0.009, `spline values at grid points reach ${worst}`);
  layer.dispose();
});

Deno.test("init: FastKAN, FasterKAN, ReLUKAN and Linear follow their references", async () => {
  const fast = await new FastKAN(gpu, 40, 50).stateDict();
  const t = spread(fast["spline_linear.weight"].data);
  assert(
    Math.abs(t.std - 0.1) < 0.005 && Math.abs(t.mean) < 0.005,
    `trunc-normal std ${t.std}, mean ${t.mean}`,
  );
  assertUniform("base_linear.weight", fast["base_linear.weight"].data, 1 / Math.sqrt(40));
  assertEquals([...fast["layernorm.weight"].data].every((v) => v === 1), true);
  assertEquals([...fast["rbf.grid"].data].map((v) => Math.round(v * 1e5) / 1e5), [
    -2,
    -1.42857,
    -0.85714,
    -0.28571,
    0.28571,
    0.85714,
    1.42857,
    2,
  ]);

  const faster = await new FasterKAN(gpu, 40, 50).stateDict();
  assertUniform("xavier", faster["spline_linear.weight"].data, Math.sqrt(6 / (40 * 8 + 50)));
  assertEquals([...faster["rbf.inv_denominator"].data], [0.5]);

  const relu = await new ReLUKAN(gpu, 30, 40).stateDict();
  assertUniform("conv weight", relu["equal_size_conv.weight"].data, 1 / Math.sqrt(8 * 30));
  assertEquals(
    [...relu.phase_low.data.slice(0, 8)],
    [-0.6, -0.4, -0.2, 0, 0.2, 0.4, 0.6, 0.8].map(Math.fround),
  );
  assertEquals(
    [...relu.phase_height.data.slice(0, 8)],
    [0.2, 0.4, 0.6, 0.8, 1, 1.2, 1.4, 1.6].map(Math.fround),
  );

  const linear = await new Linear(gpu, 100, 100).stateDict();
  assertUniform("Linear weight", linear.weight.data, 0.1);
});

Deno.test("init: the same seed gives the same state, another seed another", async () => {
  const a = await kan(gpu, [3, 4, 2], { basis: "bspline", seed: 7 }).stateDict();
  const b = await kan(gpu, [3, 4, 2], { basis: "bspline", seed: 7 }).stateDict();
  const c = await kan(gpu, [3, 4, 2], { basis: "bspline", seed: 8 }).stateDict();
  assertEquals(a, b);
  assert(a["layers.0.base_weight"].data.some((v, i) => v !== c["layers.0.base_weight"].data[i]));
  // Layers of one model get different seeds.
  assert(a["layers.0.spline_scaler"].data[0] !== a["layers.1.spline_scaler"].data[0]);
});

Deno.test("init teardown", () => {
  gpu.destroy();
});
