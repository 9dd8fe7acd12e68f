/**
 * Pruning a B-spline KAN and its per-edge curves: the curves are each edge's
 * function (checked against a 1-input, 1-output GPU layer holding that
 * edge's weights), and a pruned model computes what the original computed
 * where the dropped nodes carried nothing.
 */
import { BSplineKAN, type Gpu, kan, type Sequential, Tensor } from "../mod.ts";
import type { StateDict } from "../src/layers/parameter.ts";
import { edgeCurves, edgeFunction } from "../src/interpret/edge_curves.ts";
import { prune } from "../src/interpret/prune.ts";
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { assertClose, maxAbsDiff, seededUniform, testGpu } from "./helpers.ts";

const gpu: Gpu = await testGpu();

/** Weights of order 1 everywhere, so that every spline and base branch matters. */
async function randomize(model: Sequential, seed: number): Promise<StateDict> {
  const rand = seededUniform(seed);
  const dict = await model.stateDict();
  for (const [key, entry] of Object.entries(dict)) {
    if (key.endsWith(".grid")) continue;
    entry.data = entry.data.map(() => 2 * rand() - 1);
  }
  model.loadStateDict(dict);
  return dict;
}

function uniformRows(rows: number, cols: number, seed: number): Tensor {
  const rand = seededUniform(seed);
  return Tensor.from(gpu, Array.from({ length: rows * cols }, () => 2 * rand() - 1), [rows, cols]);
}

Deno.test("edgeCurves: each edge's curve is the GPU layer of that edge alone, over the range its input took", async () => {
  const model = kan(gpu, [3, 4, 2], { basis: "bspline", gridSize: 6, bias: true, seed: 3 });
  await randomize(model, 11);
  const x = uniformRows(50, 3, 12);
  const curves = await edgeCurves(model, x, { samples: 33 });
  // Layer 0's ranges are the columns of x; layer 1's, those of layer 0's output.
  const hidden = model.layers[0].forward(x);
  for (const [l, values, cols] of [[0, await x.read(), 3], [1, await hidden.read(), 4]] as const) {
    for (let c = 0; c < cols; c++) {
      const col = values.filter((_, k) => k % cols === c);
      assertEquals([curves[l].inMin[c], curves[l].inMax[c]], [Math.min(...col), Math.max(...col)]);
    }
  }
  hidden.dispose();
  let worst = 0;
  const [fromGpu, fromCurves]: number[][] = [[], []];
  for (const [l, layer] of model.layers.entries()) {
    const dict = await layer.stateDict();
    const kanLayer = layer as BSplineKAN;
    const { inFeatures: n, outFeatures: m } = kanLayer;
    const nb = kanLayer.basis.count;
    const knots = dict.grid.shape[1];
    assertEquals(curves[l].edges.length, n * m);
    for (const curve of curves[l].edges) {
      const { out: o, in: i } = curve;
      assertEquals(curve.xs[0], curves[l].inMin[i]);
      assertEquals(curve.xs[32], curves[l].inMax[i]);
      const e = o * n + i;
      // The edge alone: grid row i, its base weight, spline weights and scaler, no bias.
      const single = new BSplineKAN(gpu, 1, 1, { ...kanLayer.options, bias: false });
      single.loadStateDict({
        grid: { shape: [1, knots], data: dict.grid.data.slice(i * knots, (i + 1) * knots) },
        base_weight: { shape: [1, 1], data: dict.base_weight.data.slice(e, e + 1) },
        spline_weight: { shape: [1, 1, nb], data: dict.spline_weight.data.slice(e * nb, (e + 1) * nb) },
        spline_scaler: { shape: [1, 1], data: dict.spline_scaler.data.slice(e, e + 1) },
      });
      const xs = Tensor.from(gpu, curve.xs, [curve.xs.length, 1]);
      const ys = single.forward(xs);
      const gpuYs = await ys.read();
      // xs as the GPU saw them (float32): the float64 curve at those points.
      const phi = edgeFunction(kanLayer, dict, o, i);
      const at32 = Array.from(curve.xs, (v) => phi(Math.fround(v)));
      worst = Math.max(worst, maxAbsDiff(curve.ys, at32));
      fromGpu.push(...gpuYs);
      fromCurves.push(...curve.ys);
      // The edge carries something: a wrong branch or weight would show.
      assert(Math.max(...curve.ys) - Math.min(...curve.ys) > 0.05, `edge (${o}, ${i}) is flat`);
      xs.dispose();
      ys.dispose();
      single.dispose();
    }
  }
  assertClose("20 edges' curves vs their one-edge GPU layers", fromGpu, fromCurves, 1e-5);
  assert(worst < 1e-5, `float32 rounding of xs moved a curve by ${worst}`);
  // A masked edge's curve is 0 and flagged.
  (model.layers[1] as BSplineKAN).setEdgeMask([1, 1, 0, 1, 1, 1, 1, 1]);
  const masked = await edgeCurves(model, x, { samples: 5 });
  assert(masked[1].edges[2].masked && masked[1].edges[2].ys.every((v) => v === 0), "masked edge not 0");
  assert(!masked[1].edges[3].masked && masked[1].edges[3].ys.some((v) => v !== 0), "unmasked edge lost");
  await assertRejects(() => edgeCurves(model, x, { samples: 1 }), /edgeCurves: option "samples"/);
  const narrow = uniformRows(4, 2, 1);
  await assertRejects(
    () => edgeCurves(model, narrow),
    /edgeCurves: expected x of shape \[B, 3\]/,
  );
  const fast = kan(gpu, [2, 2], { basis: "fast" });
  await assertRejects(() => edgeCurves(fast, narrow), /edgeCurves: layer 0 is a FastKAN/);
  fast.dispose();
  narrow.dispose();
  x.dispose();
  model.dispose();
});

/** A [3, 5, 2] model whose hidden nodes 1 and 3 carry nothing out, and scores that drop them. */
async function prunable(): Promise<{ model: Sequential; dict: StateDict }> {
  const model = kan(gpu, [3, 5, 2], { basis: "bspline", gridSize: 4, bias: true, seed: 5 });
  const dict = await randomize(model, 21);
  for (const name of ["base_weight", "spline_scaler"]) {
    const d = dict[`layers.1.${name}`].data;
    for (let o = 0; o < 2; o++) for (const n of [1, 3]) d[o * 5 + n] = 0;
  }
  model.loadStateDict(dict);
  return { model, dict };
}

function scoresFor(lowEdge: number | null) {
  const edgeScores = [new Float64Array(15).fill(0.5), new Float64Array(10).fill(0.5)];
  if (lowEdge !== null) edgeScores[0][lowEdge] = 0.02;
  return { edgeScores, nodeScores: [[1, 1, 1], [0.5, 0.005, 0.4, 0, 0.3], [1, 1]] };
}

Deno.test("prune: drops the hidden nodes that carried nothing; the smaller model computes the same", async () => {
  const { model, dict } = await prunable();
  const x = uniformRows(64, 3, 31);
  const y0 = model.forward(x);
  const before = await y0.read();
  y0.dispose();
  const live = gpu.stats().liveBuffers;
  const result = await prune(model, scoresFor(null));
  assertEquals(result.widths, [3, 3, 2]);
  assertEquals(result.kept, [[0, 1, 2], [0, 2, 4], [0, 1]]);
  assert(result.edgeMasks.every((m) => m.every((v) => v === 1)), "an edge masked");
  assertEquals(result.model.layers.map((l) => [l.inFeatures, l.outFeatures]), [[3, 3], [3, 2]]);
  const y = result.model.forward(x);
  const after = await y.read();
  y.dispose();
  // Same weights, fewer (zero) terms in each sum: float32 rounding.
  assertClose("pruned vs original output", after, before, 1e-6, "max");
  // Every kept edge's curve is the original's.
  const [old, now] = [await edgeCurves(model, x), await edgeCurves(result.model, x)];
  for (let l = 0; l < 2; l++) {
    for (const c of now[l].edges) {
      const o = result.kept[l + 1][c.out], i = result.kept[l][c.in];
      const original = old[l].edges[o * model.layers[l].inFeatures + i];
      assert(maxAbsDiff(c.xs, original.xs) <= 1e-6 && maxAbsDiff(c.ys, original.ys) <= 1e-6, `edge ${l}`);
    }
  }
  // The old model is untouched.
  const after0 = await model.stateDict();
  for (const [k, v] of Object.entries(dict)) assertEquals(after0[k].data, v.data, k);
  assert(model.layers.every((l) => (l as BSplineKAN).edgeMask === null), "old model masked");
  result.model.dispose();
  assertEquals(gpu.stats().liveBuffers, live);
  x.dispose();
  model.dispose();
});

Deno.test("prune: a kept edge scoring below edgeThreshold, or masked before, is masked in the new model", async () => {
  const { model, dict } = await prunable();
  // Edge (o 4, i 2) of layer 0 scores low; edge (o 0, i 1) was masked before the prune.
  (model.layers[0] as BSplineKAN).setEdgeMask(Array.from({ length: 15 }, (_, e) => e === 1 ? 0 : 1));
  const result = await prune(model, scoresFor(4 * 3 + 2), { edgeThreshold: 0.03 });
  // New layer 0: outputs [0, 2, 4] -> rows 0..2; edge (2, 2) low, edge (0, 1) masked before.
  const expectedMask = Float32Array.from({ length: 9 }, (_, e) => e === 2 * 3 + 2 || e === 1 ? 0 : 1);
  assertEquals(result.edgeMasks[0], expectedMask);
  assertEquals((result.model.layers[0] as BSplineKAN).edgeMask, expectedMask);
  assertEquals((result.model.layers[1] as BSplineKAN).edgeMask, null);
  // The output is the original's with those two edges switched off (float64 reference).
  const state: Record<string, Float64Array> = {};
  for (const [k, v] of Object.entries(dict)) state[k] = Float64Array.from(v.data);
  for (const e of [1, 4 * 3 + 2]) state["layers.0.base_weight"][e] = state["layers.0.spline_scaler"][e] = 0;
  const x = uniformRows(32, 3, 41);
  const expected = model.reference(state).forward(await x.read(), 32).y;
  const y = result.model.forward(x);
  assertClose("masked prune vs reference", await y.read(), expected, 1e-5, "max");
  y.dispose();
  x.dispose();
  result.model.dispose();
  model.dispose();
});

Deno.test("prune: refuses a prune that cuts every path to an output, and bad scores; the model is unchanged", async () => {
  const { model, dict } = await prunable();
  const live = gpu.stats().liveBuffers;
  const allLow = scoresFor(null);
  allLow.nodeScores[1] = [0, 0, 0.001, 0, 0];
  await assertRejects(
    () => prune(model, allLow),
    /every path from the inputs to output 0: layer 0 keeps no edge from the nodes the inputs reach/,
  );
  // Both edges into output 1 from the kept hidden nodes score low: layer 1 cuts it.
  const cut = scoresFor(null);
  for (const n of [0, 2, 4]) cut.edgeScores[1][5 + n] = 0.001;
  await assertRejects(
    () => prune(model, cut),
    /every path from the inputs to output 1: layer 1 keeps no edge into the nodes that reach output 1/,
  );
  await assertRejects(
    () => prune(model, { edgeScores: scoresFor(null).edgeScores, nodeScores: [[1, 1, 1], [1, 1], [1, 1]] }),
    /prune: scores.nodeScores\[1\] must be an array of 5 numbers/,
  );
  const nan = scoresFor(null);
  nan.edgeScores[1][3] = NaN;
  await assertRejects(
    () => prune(model, nan),
    /prune: scores.edgeScores\[1\]\[3\] must be a finite number >= 0/,
  );
  await assertRejects(
    () => prune(model, scoresFor(null), { nodeTh: 1 } as never),
    /prune: unknown option "nodeTh"/,
  );
  const relu = kan(gpu, [3, 5, 2], { basis: "relu" });
  await assertRejects(() => prune(relu, scoresFor(null)), /prune: layer 0 is a ReLUKAN/);
  relu.dispose();
  assertEquals(gpu.stats().liveBuffers, live);
  const after = await model.stateDict();
  for (const [k, v] of Object.entries(dict)) assertEquals(after[k].data, v.data, k);
  model.dispose();
});

Deno.test("prune: with a batch x, what the removed edges gave on average goes into the next bias", async () => {
  // No bias anywhere; hidden nodes 1 and 3 get nothing in (so they are 0) but their outgoing edges give phi(0).
  const model = kan(gpu, [3, 5, 2], { basis: "bspline", gridSize: 4, seed: 5 });
  const dict = await randomize(model, 23);
  for (const name of ["base_weight", "spline_scaler"]) {
    for (const n of [1, 3]) for (let i = 0; i < 3; i++) dict[`layers.0.${name}`].data[n * 3 + i] = 0;
  }
  model.loadStateDict(dict);
  const x = uniformRows(40, 3, 51);
  const y0 = model.forward(x);
  const before = await y0.read();
  y0.dispose();
  const plain = await prune(model, scoresFor(null));
  const folded = await prune(model, scoresFor(null), { x });
  assertEquals(
    [plain.model.layers[1] as BSplineKAN, folded.model.layers[1] as BSplineKAN].map((l) => l.options.bias),
    [
      false,
      true,
    ],
  );
  const [yPlain, yFolded] = [plain.model.forward(x), folded.model.forward(x)];
  // pykan's prune loses the constants phi(0) of the dropped nodes; the folded one keeps them.
  assert(maxAbsDiff(await yPlain.read(), before) > 1e-2, "the dropped nodes gave nothing: test is void");
  assertClose("pruned with x vs original", await yFolded.read(), before, 1e-5, "max");
  for (const t of [yPlain, yFolded, x]) t.dispose();
  plain.model.dispose();
  folded.model.dispose();
  model.dispose();
});

Deno.test("prune_test teardown: nothing left live", () => {
  assertEquals(gpu.stats().liveBuffers, 0);
  gpu.destroy();
});
