/**
 * The originals' own checkpoints (tests/testdata/checkpoints, see its README):
 * each fixture, the state dict of an original's model class after training
 * (and, for pykan and efficient-kan, grid updates), loads with
 * `loadStateDict(dict, { from })` and the model computes the original's `y`
 * within 1e-5 relative to its largest magnitude; `stateDict({ to })` writes
 * exactly the original's keys and shapes, and reads back as the same function.
 * Every refusal is a KanError naming its cause, and leaves the weights as they were.
 */

import {
  BSplineKAN,
  type FasterKAN,
  kan,
  KanError,
  Linear,
  type Module,
  ReLUKAN,
  Sequential,
  type StateDict,
  Tensor,
} from "../mod.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "./assert.ts";
import { assertClose, testGpu } from "./helpers.ts";
import {
  buildFixtureModel,
  type CheckpointFixture,
  fixtureNames,
  perturb,
  readFixture,
  readFixtureDict,
} from "./testdata/checkpoints/fixtures.ts";

/** float32 forward passes of the same function in another summation order: 1e-5 of the largest output. */
const BOUND = 1e-5;
const gpu = await testGpu();

async function run(model: Module, x: { shape: number[]; data: ArrayLike<number> }): Promise<Float32Array> {
  const input = Tensor.from(gpu, x.data, x.shape);
  const y = model.forward(input);
  const out = await y.read();
  input.dispose();
  y.dispose();
  return out;
}

function keyShapes(dict: StateDict): [string, number[]][] {
  return Object.entries(dict).map(([k, v]) => [k, v.shape] as [string, number[]]).sort((a, b) =>
    a[0] < b[0] ? -1 : 1
  );
}

/** Asserts that `fn` throws a KanError matching `pattern`, and that the model's state is what it was. */
async function assertRefused(model: Module, fn: () => unknown, pattern: RegExp): Promise<void> {
  const before = await model.stateDict();
  const e = assertThrows(fn, KanError);
  assert(pattern.test(e.message), `the message "${e.message}" does not match ${pattern}`);
  console.log(`  refused: ${e.message}`);
  assertEquals(await model.stateDict(), before);
}

const fixtures: CheckpointFixture[] = await Promise.all(fixtureNames.map(readFixture));
const loadable = fixtures.filter((f) => f.refused === null);
const byName = (name: string) => fixtures.find((f) => f.name === name)!;

Deno.test("checkpoint formats: 15 fixtures of the six formats are present, two of them refusals", () => {
  assertEquals(fixtures.length, 15);
  assertEquals(
    [...new Set(fixtures.map((f) => f.format))].sort(),
    ["efficient-kan", "fast-kan", "faster-kan", "pykan", "relu-kan", "torch"],
  );
  assertEquals(fixtures.filter((f) => f.refused !== null).map((f) => f.name).sort(), [
    "pykan_mult",
    "pykan_symbolic",
  ]);
});

for (const f of loadable) {
  Deno.test(`checkpoint ${f.name}: loads from "${f.format}" and computes the original's y (1e-5)`, async () => {
    const dict = await readFixtureDict(f.name);
    assertEquals(keyShapes(dict), [...f.keys].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
    const model = buildFixtureModel(gpu, f);
    const fresh = await run(model, f.x);
    model.loadStateDict(dict, { from: f.format });
    const y = await run(model, f.x);
    assertClose(`${f.name} y`, y, f.y.data, BOUND, "max");
    // The initial model computed something else: the bound is not met by accident.
    assert(!(Math.max(...fresh.map((v, i) => Math.abs(v - f.y.data[i]))) <= BOUND), "init equals y");

    // Written back: exactly the original's keys and shapes, and the same function once read again.
    const written = await model.stateDict({ to: f.format });
    assertEquals(keyShapes(written), [...f.keys].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
    const other = buildFixtureModel(gpu, f, 50);
    other.loadStateDict(written, { from: f.format });
    assertClose(`${f.name} from(to(dict)) y`, await run(other, f.x), f.y.data, BOUND, "max");
    model.dispose();
    other.dispose();
  });

  Deno.test(`checkpoint ${f.name}: a model of this module's own values goes to "${f.format}" and back`, async () => {
    const model = buildFixtureModel(gpu, f, 7);
    model.loadStateDict(perturb(await model.stateDict(), 11));
    const y = await run(model, f.x);
    const written = await model.stateDict({ to: f.format });
    assertEquals(keyShapes(written), [...f.keys].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
    const other = buildFixtureModel(gpu, f, 60);
    other.loadStateDict(written, { from: f.format });
    assertClose(`${f.name} own values, from(to(dict)) y`, await run(other, f.x), y, BOUND, "max");
    model.dispose();
    other.dispose();
  });
}

Deno.test("checkpoint faster-kan: the forward's width 1 is loaded, and ours is folded into the LayerNorm and grid", async () => {
  const f = byName("faster_kan_default");
  const model = buildFixtureModel(gpu, f);
  model.loadStateDict(await readFixtureDict(f.name), { from: "faster-kan" });
  const own = await model.stateDict();
  assertEquals([...own["layers.0.rbf.inv_denominator"].data], [1]);
  assertEquals(model.layers.map((l) => (l as FasterKAN).basis.constants.INV_DENOMINATOR), [1, 1]);

  const fresh = buildFixtureModel(gpu, f, 3); // invDenominator 0.5
  const ours = await fresh.stateDict();
  const written = await fresh.stateDict({ to: "faster-kan" });
  for (const name of ["layernorm.weight", "layernorm.bias", "rbf.grid"]) {
    assertEquals(
      [...written[`layers.1.${name}`].data],
      [...ours[`layers.1.${name}`].data].map((v) => v * 0.5),
    );
  }
  assertEquals([...written["layers.1.rbf.inv_denominator"].data], [1]);

  // A width that is not a power of two: the fold rounds, the function stays.
  const wide = kan(gpu, [3, 4, 2], { basis: "faster", invDenominator: 0.8, seed: 4 });
  wide.loadStateDict(perturb(await wide.stateDict(), 5));
  const y = await run(wide, f.x);
  const back = buildFixtureModel(gpu, f, 9);
  back.loadStateDict(await wide.stateDict({ to: "faster-kan" }), { from: "faster-kan" });
  assertClose("invDenominator 0.8 folded and read back", await run(back, f.x), y, BOUND, "max");
  for (const m of [model, fresh, wide, back]) m.dispose();
});

Deno.test("checkpoint pykan: scales, masks and biases fold into base_weight, spline_scaler and bias", async () => {
  const f = byName("pykan_251");
  const dict = await readFixtureDict(f.name);
  const model = buildFixtureModel(gpu, f);
  model.loadStateDict(dict, { from: "pykan" });
  const own = await model.stateDict();
  const [n, m] = [2, 5];
  const s = (o: number) => dict.node_scale_0.data[o] * dict.subnode_scale_0.data[o];
  for (let o = 0; o < m; o++) {
    for (let i = 0; i < n; i++) {
      const mask = dict["act_fun.0.mask"].data[i * m + o];
      const want = Math.fround(s(o) * mask * dict["act_fun.0.scale_sp"].data[i * m + o]);
      assertEquals(own["layers.0.spline_scaler"].data[o * n + i], want);
    }
    const bias = Math.fround(
      dict.node_scale_0.data[o] * dict.subnode_bias_0.data[o] + dict.node_bias_0.data[o],
    );
    assertEquals(own["layers.0.bias"].data[o], bias);
  }
  assertEquals(own["layers.0.base_weight"].data[2 * n + 1], 0); // the pruned edge: mask[1][2] = 0
  assert(own["layers.0.bias"].data.some((v) => Math.abs(v) > 0.05), "the fixture's biases are not trivial");
  model.dispose();
});

/** ReLU-KAN's starting phases of `g`, `k`, as its `ReLUKANLayer` computes them (float64, then float32). */
function reluStart(g: number, k: number): { low: Float32Array; high: Float32Array } {
  const low = Float32Array.from({ length: g + k }, (_, j) => (j - k) / g);
  const high = Float32Array.from({ length: g + k }, (_, j) => (j - k) / g + (k + 1) / g);
  return { low, high };
}

/** Root mean square distance of a layer's phases (`[in, g + k]` each) from the start of `g`, `k`. */
function startDistance(low: Float32Array, high: Float32Array, g: number, k: number): number {
  const s = reluStart(g, k);
  let sum = 0;
  for (let i = 0; i < low.length; i++) {
    sum += (low[i] - s.low[i % (g + k)]) ** 2 + (high[i] - s.high[i % (g + k)]) ** 2;
  }
  return Math.sqrt(sum / (2 * low.length));
}

Deno.test("checkpoint relu-kan: drifted phases load with the model's own g, k; only untrained phases name a split", async () => {
  // ReLU-KAN's exp_fitting recipe, ReLUKAN([2, 5, 1], 20, 3): layer 1's phases lie nearer the start of
  // g 19, k 4 than of its own g 20, k 3, so a nearest-start rule would refuse it (or suggest a wrong split).
  const f = byName("relu_kan_drift");
  const dict = await readFixtureDict(f.name);
  const low = dict["rk_layers.1.phase_low"].data, high = dict["rk_layers.1.phase_height"].data;
  const own = startDistance(low, high, 20, 3);
  console.log(
    `  layer 1: RMS distance from the start of g 20, k 3 ${own.toFixed(4)}, of g 19, k 4 ${
      startDistance(low, high, 19, 4).toFixed(4)
    }`,
  );
  assert(own > 0.05, `the phases drifted by ${own} only`);
  assert(startDistance(low, high, 19, 4) < own, "the fixture's phases do not lie nearer another split");
  const model = buildFixtureModel(gpu, f);
  model.loadStateDict(dict, { from: "relu-kan" });
  assertClose("relu_kan_drift y", await run(model, f.x), f.y.data, BOUND, "max");
  // g and k are the user's declaration: another split of 23 loads too, and computes another function.
  const declared = buildFixtureModel(gpu, f, 0, { g: 19, k: 4 });
  declared.loadStateDict(dict, { from: "relu-kan" });
  const y = await run(declared, f.x);
  assert(Math.max(...y.map((v, i) => Math.abs(v - f.y.data[i]))) > 0.1, "g 19, k 4 computes the same y");

  // Untrained phases say their split exactly: what a fresh model of this module's writes is one.
  const fresh = kan(gpu, [2, 5, 1], { basis: "relu", g: 5, k: 3 });
  const written = await fresh.stateDict({ to: "relu-kan" });
  const other = kan(gpu, [2, 5, 1], { basis: "relu", g: 4, k: 4 });
  await assertRefused(
    other,
    () => other.loadStateDict(written, { from: "relu-kan" }),
    /layer 0 \(ReLUKAN 2 -> 5\) was built with g 4, k 4, .* starting phases of g 5, k 3 .* with g 5, k 3$/,
  );
  // A phase moved by 1e-4 is a trained phase: taken at the declared split.
  written["rk_layers.0.phase_low"].data[3] += 1e-4;
  written["rk_layers.1.phase_height"].data[0] -= 1e-4;
  other.loadStateDict(written, { from: "relu-kan" });
  for (const m of [model, declared, fresh, other]) m.dispose();
});

Deno.test('checkpoint efficient-kan: a "zero" base branch is written as base_weight 0; a nonzero one is refused', async () => {
  const x = byName("efficient_kan_342").x;
  const build = (seed: number, baseActivation: "zero" | "silu") =>
    new Sequential([
      new BSplineKAN(gpu, 3, 4, { gridSize: 4, splineOrder: 2, baseActivation, seed }),
      new BSplineKAN(gpu, 4, 2, { gridSize: 4, splineOrder: 2, baseActivation, seed: seed + 1 }),
    ]);
  const model = build(3, "zero");
  model.loadStateDict(perturb(await model.stateDict(), 8));
  const y = await run(model, x);
  const written = await model.stateDict({ to: "efficient-kan" });
  for (const i of [0, 1]) {
    assert(written[`layers.${i}.base_weight`].data.every((v) => v === 0), `layers.${i}.base_weight`);
  }
  // efficient-kan's KANLinear adds F.linear(silu(x), base_weight): a silu model of the file is the same function.
  const silu = build(20, "silu");
  silu.loadStateDict(written, { from: "efficient-kan" });
  assertClose("zero model written, read as silu", await run(silu, x), y, BOUND, "max");
  const back = build(30, "zero");
  back.loadStateDict(written, { from: "efficient-kan" });
  assertClose("zero model written, read as zero", await run(back, x), y, BOUND, "max");

  // A trained efficient-kan checkpoint has a base branch: a "zero" model cannot compute it.
  const trained = await readFixtureDict("efficient_kan_342");
  await assertRefused(
    back,
    () => back.loadStateDict(trained, { from: "efficient-kan" }),
    /layer 0 \(BSplineKAN 3 -> 4\) was built with baseActivation "zero", but the checkpoint's "layers\.0\.base_weight" is nonzero .* build the model with baseActivation "silu"/,
  );
  for (const m of [model, silu, back]) m.dispose();
});

Deno.test("checkpoint efficient-kan: into a model with bias, the bias is 0 and y is the original's", async () => {
  const f = byName("efficient_kan_342");
  const model = buildFixtureModel(gpu, f, 0, { bias: true });
  model.loadStateDict(await readFixtureDict(f.name), { from: "efficient-kan" });
  const own = await model.stateDict();
  assertEquals([...own["layers.0.bias"].data, ...own["layers.1.bias"].data], [0, 0, 0, 0, 0, 0]);
  assertClose("efficient_kan_342 with bias y", await run(model, f.x), f.y.data, BOUND, "max");
  model.dispose();
});

Deno.test("checkpoint refusals: symbolic functions and multiplication nodes name what is unsupported", async () => {
  for (
    const [name, pattern] of [
      ["pykan_symbolic", /symbolic functions switched on \("symbolic_fun\.0\.mask"\[2\]\[1\] = 1/],
      [
        "pykan_mult",
        /multiplication nodes in layer 0 \("subnode_scale_0" has 7 entries, "node_scale_0" has 5/,
      ],
    ] as const
  ) {
    const f = byName(name);
    const model = buildFixtureModel(gpu, f);
    const dict = await readFixtureDict(name);
    await assertRefused(model, () => model.loadStateDict(dict, { from: "pykan" }), pattern);
    model.dispose();
  }
});

Deno.test("checkpoint refusals: options not in the state dict are checked against what is", async () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ["pykan_251", { bias: false }, /adds a bias .* built without one; build it with bias: true/],
    [
      "relu_kan_fixed_phases",
      { g: 5, k: 1 },
      /layer 0 \(ReLUKAN 3 -> 4\) was built with g 5, k 1, but the checkpoint's phases \(rk_layers\.0\.phase_low, phase_height\) are exactly ReLU-KAN's starting phases of g 4, k 2 .* build the model with g 4, k 2$/,
    ],
    ["relu_kan_fixed_phases", { g: 3, k: 3 }, /built with g 3, k 3, .* starting phases of g 4, k 2/],
    [
      "relu_kan_251",
      { g: 5, k: 2 },
      /"rk_layers\.0\.phase_low" has shape \[2, 8\], expected \[2, 7\] .*g 5 \+ k 2/,
    ],
    ["fast_kan_352", { denominator: 0.5 }, /denominator 0\.5, but fast-kan's FastKAN uses .* = 0\.6/],
    ["fast_kan_352", { useBaseUpdate: false }, /has a base branch .* useBaseUpdate: false/],
    ["fast_kan_no_base", { useBaseUpdate: true }, /no base branch .* useBaseUpdate: true/],
    ["fast_kan_352", { useLayerNorm: false }, /normalizes every layer's input, .* useLayerNorm: false/],
    [
      "faster_kan_default",
      { useLayerNorm: false },
      /FasterKANLayer normalizes its input .* useLayerNorm: false/,
    ],
    [
      "efficient_kan_342",
      { gridSize: 5 },
      /"layers\.0\.grid" has shape \[3, 9\], expected \[3, 10\] .*gridSize 5/,
    ],
  ];
  for (const [name, change, pattern] of cases) {
    const f = byName(name);
    const model = buildFixtureModel(gpu, f, 0, change);
    const dict = await readFixtureDict(name);
    await assertRefused(model, () => model.loadStateDict(dict, { from: f.format }), pattern);
    model.dispose();
  }
});

Deno.test("checkpoint refusals: a wrong key, shape, value, layer kind or format name", async () => {
  const f = byName("efficient_kan_342");
  const model = buildFixtureModel(gpu, f);
  const dict = await readFixtureDict(f.name);
  const renamed: StateDict = { ...dict, "layers.1.spline_scalar": dict["layers.1.spline_scaler"] };
  delete renamed["layers.1.spline_scaler"];
  await assertRefused(
    model,
    () => model.loadStateDict(renamed, { from: "efficient-kan" }),
    /missing entry "layers\.1\.spline_scaler" for layer 1 \(BSplineKAN 4 -> 2\)/,
  );
  const extra: StateDict = { ...dict, "layers.2.grid": dict["layers.1.grid"] };
  await assertRefused(
    model,
    () => model.loadStateDict(extra, { from: "efficient-kan" }),
    /unexpected entry "layers\.2\.grid"/,
  );
  const bent: StateDict = {
    ...dict,
    "layers.0.base_weight": { shape: [3, 4], data: dict["layers.0.base_weight"].data },
  };
  await assertRefused(
    model,
    () => model.loadStateDict(bent, { from: "efficient-kan" }),
    /"layers\.0\.base_weight" has shape \[3, 4\], expected \[4, 3\]/,
  );
  const nan: StateDict = { ...dict, "layers.1.spline_weight": { ...dict["layers.1.spline_weight"] } };
  nan["layers.1.spline_weight"].data = nan["layers.1.spline_weight"].data.slice();
  nan["layers.1.spline_weight"].data[5] = NaN;
  await assertRefused(
    model,
    () => model.loadStateDict(nan, { from: "efficient-kan" }),
    /non-finite value \(NaN\) at index 5/,
  );
  const knots: StateDict = { ...dict, "layers.0.grid": { ...dict["layers.0.grid"] } };
  knots["layers.0.grid"].data = knots["layers.0.grid"].data.slice();
  knots["layers.0.grid"].data[4] = knots["layers.0.grid"].data[3];
  await assertRefused(
    model,
    () => model.loadStateDict(knots, { from: "efficient-kan" }),
    /"layers\.0\.grid" row 0 does not strictly increase \(knot 3/,
  );
  await assertRefused(
    model,
    () => model.loadStateDict(dict, { from: "pykan" }),
    /missing entry "symbolic_fun\.0\.mask"/,
  );
  await assertRefused(
    model,
    () => model.loadStateDict(dict, { from: "relu-kan" }),
    /"relu-kan" holds ReLUKAN layers, but layer 0 \(BSplineKAN 3 -> 4\) is a BSplineKAN/,
  );
  await assertRefused(
    model,
    () => model.loadStateDict(dict, { from: "keras" as "torch" }),
    /option "from" must be one of "efficient-kan", "fast-kan", "faster-kan", "relu-kan", "pykan", "torch", got "keras"/,
  );
  await assertRefused(
    model,
    () => model.loadStateDict(dict, { form: "pykan" } as unknown as { from: "pykan" }),
    /unknown option "form"/,
  );
  // Without `from`, the original's names are this module's for efficient-kan: it loads as it is.
  model.loadStateDict(dict);
  assertClose("efficient-kan without from", await run(model, f.x), f.y.data, BOUND, "max");
  model.dispose();
});

Deno.test("checkpoint refusals: what an original's model class cannot compute is not written", async () => {
  const withBias = new Sequential([new BSplineKAN(gpu, 2, 3, { bias: true }), new BSplineKAN(gpu, 3, 1)]);
  const d = await withBias.stateDict();
  d["layers.0.bias"].data[1] = 0.25;
  withBias.loadStateDict(d);
  const e = await assertRejects(() => withBias.stateDict({ to: "efficient-kan" }), KanError);
  assert(/layer 0 \(BSplineKAN 2 -> 3\) has a nonzero bias/.test(e.message), e.message);
  // pykan has one: node_bias_0.
  const pykan = await withBias.stateDict({ to: "pykan" });
  assertEquals([...pykan.node_bias_0.data], [0, 0.25, 0]);

  const cases: [Module, string, RegExp][] = [
    [kan(gpu, [2, 3], { basis: "faster", useLayerNorm: false }), "faster-kan", /useLayerNorm: false/],
    [
      kan(gpu, [2, 3], { basis: "fast", denominator: 0.3 }),
      "fast-kan",
      /denominator 0\.3, but fast-kan's FastKAN uses/,
    ],
    [
      kan(gpu, [2, 3, 1], { basis: "bspline" }),
      "torch",
      /"torch" holds Linear layers, but layer 0 \(BSplineKAN 2 -> 3\)/,
    ],
    [
      new Sequential([new ReLUKAN(gpu, 2, 3, { g: 5, k: 3 }), new ReLUKAN(gpu, 3, 1, { g: 4, k: 3 })]),
      "relu-kan",
      /ReLU-KAN's ReLUKAN takes one grid \(g\) for all its layers, but layer 0 has 5 and layer 1 has 4/,
    ],
    [
      new Sequential([new BSplineKAN(gpu, 2, 3), new BSplineKAN(gpu, 3, 1, { baseActivation: "identity" })]),
      "pykan",
      /pykan's KAN takes one base_fun for all its layers/,
    ],
    [
      new Sequential([new BSplineKAN(gpu, 2, 3, { gridSize: 3 }), new BSplineKAN(gpu, 3, 1)]),
      "efficient-kan",
      /efficient-kan's KAN takes one grid_size for all its layers/,
    ],
  ];
  for (const [model, format, pattern] of cases) {
    const err = await assertRejects(() => model.stateDict({ to: format as "torch" }), KanError);
    assert(pattern.test(err.message), `"${err.message}" does not match ${pattern}`);
    console.log(`  refused: ${err.message}`);
    model.dispose();
  }
  withBias.dispose();
});

Deno.test("checkpoint formats: a lone layer converts as a model of one layer", async () => {
  const layer = new BSplineKAN(gpu, 3, 2, { gridSize: 4, bias: true, seed: 5 });
  layer.loadStateDict(perturb(await layer.stateDict(), 3));
  const x = { shape: [4, 3], data: [0.1, -0.5, 0.9, 1.5, -2, 0.3, 0, 0.2, -0.7, 0.4, 0.4, 0.4] };
  const y = await run(layer, x);
  const written = await layer.stateDict({ to: "pykan" });
  assert("act_fun.0.coef" in written && "node_bias_0" in written, Object.keys(written).join(", "));
  const back = new BSplineKAN(gpu, 3, 2, { gridSize: 4, bias: true, seed: 6 });
  back.loadStateDict(written, { from: "pykan" });
  assertClose("lone layer from(to(dict))", await run(back, x), y, BOUND, "max");

  const linear = new Linear(gpu, 3, 2, { activation: "tanh" });
  assertEquals(Object.keys(await linear.stateDict({ to: "torch" })).sort(), ["0.bias", "0.weight"]);
  for (const m of [layer, back, linear]) m.dispose();
});

Deno.test("checkpoint formats teardown: nothing left live", () => {
  assertEquals(gpu.stats().liveBuffers, 0);
  gpu.destroy();
});
