/**
 * The conveniences a PyTorch or pykan user reaches for: `predict` on plain
 * arrays, `parameterCount`, `summary`, and `using` (Symbol.dispose) on the
 * Gpu, tensors and modules.
 */

import { Gpu, kan, KanError, Linear, ReLUKAN, Sequential, Tensor } from "../mod.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "./assert.ts";
import { assertClose, testGpu } from "./helpers.ts";

const gpu = await testGpu();

Deno.test("predict: plain rows give the forward pass and the float64 reference, as plain arrays", async () => {
  const model = kan(gpu, [3, 4, 2], { basis: "bspline", seed: 3 });
  const rows = [[0.1, -0.4, 0.9], [0.5, 0.2, -0.7], [-1, 1, 0]];
  const before = gpu.stats().liveBuffers;
  const out = await model.predict(rows);
  assertEquals(gpu.stats().liveBuffers, before, "predict releases its tensors");
  assertEquals(out.length, 3);
  assert(out.every((r) => Array.isArray(r) && r.length === 2), JSON.stringify(out));
  const reference = (await model.referenceFromGpu()).forward(rows.flat(), 3).y;
  assertClose("predict vs float64", out.flat(), reference, 1e-5);
  const x = Tensor.from(gpu, rows.flat(), [3, 3]);
  const viaTensor = await model.predict(x);
  assertEquals(viaTensor, out);
  assertEquals((await x.read()).length, 9, "a tensor given to predict stays the caller's");
  x.dispose();
  model.dispose();
});

Deno.test("predict: bad rows are KanErrors naming the row or value", async () => {
  const model = kan(gpu, [2, 3, 1], { basis: "relu", seed: 0 });
  await assertRejects(() => model.predict([]), /predict: expected rows/);
  await assertRejects(
    () => model.predict([[1, 2], [3]]),
    /predict: row 1 has 1 values but the model takes 2/,
  );
  await assertRejects(
    () => model.predict([[1, 2], [3, NaN]]),
    /predict: rows\[1\]\[1\] must be a finite number/,
  );
  await assertRejects(() => model.predict([[1, "2"]] as unknown as number[][]), /rows\[0\]\[1\]/);
  await assertRejects(() => model.predict("rows" as unknown as number[][]), KanError);
  const wide = Tensor.zeros(gpu, [2, 3]);
  await assertRejects(() => model.predict(wide), /expected input of shape \[B, 2\]/);
  wide.dispose();
  model.dispose();
});

Deno.test("parameterCount: trainable floats and every state-dict value, as the shapes give them", async () => {
  const G = 5, k = 3;
  const model = kan(gpu, [2, 5, 1], { basis: "bspline", gridSize: G, splineOrder: k });
  const layer = (i: number, o: number) => ({
    trainable: o * i + o * i * (G + k) + o * i, // base_weight, spline_weight, spline_scaler
    grid: i * (G + 2 * k + 1),
  });
  const [a, b] = [layer(2, 5), layer(5, 1)];
  const count = model.parameterCount();
  assertEquals(count, {
    trainable: a.trainable + b.trainable,
    total: a.trainable + b.trainable + a.grid + b.grid,
  });
  const dict = await model.stateDict();
  assertEquals(count.total, Object.values(dict).reduce((s, e) => s + e.data.length, 0));
  const mlp = new Sequential([new Linear(gpu, 3, 4, { seed: 0 }), new Linear(gpu, 4, 2, { seed: 1 })]);
  assertEquals(mlp.parameterCount(), { trainable: 3 * 4 + 4 + 4 * 2 + 2, total: 26 });
  model.dispose();
  mlp.dispose();
});

Deno.test("summary: one row per layer with kind, widths, basis, parameters and bytes, then the totals", () => {
  const model = new Sequential([
    new ReLUKAN(gpu, 2, 3, { seed: 0 }),
    new Linear(gpu, 3, 1, { seed: 1 }),
  ]);
  const text = model.summary();
  console.log(text);
  const lines = text.split("\n");
  assertEquals(lines.length, 4, "header, two layers, total");
  const cells = lines.map((l) => l.trim().split(/\s+/));
  assertEquals(cells[0], ["#", "layer", "in", "out", "basis", "parameters", "trainable", "bytes"]);
  const relu = [...model.layers[0].namedParameters().values()].reduce((s, p) => s + p.size, 0);
  assertEquals(cells[1].slice(0, 5), ["0", "ReLUKAN", "2", "3", "relu_bump"]);
  assertEquals(Number(cells[1][5].replaceAll(",", "")), relu);
  assertEquals(cells[2], ["1", "Linear", "3", "1", "-", "4", "4", "16"]);
  const { total, trainable } = model.parameterCount();
  assertEquals(cells[3].map((c) => c.replaceAll(",", "")), [
    "total",
    "2",
    "1",
    `${total}`,
    `${trainable}`,
    `${total * 4}`,
  ]);
  const single = new Linear(gpu, 2, 2, { seed: 0 });
  assertEquals(single.summary().split("\n").length, 3, "a layer on its own is one row");
  model.dispose();
  single.dispose();
});

Deno.test("using: a Gpu, a tensor and a model are released at the end of their block", async () => {
  {
    using own = await Gpu.request();
    const live = own.stats().liveBuffers;
    {
      using _x = Tensor.from(own, [1, 2, 3, 4], [2, 2]);
      using _model = kan(own, [2, 3, 1], { basis: "fast", seed: 0 });
      assert(own.stats().liveBuffers > live, "allocated inside the block");
    }
    assertEquals(own.stats().liveBuffers, live, "tensor and model released by using");
    outside = own;
  }
  assertThrows(() => Tensor.zeros(outside!, [1]), /destroyed/);
});
let outside: Gpu | undefined;

Deno.test("module api: no buffers left", () => {
  assertEquals(gpu.stats().liveBuffers, 0);
  gpu.destroy();
});
