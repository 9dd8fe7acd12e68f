/**
 * Bad input is a KanError that names it: wrong input width, NaN or infinite
 * inputs, unknown options, a LayerNorm over one feature, and state dicts with
 * a missing, extra, misshaped or non-finite entry (nothing is written then).
 */

import {
  BSplineKAN,
  FasterKAN,
  FastKAN,
  kan,
  KanError,
  Linear,
  ReLUKAN,
  Sequential,
  Tensor,
} from "../mod.ts";
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { testGpu } from "./helpers.ts";

const gpu = await testGpu();

Deno.test("bad input: a wrong input width names both widths", () => {
  const layer = new BSplineKAN(gpu, 3, 2);
  const x = Tensor.from(gpu, [1, 2, 3, 4], [2, 2]);
  const e = assertThrows(() => layer.forward(x), KanError);
  assert(e.message.includes("[B, 3]") && e.message.includes("[2, 2]"), e.message);
  assertThrows(() => layer.forward(Tensor.from(gpu, [1, 2, 3], [3])), /expected input of shape \[B, 3\]/);
  const model = kan(gpu, [2, 4, 1], { basis: "relu" });
  assertThrows(
    () => model.forward(Tensor.from(gpu, [1, 2, 3], [1, 3])),
    /ReLUKAN\.forward: expected input of shape \[B, 2\]/,
  );
  x.dispose();
  layer.dispose();
  model.dispose();
});

Deno.test("bad input: NaN or infinite inputs are named with their position", () => {
  const layer = new FastKAN(gpu, 3, 2);
  const nan = Tensor.from(gpu, [0, 1, 2, 3, Number.NaN, 5], [2, 3]);
  assertThrows(() => layer.forward(nan), /non-finite value at \[1, 1\]/);
  const inf = Tensor.from(gpu, [Infinity, 1, 2], [1, 3]);
  assertThrows(() => new Linear(gpu, 3, 1).forward(inf), /non-finite value at \[0, 0\]/);
  const disposed = Tensor.from(gpu, [1, 2, 3], [1, 3]);
  disposed.dispose();
  assertThrows(() => layer.forward(disposed), /disposed/);
  nan.dispose();
  inf.dispose();
  layer.dispose();
});

Deno.test("bad input: unknown options and invalid option values name the option", () => {
  assertThrows(() => new BSplineKAN(gpu, 2, 2, { gridsize: 5 } as never), /unknown option "gridsize"/);
  assertThrows(() => new FastKAN(gpu, 2, 2, { num_grids: 8 } as never), /unknown option "num_grids"/);
  assertThrows(
    () => new FasterKAN(gpu, 2, 2, { inv_denominator: 1 } as never),
    /unknown option "inv_denominator"/,
  );
  assertThrows(() => new ReLUKAN(gpu, 2, 2, { G: 5 } as never), /unknown option "G"/);
  assertThrows(() => new Linear(gpu, 2, 2, { activation: "gelu" } as never), /"activation" must be one of/);
  assertThrows(
    () => new BSplineKAN(gpu, 2, 2, { splineOrder: 9 }),
    /splineOrder must be an integer in 0\.\.7/,
  );
  assertThrows(() => new BSplineKAN(gpu, 2, 2, { gridRange: [1, -1] }), /"gridRange"/);
  assertThrows(() => new BSplineKAN(gpu, 0, 2), /inFeatures must be an integer >= 1/);
  assertThrows(() => kan(gpu, [2, 1], { basis: "spline" as never }), /option "basis" must be one of/);
  assertThrows(() => kan(gpu, [2, 1], { basis: "relu", gridSize: 5 } as never), /unknown option "gridSize"/);
});

Deno.test("bad input: a LayerNorm over one feature is refused instead of outputting zeros", () => {
  assertThrows(() => new FastKAN(gpu, 1, 3), /LayerNorm over 1 feature outputs zeros/);
  assertThrows(() => new FasterKAN(gpu, 1, 3), /LayerNorm over 1 feature/);
  new FastKAN(gpu, 1, 3, { useLayerNorm: false }).dispose();
});

Deno.test("bad input: state dicts with a missing, extra, misshaped or non-finite entry", async () => {
  const model = new Sequential([new BSplineKAN(gpu, 2, 3), new Linear(gpu, 3, 1)]);
  const good = await model.stateDict();
  const without = { ...good };
  delete without["layers.0.spline_scaler"];
  assertThrows(() => model.loadStateDict(without), /missing entry "layers\.0\.spline_scaler"/);
  assertThrows(
    () => model.loadStateDict({ ...good, "layers.1.extra": { shape: [1], data: new Float32Array(1) } }),
    /unexpected entry "layers\.1\.extra"/,
  );
  const misshaped = { ...good, "layers.0.spline_weight": { shape: [3, 2, 7], data: new Float32Array(42) } };
  assertThrows(
    () => model.loadStateDict(misshaped),
    /"layers\.0\.spline_weight" has shape \[3, 2, 7\], expected \[3, 2, 8\]/,
  );
  const short = { ...good, "layers.1.bias": { shape: [1], data: new Float32Array(0) } };
  assertThrows(() => model.loadStateDict(short), /"layers\.1\.bias" has 0 values, expected 1/);
  const nan = { ...good, "layers.1.weight": { shape: [1, 3], data: Float32Array.of(1, Number.NaN, 2) } };
  assertThrows(
    () => model.loadStateDict(nan),
    /"layers\.1\.weight" holds a non-finite value \(NaN\) at index 1/,
  );
  // A refused load writes nothing.
  assertEquals(await model.stateDict(), good);
  model.dispose();

  // A module's own check refuses before writing too: FasterKAN's inv_denominator must be positive.
  const faster = new Sequential([new Linear(gpu, 3, 2), new FasterKAN(gpu, 2, 1)]);
  const state = await faster.stateDict();
  const zeroed = Object.fromEntries(
    Object.entries(state).map(([k, e]) => [k, { ...e, data: e.data.map(() => 0) }]),
  );
  zeroed["layers.1.rbf.inv_denominator"] = { shape: [], data: Float32Array.of(-1) };
  assertThrows(
    () => faster.loadStateDict(zeroed),
    /"layers\.1\.rbf\.inv_denominator" must be positive, got -1/,
  );
  assertEquals(await faster.stateDict(), state);
  faster.dispose();
});

Deno.test("bad input teardown", () => {
  gpu.destroy();
});
