/**
 * Grid update and grid extension of B-spline KANs (issue 11, part 1): the new
 * knots against pykan's own `update_grid_from_samples` and
 * `initialize_grid_from_parent` (float64, tests/testdata/grid/), the refitted
 * coefficients against pykan's, the function kept on the batch (a layer, a
 * two-layer model) and on a dense sample of the range after refining
 * G = 5 -> 10 -> 20, and bad input refused with the model unchanged.
 */

import {
  BSplineKAN,
  FastKAN,
  kan,
  KanError,
  ReLUKAN,
  type Sequential,
  type StateDict,
  Tensor,
} from "../mod.ts";
import { extendGrid, refineGridInner, sampleGridInner } from "../src/interpret/grid_knots.ts";
import { updateGrid, updateModelGrid } from "../src/interpret/grid_update.ts";
import { refineLayer, refineModel } from "../src/interpret/grid_refine.ts";
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { assertClose, maxAbsDiff, seededUniform, testGpu } from "./helpers.ts";

const gpu = await testGpu();

interface PykanGrid {
  in: number;
  out: number;
  gridSize: number;
  splineOrder: number;
  batch: number;
  gridEps: number;
  x: number[];
  oldGrid: number[];
  oldCoef: number[];
  newGrid: number[];
  newCoef: number[];
  refinedGrid: Record<string, number[]>;
}

const PYKAN: PykanGrid = JSON.parse(
  await Deno.readTextFile(new URL("./testdata/grid/pykan_grid.json", import.meta.url)),
);

/** `n` values uniform on [lo, hi) from `seed`. */
function uniform(seed: number, n: number, lo: number, hi: number): Float32Array {
  const random = seededUniform(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * random());
}

async function outputs(model: BSplineKAN | Sequential, xs: Float32Array): Promise<Float32Array> {
  const x = Tensor.from(gpu, xs, [xs.length / model.inFeatures, model.inFeatures]);
  const y = model.forward(x);
  const values = await y.read();
  x.dispose();
  y.dispose();
  return values;
}

function sameState(a: StateDict, b: StateDict): boolean {
  return Object.keys(a).length === Object.keys(b).length &&
    Object.entries(a).every(([k, e]) => b[k] !== undefined && maxAbsDiff(e.data, b[k].data) === 0);
}

Deno.test("updateGrid: knots and refitted coefficients equal pykan's update_grid_from_samples", async () => {
  const { in: n, out: m, gridSize: g, splineOrder: k, batch } = PYKAN;
  const nb = g + k;
  const width = g + 2 * k + 1;
  // Float64: the knots of each input from the sorted column, as pykan computes them in float64.
  const knots64: number[] = [];
  for (let i = 0; i < n; i++) {
    const column = Float64Array.from({ length: batch }, (_, r) => PYKAN.x[r * n + i]).sort();
    knots64.push(...extendGrid(sampleGridInner(column, g, PYKAN.gridEps), k));
  }
  const knotDiff = maxAbsDiff(knots64, PYKAN.newGrid);
  console.log(`  float64 knots vs pykan: max |diff| = ${knotDiff.toExponential(2)}`);
  assert(knotDiff <= 1e-12, `float64 knots differ from pykan's by ${knotDiff}`);
  // The layer, loaded with pykan's old grid and coefficients (spline branch only, scaler 1).
  const layer = new BSplineKAN(gpu, n, m, { gridSize: g, splineOrder: k, baseActivation: "zero" });
  const state = await layer.stateDict();
  state.grid.data.set(PYKAN.oldGrid);
  state.spline_scaler.data.fill(1);
  for (let i = 0; i < n; i++) {
    for (let o = 0; o < m; o++) {
      for (let j = 0; j < nb; j++) {
        state.spline_weight.data[(o * n + i) * nb + j] = PYKAN.oldCoef[(i * m + o) * nb + j];
      }
    }
  }
  layer.loadStateDict(state);
  const result = await updateGrid(layer, PYKAN.x);
  const after = await layer.stateDict();
  assertEquals(after.grid.shape, [n, width]);
  assertClose("stored knots (float32) vs pykan", after.grid.data, PYKAN.newGrid, 1e-6);
  const pykanCoef = new Float64Array(m * n * nb);
  for (let i = 0; i < n; i++) {
    for (let o = 0; o < m; o++) {
      for (let j = 0; j < nb; j++) pykanCoef[(o * n + i) * nb + j] = PYKAN.newCoef[(i * m + o) * nb + j];
    }
  }
  assertClose("refitted spline_weight vs pykan's coef", after.spline_weight.data, pykanCoef, 1e-4, "max");
  console.log(`  max deviation of the refit on the batch: ${result.maxDeviation.toExponential(2)}`);
  layer.dispose();
});

Deno.test("refine: the new knots equal pykan's initialize_grid_from_parent (10 and 7 intervals)", () => {
  const { in: n, gridSize: g, splineOrder: k } = PYKAN;
  const width = g + 2 * k + 1;
  for (const [size, expected] of Object.entries(PYKAN.refinedGrid)) {
    const knots: number[] = [];
    for (let i = 0; i < n; i++) {
      const inner = PYKAN.newGrid.slice(i * width + k, i * width + k + g + 1);
      knots.push(...extendGrid(refineGridInner(inner, Number(size)), k));
    }
    const diff = maxAbsDiff(knots, expected);
    console.log(`  G ${g} -> ${size}: max |diff| vs pykan = ${diff.toExponential(2)}`);
    assert(diff <= 1e-12, `refined knots for ${size} differ from pykan's by ${diff}`);
  }
});

Deno.test("updateGrid keeps the function on the batch: knots unmoved exactly, moved within 1e-3", async () => {
  const layer = new BSplineKAN(gpu, 3, 4, { gridSize: 5, seed: 3, bias: true });
  // gridEps 1 with the batch spanning exactly [-1, 1]: the new knots are the old ones, the refit is exact.
  const span = uniform(5, 300 * 3, -1, 1);
  span.set([-1, -1, -1, 1, 1, 1]);
  const before = await layer.stateDict();
  const y0 = await outputs(layer, span);
  await updateGrid(layer, span, { gridEps: 1 });
  assertClose("same knots: knots", (await layer.stateDict()).grid.data, before.grid.data, 1e-7);
  assertClose("same knots: output", await outputs(layer, span), y0, 1e-5, "max");
  // A batch on [-0.6, 0.8]: the knots move to it; the spline on them is the closest one to the old.
  const xs = uniform(6, 300 * 3, -0.6, 0.8);
  const y1 = await outputs(layer, xs);
  const { maxDeviation } = await updateGrid(layer, xs);
  const grid = (await layer.stateDict()).grid.data;
  assert(
    Math.abs(grid[3] - Math.min(...xs.filter((_, r) => r % 3 === 0))) < 1e-6,
    "knot 3 is the batch's min",
  );
  assertClose("moved knots: output", await outputs(layer, xs), y1, 1e-3, "max");
  console.log(`  moved knots: float64 max deviation of the spline branch ${maxDeviation.toExponential(2)}`);
  layer.dispose();
});

Deno.test("updateModelGrid keeps a [2, 5, 1] model's function on the batch within 1e-3", async () => {
  const model = kan(gpu, [2, 5, 1], { basis: "bspline", gridSize: 5, seed: 1 });
  const xs = uniform(7, 400 * 2, -0.6, 0.8);
  const before = await model.stateDict();
  const y0 = await outputs(model, xs);
  const updates = await updateModelGrid(model, xs);
  assertEquals(updates.length, 2);
  const after = await model.stateDict();
  assert(maxAbsDiff(after["layers.1.grid"].data, before["layers.1.grid"].data) > 0.1, "layer 1's grid moved");
  assertClose("model output", await outputs(model, xs), y0, 1e-3, "max");
  model.dispose();
});

/** `points` rows spanning each input's inner grid range of `layer` (input i runs from its lowest to highest inner knot). */
async function denseRows(layer: BSplineKAN, points: number): Promise<Float32Array> {
  const { gridSize: g, splineOrder: k } = layer.options;
  const grid = (await layer.stateDict()).grid.data;
  const n = layer.inFeatures;
  const width = g + 2 * k + 1;
  return Float32Array.from({ length: points * n }, (_, e) => {
    const [r, i] = [Math.floor(e / n), e % n];
    const [lo, hi] = [grid[i * width + k], grid[i * width + k + g]];
    // Input i visits the range in a different order than input 0, so that the rows are not on a diagonal.
    const t = ((r * (2 * i + 1)) % points) / (points - 1);
    return lo + (hi - lo) * t;
  });
}

Deno.test("refine G 5 -> 10 -> 20 computes the same function on a dense sample of each layer's range", async () => {
  const coarse = kan(gpu, [2, 3, 1], { basis: "bspline", gridSize: 5, seed: 2, scaleNoise: 3 });
  // A non-uniform grid first, so that refining has to keep its structure.
  await updateModelGrid(coarse, uniform(8, 200 * 2, -0.9, 0.7).map((v) => v * Math.abs(v)));
  const fine10 = await refineModel(coarse, 10);
  const fine20 = await refineModel(fine10, 20);
  for (let l = 0; l < 2; l++) {
    const layer = coarse.layers[l] as BSplineKAN;
    const dense = await denseRows(layer, 1001);
    const y0 = await outputs(layer, dense);
    assertClose(
      `layer ${l}, G 5 -> 10`,
      await outputs(fine10.layers[l] as BSplineKAN, dense),
      y0,
      1e-5,
      "max",
    );
    assertClose(
      `layer ${l}, G 5 -> 10 -> 20`,
      await outputs(fine20.layers[l] as BSplineKAN, dense),
      y0,
      1e-5,
      "max",
    );
  }
  const [grid5, grid20] = [
    (await coarse.stateDict())["layers.0.grid"].data,
    (await fine20.stateDict())["layers.0.grid"].data,
  ];
  assertEquals(grid20.length, 2 * (20 + 2 * 3 + 1));
  assertClose(
    "old inner knots kept",
    [grid20[3], grid20[7], grid20[23]],
    [grid5[3], grid5[4], grid5[8]],
    1e-7,
  );
  assert(Math.abs((grid5[5] - grid5[4]) - (grid5[4] - grid5[3])) > 0.01, "the grid is not uniform");
  // A layer on its own, to a size that is not a multiple: the closest spline.
  const layer = coarse.layers[0] as BSplineKAN;
  const fine7 = await refineLayer(layer, 7);
  const dense = await denseRows(layer, 1001);
  const z0 = await outputs(layer, dense);
  const diff7 = maxAbsDiff(await outputs(fine7, dense), z0);
  console.log(`  G 5 -> 7 (not nested): max |diff| ${diff7.toExponential(2)}`);
  assert(diff7 > 1e-5 && diff7 < 0.05 * Math.max(...z0.map(Math.abs)), `G 5 -> 7 differs by ${diff7}`);
  for (const m of [coarse, fine10, fine20, fine7]) m.dispose();
});

Deno.test("bad input: NaN, too few rows, other layers and a failing later layer leave the model as it was", async () => {
  const layer = new BSplineKAN(gpu, 2, 2, { gridSize: 5, seed: 4 });
  const before = await layer.stateDict();
  const xs = uniform(9, 40 * 2, -1, 1);
  xs[2 * 7 + 1] = Number.NaN;
  await assertRejects(() => updateGrid(layer, xs), /updateGrid: x must be finite, but x\[7\]\[1\] is NaN/);
  const bad = Tensor.from(gpu, xs, [40, 2]);
  await assertRejects(() => updateGrid(layer, bad), /x\[7\]\[1\] is NaN/);
  bad.dispose();
  await assertRejects(() => updateGrid(layer, uniform(9, 8 * 2, -1, 1)), /8 rows.*at least .* = 9/);
  await assertRejects(() => updateGrid(layer, new Float32Array(40 * 2).fill(0.5)), /input 0's batch values/);
  await assertRejects(() => updateGrid(layer, uniform(9, 40 * 2, -1, 1), { gridEps: 2 }), /gridEps/);
  assert(sameState(await layer.stateDict(), before), "the layer is unchanged");
  const fast = new FastKAN(gpu, 2, 2);
  const relu = new ReLUKAN(gpu, 2, 2);
  await assertRejects(
    () => updateGrid(fast as unknown as BSplineKAN, uniform(9, 80, -1, 1)),
    /got a FastKAN.*shared by every input/,
  );
  await assertRejects(() => refineLayer(relu as unknown as BSplineKAN, 10), /ReLUKAN.*phases/);
  fast.dispose();
  relu.dispose();
  await assertRejects(() => refineLayer(layer, 0), KanError);
  // Layer 0 gives a constant output: layer 0 updates, then layer 1 cannot, and layer 0 is restored.
  const model = kan(gpu, [2, 2, 1], { basis: "bspline", seed: 5 });
  const state = await model.stateDict();
  state["layers.0.base_weight"].data.fill(0);
  state["layers.0.spline_scaler"].data.fill(0);
  model.loadStateDict(state);
  const saved = await model.stateDict();
  await assertRejects(
    () => updateModelGrid(model, uniform(10, 50 * 2, -0.5, 0.5)),
    /layer 1: input 0's batch/,
  );
  assert(sameState(await model.stateDict(), saved), "the model is unchanged");
  layer.dispose();
  model.dispose();
});

Deno.test("keepDegenerate: a constant input keeps its grid and weights, the others move (refused without it)", async () => {
  const layer = new BSplineKAN(gpu, 2, 3, { seed: 5 });
  const random = seededUniform(11);
  const rows = Array.from({ length: 40 }, () => [-0.3, 1.2 * random() - 0.6]); // input 0 constant
  await assertRejects(() => updateGrid(layer, rows), /input 0's batch values .* too few distinct values/);
  const before = await layer.stateDict();
  await updateGrid(layer, rows, { keepDegenerate: true });
  const after = await layer.stateDict();
  const width = before.grid.shape[1];
  assertEquals([...after.grid.data.subarray(0, width)], [...before.grid.data.subarray(0, width)]);
  assert(
    maxAbsDiff(after.grid.data.subarray(width), before.grid.data.subarray(width)) > 0.1,
    "input 1 moved",
  );
  const nb = before.spline_weight.shape[2];
  for (let o = 0; o < 3; o++) {
    const row = (i: number) => (o * 2 + i) * nb;
    assertEquals([...after.spline_weight.data.subarray(row(0), row(0) + nb)], [
      ...before.spline_weight.data.subarray(row(0), row(0) + nb),
    ]);
  }
  layer.dispose();
});

Deno.test("grid update tests leave no live buffers", () => {
  const live = gpu.stats().liveBuffers;
  gpu.destroy();
  assertEquals(live, 0);
});
