/**
 * pykan's attribution scores (src/interpret/attribution.ts) against pykan's own `attribute()` on a
 * [3, 4, 2] model with the same weights (tests/testdata/regularization/pykan_reference.py, pykan
 * ecde4ec, float64), the edge statistics against pykan's `edge_actscale` and `subnode_actscale`,
 * and the refusal of layers that are not B-spline KANs.
 */

import { BSplineKAN, type Gpu, Linear, Sequential, Tensor } from "../mod.ts";
import { attribute } from "../src/interpret/attribution.ts";
import { edgeStatistics } from "../src/interpret/edge_statistics.ts";
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { pykan, pykanModel } from "./pykan_fixture.ts";
import { assertClose, testGpu } from "./helpers.ts";

const gpu: Gpu = await testGpu();

Deno.test("attribution: edge and node scores match pykan's attribute() on the same weights", async () => {
  const model = pykanModel(gpu);
  const x = Tensor.from(gpu, pykan.x, [pykan.batch, pykan.widths[0]]);
  const got = await attribute(model, x);
  assertEquals(got.nodeScores.map((s) => s.length), pykan.widths);
  for (let l = 0; l < got.edgeScores.length; l++) {
    assertClose(`layer ${l} edge_actscale`, got.statistics[l].edgeStd, pykan.edgeActscale[l], 1e-5, "max");
    assertClose(
      `layer ${l} subnode_actscale`,
      got.statistics[l].outputStd,
      pykan.subnodeActscale[l],
      1e-5,
      "max",
    );
    assertClose(`layer ${l} edge scores`, got.edgeScores[l], pykan.edgeScores[l], 1e-5, "max");
  }
  for (let l = 0; l < got.nodeScores.length; l++) {
    assertClose(`level ${l} node scores`, got.nodeScores[l], pykan.nodeScores[l], 1e-5, "max");
  }
  // The scores tell the inputs apart: pykan's ranking of them is kept.
  const rank = (s: ArrayLike<number>) =>
    Array.from(s).map((v, i) => [v, i]).sort((a, b) => b[0] - a[0]).map((p) => p[1]);
  assertEquals(rank(got.nodeScores[0]), rank(pykan.nodeScores[0]));
  x.dispose();
  model.dispose();
});

Deno.test("attribution: edgeStatistics of the second layer on its pykan input", async () => {
  const model = pykanModel(gpu);
  const layer = model.layers[1] as BSplineKAN;
  const h = Tensor.from(gpu, pykan.layerInputs[1], [pykan.batch, pykan.widths[1]]);
  const stats = await edgeStatistics(layer, h);
  assertClose("edge std", stats.edgeStd, pykan.edgeActscale[1], 1e-5, "max");
  assertClose("output std", stats.outputStd, pykan.subnodeActscale[1], 1e-5, "max");
  const inputs = pykan.layerInputs[1];
  const n = pykan.widths[1];
  const mean = Array.from(
    { length: n },
    (_, i) => inputs.filter((_, k) => k % n === i).reduce((a, b) => a + b, 0) / pykan.batch,
  );
  assertClose("input mean", stats.inputMean, mean, 1e-5, "max");
  assert(stats.edgeMean.every(Number.isFinite));
  h.dispose();
  model.dispose();
});

Deno.test("attribution: a layer that is not a BSplineKAN is refused, naming its class", async () => {
  const model = new Sequential([new BSplineKAN(gpu, 2, 3, { seed: 1 }), new Linear(gpu, 3, 1, { seed: 2 })]);
  const x = Tensor.from(gpu, [0.1, 0.2, 0.3, 0.4], [2, 2]);
  await assertRejects(
    () => attribute(model, x),
    /layer 1 is a Linear; attribution is implemented for BSplineKAN/,
  );
  const one = Tensor.from(gpu, [0.1, 0.2], [1, 2]);
  await assertRejects(() => attribute(new Sequential([model.layers[0]]), one), /B >= 2/);
  for (const t of [x, one]) t.dispose();
  model.dispose();
  await gpu.sync();
});

Deno.test("attribution: no buffer left behind", () => {
  assertEquals(gpu.stats().liveBuffers, 0);
  gpu.destroy();
});
