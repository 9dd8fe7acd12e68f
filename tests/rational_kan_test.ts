/**
 * RationalKAN (KAT's group-rational activation, then a linear map): parity
 * with the original's kernels (tests/testdata/parity/rational, made by
 * tests/testdata/generate/generate_rational.py), its initialization, finite
 * differences of the float64 reference (x = 0 and b = 0 included), the GPU
 * against the float64 reference on both kernel paths and past the loop-trip
 * budget, the elementwise backward pass with one invocation's rows past the
 * budget and with frozen rationals or no input gradient, exact sums, and bad
 * input.
 */

import { Adam, kan, KanError, Tensor } from "../mod.ts";
import { rationalBasis, rationalInit } from "../src/basis/rational.ts";
import { tripBudget } from "../src/gpu/loop_trips.ts";
import { kernelPath } from "../src/layers/basis_linear.ts";
import { RationalKAN } from "../src/layers/rational_kan.ts";
import { rationalChunkRows, rationalInvocations } from "../src/layers/rational_activation.ts";
import { partialLimit } from "../src/ops/reduce_rows.ts";
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { assertClose, seededUniform, testGpu } from "./helpers.ts";
import { assertMatchesVector, buildModel, readVector, vectorFiles } from "./vectors.ts";

const gpu = await testGpu();
const TOLERANCE = 1e-4;
const files = vectorFiles("rational/");

function resetPaths(): void {
  kernelPath.mode = "auto";
  tripBudget.trips = 60000;
  partialLimit.floats = Infinity;
  rationalInvocations.target = 16384;
}

Deno.test("rational parity: the three vectors of the original's kernels are present", () => {
  assertEquals(files, ["rational_default.json", "rational_identity_swish.json", "rational_perturbed.json"]);
});

for (const file of files) {
  for (const mode of ["tiled", "direct"] as const) {
    Deno.test(`rational parity ${file}, ${mode}: y, every gradient and grad_x (1e-4 relative to the max)`, async () => {
      kernelPath.mode = mode;
      const v = await readVector(file, "rational/");
      const model = buildModel(gpu, v);
      // The float64 reference does not depend on the path: checked once.
      await assertMatchesVector(gpu, model, v, TOLERANCE, mode === "tiled");
      model.dispose();
      resetPaths();
    });
  }
}

Deno.test("rational init: KAT_Group's coefficients (gelu, identity, swish) as the original's state", async () => {
  for (const file of files) {
    const v = await readVector(file, "rational/");
    if (v.name === "rational_perturbed") continue;
    for (const [index, l] of v.model.entries()) {
      const layer = new RationalKAN(gpu, l.in, l.out, l.options);
      const dict = await layer.stateDict();
      for (const name of ["act.weight_numerator", "act.weight_denominator"]) {
        const want = v.state[`layers.${index}.${name}`];
        assertEquals(dict[name].shape, want.shape);
        assertEquals(
          [...dict[name].data],
          [...Float32Array.from(want.data)],
          `${v.name} layer ${index} ${name}`,
        );
      }
      // nn.Linear's default bounds: |w|, |b| <= 1/sqrt(in).
      const bound = 1 / Math.sqrt(l.in);
      assert(dict["fc.weight"].data.every((w) => Math.abs(w) <= bound), "fc.weight within 1/sqrt(in)");
      assertEquals(dict["fc.bias"] !== undefined, l.options.bias !== false);
      layer.dispose();
    }
  }
  // The default groups: 8 as KAT_Group where 8 divides the width, else gcd(8, in).
  for (const [inDim, groups] of [[16, 8], [12, 4], [6, 2], [5, 1]]) {
    const layer = new RationalKAN(gpu, inDim, 1);
    assertEquals(layer.options.numGroups, groups, `in ${inDim}`);
    layer.dispose();
  }
});

const H = 1e-6;

Deno.test("rational basis: d/dx and every d/dparam equal finite differences, x = 0 and b = 0 as the kernels take them", () => {
  const random = seededUniform(7);
  const groupSize = 2;
  const data = Float64Array.from(rationalInit("gelu", 2), (v) => v + 0.4 * (random() - 0.5));
  data[6 + 4 + 2] = 0; // b_2 of group 1 exactly 0
  const basis = rationalBasis(groupSize);
  let checked = 0;
  for (const i of [0, 3]) {
    for (const x of [-20, -3.1, -0.7, -1e-3, 1e-3, 0.4, 1, 2.5, 20]) {
      const f = (v: number) => basis.value(i, 0, v, data, 4);
      const numeric = (f(x + H) - f(x - H)) / (2 * H);
      const bound = 1e-6 * Math.max(1, Math.abs(f(x)));
      const err = Math.abs(basis.dx(i, 0, x, data, 4) - numeric);
      assert(err <= bound, `dx i=${i} x=${x}: error ${err} > ${bound}`);
      for (let q = 0; q < 10; q++) {
        const at = q < 6 ? q : 6 + Math.floor(i / groupSize) * 4 + q - 6;
        const g = (v: number) => {
          const d = Float64Array.from(data);
          d[at] = v;
          return basis.value(i, 0, x, d, 4);
        };
        // At b = 0, |b| has a kink: the kernels take the right derivative (d|b|/db = +1).
        const right = data[at] === 0 && q >= 6;
        const num = right ? (g(H) - g(0)) / H : (g(data[at] + H) - g(data[at] - H)) / (2 * H);
        const e = Math.abs(basis.dparam(i, 0, x, q, data, 4) - num);
        const b = (right ? 1e-4 : 1e-6) * Math.max(1, Math.abs(num));
        assert(e <= b, `dparam q=${q} i=${i} x=${x}: error ${e} > ${b}`);
        checked++;
      }
    }
  }
  // x = 0: the kernels take d|x|/dx = +1 there, the right derivative (P'(0) - |b0| P(0)) / 1.
  const f = (v: number) => basis.value(0, 0, v, data, 4);
  const right = (f(H) - f(0)) / H;
  const left = (f(0) - f(-H)) / H;
  const d0 = basis.dx(0, 0, 0, data, 4);
  assert(Math.abs(d0 - right) <= 1e-4, `dx at 0 ${d0} vs right difference ${right}`);
  assert(Math.abs(d0 - left) > 1e-3, `dx at 0 ${d0} must differ from the left difference ${left}`);
  assertEquals(checked, 180);
});

Deno.test("rational layer reference: every gradient equals a finite difference of the loss", () => {
  const random = seededUniform(11);
  const inDim = 6;
  const outDim = 3;
  const batch = 5;
  const groups = 3;
  const state: Record<string, Float64Array> = {
    "act.weight_numerator": Float64Array.from(
      rationalInit("swish", 1).slice(0, 6),
      (v) => v + 0.3 * random(),
    ),
    "act.weight_denominator": Float64Array.from({ length: 4 * groups }, () => random() - 0.5),
    "fc.weight": Float64Array.from({ length: outDim * inDim }, () => random() - 0.5),
    "fc.bias": Float64Array.from({ length: outDim }, () => random() - 0.5),
  };
  const x = Float64Array.from({ length: batch * inDim }, () => 4 * (random() - 0.5));
  const dy = Float64Array.from({ length: batch * outDim }, () => random() - 0.5);
  const layer = new RationalKAN(gpu, inDim, outDim, { numGroups: groups });
  const loss = (s: Record<string, Float64Array>, xs: Float64Array) =>
    layer.reference(s).forward(xs, batch).y.reduce((t, y, k) => t + y * dy[k], 0);
  const g = layer.reference(state).forward(x, batch).backward(dy);
  for (const [key, value] of Object.entries(state)) {
    for (let k = 0; k < value.length; k++) {
      const bump = (d: number) => {
        const s = { ...state, [key]: Float64Array.from(value) };
        s[key][k] += d;
        return loss(s, x);
      };
      const num = (bump(H) - bump(-H)) / (2 * H);
      assert(Math.abs(g.grads[key][k] - num) <= 1e-6 * Math.max(1, Math.abs(num)), `${key}[${k}]`);
    }
  }
  for (let k = 0; k < x.length; k++) {
    const bump = (d: number) => {
      const xs = Float64Array.from(x);
      xs[k] += d;
      return loss(state, xs);
    };
    const num = (bump(H) - bump(-H)) / (2 * H);
    assert(Math.abs(g.dx[k] - num) <= 1e-6 * Math.max(1, Math.abs(num)), `dx[${k}]`);
  }
  layer.dispose();
});

interface ShapeCase {
  name: string;
  batch: number;
  inDim: number;
  outDim: number;
  groups: number;
  /** The loop-trip budget (the default, or lowered so that every kernel splits). */
  budget: number;
}

const shapes: ShapeCase[] = [
  { name: "B=37 12→5, 4 groups", batch: 37, inDim: 12, outDim: 5, groups: 4, budget: 60000 },
  { name: "B=3 64→70, 8 groups", batch: 3, inDim: 64, outDim: 70, groups: 8, budget: 60000 },
  { name: "B=300 40→20, 5 groups, budget 2,500", batch: 300, inDim: 40, outDim: 20, groups: 5, budget: 2500 },
  { name: "B=2 30000→2, 8 groups", batch: 2, inDim: 30000, outDim: 2, groups: 8, budget: 60000 },
];

for (const c of shapes) {
  for (const mode of ["tiled", "direct"] as const) {
    Deno.test(`rational GPU vs float64 reference, ${mode}: ${c.name}`, async () => {
      kernelPath.mode = mode;
      tripBudget.trips = c.budget;
      if (c.budget < 60000) partialLimit.floats = 5000;
      const random = seededUniform(c.batch + c.inDim);
      const layer = new RationalKAN(gpu, c.inDim, c.outDim, { numGroups: c.groups });
      const dict = await layer.stateDict();
      for (const entry of Object.values(dict)) {
        entry.data.forEach((v, i) => entry.data[i] = v + 0.2 * (random() - 0.5));
      }
      layer.loadStateDict(dict);
      const state = Object.fromEntries(Object.entries(dict).map(([k, v]) => [k, v.data]));
      const xs = Float32Array.from(
        { length: c.batch * c.inDim },
        (_, k) => k % 97 === 0 ? 0 : 6 * (random() - 0.5),
      );
      const dys = Float32Array.from({ length: c.batch * c.outDim }, () => random() - 0.5);
      const x = Tensor.from(gpu, xs, [c.batch, c.inDim]);
      const dy = Tensor.from(gpu, dys, [c.batch, c.outDim]);
      const trace = layer.trace(x);
      const dx = trace.backward(dy, true)!;
      const want = layer.reference(state).forward(xs, c.batch);
      const grads = want.backward(dys);
      assertClose("y", await trace.y.read(), want.y, TOLERANCE, "max");
      const got = await layer.gradDict();
      assertEquals(Object.keys(got).sort(), Object.keys(grads.grads).sort());
      for (const [key, g] of Object.entries(got)) {
        assertClose(`grad ${key}`, g.data, grads.grads[key], TOLERANCE, "max");
      }
      assertClose("grad x", await dx.read(), grads.dx, TOLERANCE, "max");
      trace.release();
      for (const t of [x, dy, dx, trace.y]) t.dispose();
      layer.dispose();
      resetPaths();
    });
  }
}

/** A layer with perturbed parameters, its state and random (x, dy) with some x exactly 0. */
async function perturbedCase(batch: number, inDim: number, outDim: number, groups: number, seed: number) {
  const random = seededUniform(seed);
  const layer = new RationalKAN(gpu, inDim, outDim, { numGroups: groups });
  const dict = await layer.stateDict();
  for (const entry of Object.values(dict)) {
    entry.data.forEach((v, i) => entry.data[i] = v + 0.2 * (random() - 0.5));
  }
  layer.loadStateDict(dict);
  const state = Object.fromEntries(Object.entries(dict).map(([k, v]) => [k, v.data]));
  const xs = Float32Array.from(
    { length: batch * inDim },
    (_, k) => k % 97 === 0 ? 0 : 6 * (random() - 0.5),
  );
  const dys = Float32Array.from({ length: batch * outDim }, () => random() - 0.5);
  return { layer, state, xs, dys };
}

Deno.test("rational activation backward: one invocation's rows past the loop-trip budget split (70,000 rows)", async () => {
  // One target invocation: each invocation would take all 70,000 rows, past lavapipe's 65,535 loop
  // iterations; the budget caps it at 59,999 rows, so the rows split into 2 invocations.
  rationalInvocations.target = 1;
  const [batch, inDim, outDim] = [70000, 1, 1];
  assertEquals(rationalChunkRows(batch, inDim), 59999);
  const { layer, state, xs, dys } = await perturbedCase(batch, inDim, outDim, 1, 23);
  const x = Tensor.from(gpu, xs, [batch, inDim]);
  const dy = Tensor.from(gpu, dys, [batch, outDim]);
  const trace = layer.trace(x);
  const dx = trace.backward(dy, true)!;
  const want = layer.reference(state).forward(xs, batch);
  const grads = want.backward(dys);
  assertClose("y", await trace.y.read(), want.y, TOLERANCE, "max");
  const got = await layer.gradDict();
  for (const [key, g] of Object.entries(got)) {
    assertClose(`grad ${key}`, g.data, grads.grads[key], TOLERANCE, "max");
  }
  assertClose("grad x", await dx.read(), grads.dx, TOLERANCE, "max");
  trace.release();
  for (const t of [x, dy, dx, trace.y]) t.dispose();
  layer.dispose();
  resetPaths();
});

Deno.test("rational activation backward: frozen rationals write no gradient, inputGrad false still trains them", async () => {
  const [batch, inDim, outDim, groups] = [33, 8, 5, 2];
  const { layer, state, xs, dys } = await perturbedCase(batch, inDim, outDim, groups, 29);
  const want = layer.reference(state).forward(xs, batch).backward(dys);
  const x = Tensor.from(gpu, xs, [batch, inDim]);
  const dy = Tensor.from(gpu, dys, [batch, outDim]);
  const [numerator, denominator] = layer.parameters();
  // Frozen rationals: dx still right, and their gradients stay 0.
  numerator.trainable = false;
  denominator.trainable = false;
  let trace = layer.trace(x);
  const dx = trace.backward(dy, true)!;
  assertClose("frozen: grad x", await dx.read(), want.dx, TOLERANCE, "max");
  trace.release();
  numerator.trainable = true;
  denominator.trainable = true;
  let got = await layer.gradDict();
  assert(got["act.weight_numerator"].data.every((v) => v === 0), "frozen: numerator gradient untouched");
  assert(got["act.weight_denominator"].data.every((v) => v === 0), "frozen: denominator gradient untouched");
  trace.y.dispose();
  // No input gradient (a first layer): the rationals' gradients are still computed.
  layer.zeroGrad();
  trace = layer.trace(x);
  assertEquals(trace.backward(dy, false), null);
  trace.release();
  got = await layer.gradDict();
  for (const key of Object.keys(want.grads)) {
    assertClose(`no dx: grad ${key}`, got[key].data, want.grads[key], TOLERANCE, "max");
  }
  for (const t of [x, dy, dx, trace.y]) t.dispose();
  layer.dispose();
});

Deno.test("rational exact sums, both paths, budget 2,500: identity start, ones: y = sum x, dx = out, exact group sums", async () => {
  // Identity (P = x, Q = 1, every b = 0), weights 1, bias 0, small integer inputs, dy = 1: every value
  // is an integer below 2^24, so float32 gets it exactly; d b_k = -x |x|^(k + 1) * out (d|b|/db = +1 at 0).
  const [batch, inDim, outDim, groups] = [130, 70, 3, 7];
  for (const mode of ["tiled", "direct"] as const) {
    kernelPath.mode = mode;
    tripBudget.trips = 2500;
    const layer = new RationalKAN(gpu, inDim, outDim, { numGroups: groups, mode: "identity" });
    const dict = await layer.stateDict();
    dict["fc.weight"].data.fill(1);
    dict["fc.bias"].data.fill(0);
    layer.loadStateDict(dict);
    // -1 to 3, shifted by one in every other group, so that the groups' sums differ.
    const xs = Float32Array.from(
      { length: batch * inDim },
      (_, k) => (k * 7) % 4 - 1 + Math.floor((k % inDim) / 10) % 2,
    );
    const x = Tensor.from(gpu, xs, [batch, inDim]);
    const dy = Tensor.from(gpu, new Float32Array(batch * outDim).fill(1), [batch, outDim]);
    const trace = layer.trace(x);
    const dx = trace.backward(dy, true)!;
    const y = await trace.y.read();
    for (let b = 0; b < batch; b++) {
      let s = 0;
      for (let i = 0; i < inDim; i++) s += xs[b * inDim + i];
      for (let o = 0; o < outDim; o++) assertEquals(y[b * outDim + o], s, `${mode} y[${b}, ${o}]`);
    }
    assert((await dx.read()).every((v) => v === outDim), `${mode} dx = out`);
    const g = await layer.gradDict();
    const numerator = new Array(6).fill(0);
    const denominator = new Array(4 * groups).fill(0);
    const size = inDim / groups;
    xs.forEach((v, k) => {
      for (let q = 0; q < 6; q++) numerator[q] += outDim * v ** q;
      const group = Math.floor((k % inDim) / size);
      for (let j = 0; j < 4; j++) denominator[group * 4 + j] -= outDim * v * Math.abs(v) ** (j + 1);
    });
    assertEquals([...g["act.weight_numerator"].data], numerator, `${mode} numerator gradient`);
    assertEquals([...g["act.weight_denominator"].data], denominator, `${mode} denominator gradient`);
    assertEquals([...g["fc.bias"].data], new Array(outDim).fill(batch));
    trace.release();
    for (const t of [x, dy, dx, trace.y]) t.dispose();
    layer.dispose();
  }
  resetPaths();
});

Deno.test('rational kan(): basis "rational" builds RationalKAN layers, trains, and refuses bad options', async () => {
  const model = kan(gpu, [4, 8, 1], { basis: "rational", mode: "swish", seed: 3 });
  const keys = Object.keys(await model.stateDict());
  assertEquals(keys, [
    "layers.0.act.weight_numerator",
    "layers.0.act.weight_denominator",
    "layers.0.fc.weight",
    "layers.0.fc.bias",
    "layers.1.act.weight_numerator",
    "layers.1.act.weight_denominator",
    "layers.1.fc.weight",
    "layers.1.fc.bias",
  ]);
  const random = seededUniform(5);
  const n = 64;
  const xs = Float32Array.from({ length: n * 4 }, () => 2 * random() - 1);
  const ys = Float32Array.from(
    { length: n },
    (_, b) => Math.sin(2 * xs[b * 4]) + xs[b * 4 + 1] * xs[b * 4 + 2],
  );
  const x = Tensor.from(gpu, xs, [n, 4]);
  const y = Tensor.from(gpu, ys, [n, 1]);
  const optimizer = new Adam({ lr: 0.01 });
  const history = await model.fit({
    x,
    y,
    loss: "mse",
    optimizer,
    steps: 60,
    logEvery: 10,
  });
  optimizer.dispose();
  assert(history.loss.length >= 2, `${history.loss.length} losses logged`);
  const first = history.loss[0];
  const last = history.loss[history.loss.length - 1];
  assert(last < 0.5 * first, `loss ${first} -> ${last}`);
  x.dispose();
  y.dispose();
  model.dispose();
  assertThrows(() => kan(gpu, [4, 1], { basis: "rational", gridSize: 5 } as never), /gridSize/);
});

Deno.test("rational bad input: KanErrors naming the option, and a refused load changes nothing", async () => {
  assertThrows(
    () => new RationalKAN(gpu, 6, 1, { numGroups: 4 }),
    /numGroups must divide inFeatures \(6\).*got 4/,
  );
  assertThrows(() => new RationalKAN(gpu, 6, 1, { numGroups: 0 }), /numGroups/);
  assertThrows(() => new RationalKAN(gpu, 6, 1, { mode: "relu" as never }), /mode.*"relu"/);
  assertThrows(() => new RationalKAN(gpu, 6, 1, { groups: 2 } as never), /groups/);
  const layer = new RationalKAN(gpu, 4, 2, { numGroups: 2 });
  const before = await layer.stateDict();
  const bad = structuredClone(before);
  bad["act.weight_denominator"] = { shape: [4, 4], data: new Float32Array(16) };
  bad["fc.weight"].data.fill(9);
  const e = assertThrows(() => layer.loadStateDict(bad), KanError);
  assert(/act\.weight_denominator.*\[4, 4\].*\[2, 4\]/.test(e.message), e.message);
  const after = await layer.stateDict();
  for (const key of Object.keys(before)) assertEquals([...after[key].data], [...before[key].data], key);
  const x = Tensor.from(gpu, [0, Number.NaN, 1, 2], [1, 4]);
  assertThrows(() => layer.forward(x), /finite|NaN/);
  x.dispose();
  layer.dispose();
});

Deno.test("rational teardown: nothing left live", () => {
  assertEquals(gpu.stats().liveBuffers, 0);
  gpu.destroy();
});
