/**
 * WavKAN (Wav-KAN `KANLinear`): parity with the original's vectors
 * (tests/testdata/parity/wavkan, from tests/testdata/generate/generate_wavkan.py)
 * in training mode (batch statistics, running statistics moved) and in eval
 * mode; finite differences of the float64 wavelets and BatchNorm1d; random
 * shapes GPU vs float64 with every split of the edge kernels taken; the
 * loop-trip budget measured; train()/eval(); bad input.
 */

import { Adam, Gpu, kan, KanError, Sequential, type StateDict, Tensor } from "../mod.ts";
import { WAVELET_TYPES, waveletEdge } from "../src/basis/wavelet.ts";
import { tripBudget } from "../src/gpu/loop_trips.ts";
import { batchNormBackwardReference, batchNormReference } from "../src/layers/batch_norm.ts";
import { edgePlan } from "../src/layers/edge_linear.ts";
import { type WaveletType, WavKAN } from "../src/layers/wav_kan.ts";
import { describeLayer } from "../src/fused/fused_layers.ts";
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { assertClose, seededUniform, testGpu } from "./helpers.ts";
import type { VectorTensor } from "./vectors.ts";

const TOLERANCE = 1e-4;
const gpu = await testGpu();
const dir = new URL("./testdata/parity/wavkan/", import.meta.url);
const files = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith(".json")).sort();

interface WavVector {
  name: string;
  model: { class: string; in: number; out: number; options: { waveletType?: WaveletType } }[];
  state: StateDict;
  x: VectorTensor;
  y: VectorTensor;
  target: VectorTensor;
  grad: Record<string, VectorTensor>;
  grad_x: VectorTensor;
  state_after: Record<string, VectorTensor>;
  y_eval: VectorTensor;
  grad_eval: Record<string, VectorTensor>;
  grad_x_eval: VectorTensor;
}

function build(v: WavVector): Sequential {
  const model = new Sequential(v.model.map((l) => new WavKAN(gpu, l.in, l.out, l.options)));
  model.loadStateDict(v.state);
  return model;
}

function mseGradient(y: ArrayLike<number>, target: ArrayLike<number>): Float64Array {
  return Float64Array.from(y, (v, i) => 2 * (v - target[i]) / y.length);
}

async function checkMode(
  v: WavVector,
  model: Sequential,
  y: VectorTensor,
  grads: Record<string, VectorTensor>,
  gradX: VectorTensor,
  mode: string,
): Promise<void> {
  const state = Object.fromEntries(Object.entries(v.state).map(([k, e]) => [k, Float64Array.from(e.data)]));
  const ref = model.reference(state).forward(v.x.data, v.x.shape[0]);
  model.zeroGrad();
  const x = Tensor.from(gpu, v.x.data, v.x.shape);
  const trace = model.trace(x);
  assertClose(`${v.name} ${mode} y`, await trace.y.read(), y.data, TOLERANCE, "max");
  assertClose(`${v.name} ${mode} reference y`, ref.y, y.data, TOLERANCE, "max");
  const g = mseGradient(y.data, v.target.data);
  const dy = Tensor.from(gpu, g, y.shape);
  const dx = trace.backward(dy, true)!;
  const got = await model.gradDict();
  assertEquals(Object.keys(got).sort(), Object.keys(grads).filter((k) => !k.endsWith("weight1")).sort());
  const rg = ref.backward(g);
  for (const [key, want] of Object.entries(grads)) {
    if (key.endsWith("weight1")) continue;
    assertClose(`${v.name} ${mode} grad ${key}`, got[key].data, want.data, TOLERANCE, "max");
    assertClose(`${v.name} ${mode} reference grad ${key}`, rg.grads[key], want.data, TOLERANCE, "max");
  }
  assertClose(`${v.name} ${mode} grad_x`, await dx.read(), gradX.data, TOLERANCE, "max");
  assertClose(`${v.name} ${mode} reference grad_x`, rg.dx, gradX.data, TOLERANCE, "max");
  trace.release();
  for (const t of [x, dy, dx, trace.y]) t.dispose();
}

Deno.test("wavkan parity: eleven vectors of the original (five wavelets, edge cases, defaults)", () => {
  assertEquals(files.length, 11);
});

for (const file of files) {
  Deno.test(`wavkan parity ${file}: train mode (y, grads, grad_x, running statistics) and eval mode`, async () => {
    const v: WavVector = JSON.parse(await Deno.readTextFile(new URL(file, dir)));
    const model = build(v);
    assert(model.training, "a new model is in training mode");
    assertEquals(v.grad[`layers.0.weight1`], undefined); // the original's forward does not use weight1
    await checkMode(v, model, v.y, v.grad, v.grad_x, "train");
    // One training forward pass moved the running statistics as PyTorch's did.
    const after = await model.stateDict();
    for (const [key, want] of Object.entries(v.state_after)) {
      assertClose(`${v.name} ${key} after one forward`, after[key].data, want.data, 1e-5, "maxOrOne");
    }
    // Eval mode uses them: the original's eval run started from the moved statistics.
    model.eval();
    const moved = Object.fromEntries(Object.entries(after).map(([k, e]) => [k, e]));
    v.state = moved;
    await checkMode(v, model, v.y_eval, v.grad_eval, v.grad_x_eval, "eval");
    // Eval mode leaves the running statistics alone.
    const still = await model.stateDict();
    for (const key of Object.keys(v.state_after)) assertEquals(still[key].data, after[key].data);
    model.dispose();
  });
}

Deno.test("wavkan: float64 wavelets and their parameter derivatives equal central differences", () => {
  const random = seededUniform(3);
  for (const type of WAVELET_TYPES) {
    const edge = waveletEdge(type);
    let worst = 0;
    for (let n = 0; n < 200; n++) {
      const th = [0.5 + random(), random() - 0.5, random(), random() * 2 - 1];
      let x = random() * 6 - 3;
      const u = (x - th[1]) / th[0];
      // Keep away from Meyer's kinks (|u| = 0.5, 1, 0) where one-sided slopes differ.
      if (type === "meyer" && [0, 0.5, 1].some((k) => Math.abs(Math.abs(u) - k) < 1e-3)) x += 0.01;
      const d = edge.derivs(x, th, 1, 3);
      const h = 1e-6;
      const fd = [(edge.value(x + h, th, 1, 3) - edge.value(x - h, th, 1, 3)) / (2 * h)];
      for (let q = 0; q < 4; q++) {
        const up = [...th];
        const down = [...th];
        up[q] += h;
        down[q] -= h;
        fd.push((edge.value(x, up, 1, 3) - edge.value(x, down, 1, 3)) / (2 * h));
      }
      for (let k = 0; k < 5; k++) {
        worst = Math.max(worst, Math.abs(fd[k] - d[k]) / Math.max(1, Math.abs(d[k])));
      }
    }
    console.log(`  ${type}: worst relative difference ${worst.toExponential(2)}`);
    assert(worst < 1e-6, `${type}: derivative off by ${worst}`);
  }
});

Deno.test("wavkan: float64 BatchNorm1d backward equals central differences (train and eval)", () => {
  const random = seededUniform(5);
  const rows = 5, features = 3;
  const z = Float64Array.from({ length: rows * features }, () => random() * 2 - 1);
  const w = [1.2, 0.7, -0.4], b = [0.1, -0.2, 0.3], rm = [0.1, 0, -0.1], rv = [0.9, 1.1, 1.5];
  const dy = Float64Array.from({ length: rows * features }, () => random() - 0.5);
  for (const training of [true, false]) {
    const loss = (zz: ArrayLike<number>, ww: ArrayLike<number>, bb: ArrayLike<number>) =>
      batchNormReference(zz, rows, features, ww, bb, rm, rv, training).y.reduce(
        (s, y, i) => s + y * dy[i],
        0,
      );
    const t = batchNormReference(z, rows, features, w, b, rm, rv, training);
    const g = batchNormBackwardReference(t, rows, features, w, dy, training);
    const h = 1e-6;
    const fd = (f: (d: number) => number) => (f(h) - f(-h)) / (2 * h);
    for (let e = 0; e < rows * features; e++) {
      const d = fd((s) => loss(z.map((v, k) => k === e ? v + s : v), w, b));
      assert(Math.abs(d - g.dz[e]) < 1e-6, `dz[${e}] ${g.dz[e]} vs ${d} (training ${training})`);
    }
    for (let f = 0; f < features; f++) {
      const dw = fd((s) => loss(z, w.map((v, k) => k === f ? v + s : v), b));
      const db = fd((s) => loss(z, w, b.map((v, k) => k === f ? v + s : v)));
      assert(Math.abs(dw - g.dweight[f]) < 1e-6 && Math.abs(db - g.dbias[f]) < 1e-6, `dweight/dbias[${f}]`);
    }
  }
});

/** GPU vs float64 on a random model and batch, in `mode`; returns nothing, asserts within 1e-4. */
async function randomShape(
  inDim: number,
  outDim: number,
  batch: number,
  type: WaveletType,
  training: boolean,
) {
  const random = seededUniform(inDim * 131 + outDim * 7 + batch);
  const layer = new WavKAN(gpu, inDim, outDim, { waveletType: type, seed: batch });
  const dict = await layer.stateDict();
  dict["translation"].data = dict["translation"].data.map(() => random() - 0.5);
  dict["scale"].data = dict["scale"].data.map(() => 0.5 + random());
  dict["bn.running_var"].data = dict["bn.running_var"].data.map(() => 0.5 + random());
  layer.loadStateDict(dict);
  layer.train(training);
  const data = Float32Array.from({ length: batch * inDim }, () => random() * 4 - 2);
  const x = Tensor.from(gpu, data, [batch, inDim]);
  const trace = layer.trace(x);
  const ref = layer.reference(Object.fromEntries(Object.entries(dict).map(([k, e]) => [k, e.data])))
    .forward(data, batch);
  const what = `${type} ${batch}x${inDim}->${outDim} ${training ? "train" : "eval"}`;
  assertClose(`${what} y`, await trace.y.read(), ref.y, TOLERANCE, "max");
  const g = Float32Array.from({ length: batch * outDim }, () => random() - 0.5);
  const dy = Tensor.from(gpu, g, [batch, outDim]);
  const dx = trace.backward(dy, true)!;
  const rg = ref.backward(g);
  const grads = await layer.gradDict();
  for (const key of ["scale", "translation", "wavelet_weights", "bn.weight", "bn.bias"]) {
    assertClose(`${what} grad ${key}`, grads[key].data, rg.grads[key], TOLERANCE, "max");
  }
  assertClose(`${what} grad_x`, await dx.read(), rg.dx, TOLERANCE, "max");
  trace.release();
  for (const t of [x, dy, dx, trace.y]) t.dispose();
  layer.dispose();
}

Deno.test("wavkan: random shapes, GPU vs float64, train and eval, every wavelet", async () => {
  const shapes: [number, number, number][] = [[2, 1, 3], [7, 3, 5], [13, 17, 9], [40, 6, 33]];
  for (const [i, shape] of shapes.entries()) {
    await randomShape(...shape, WAVELET_TYPES[i % WAVELET_TYPES.length], i % 2 === 0);
    await randomShape(...shape, WAVELET_TYPES[(i + 2) % WAVELET_TYPES.length], i % 2 === 1);
  }
});

Deno.test("wavkan: a lowered loop-trip budget splits every edge kernel and the BatchNorm sums; same result", async () => {
  const saved = tripBudget.trips;
  tripBudget.trips = 60;
  try {
    const plan = edgePlan(waveletEdge("dog"), { batch: 70, inDim: 30, outDim: 25 });
    console.log(`  plan at 60 trips: ${JSON.stringify(plan)}`);
    assert(plan.partI < 30 && plan.chunkRows < 70 && plan.partO < 25, "every edge kernel is split");
    await randomShape(30, 25, 70, "dog", true);
    await randomShape(30, 25, 70, "meyer", false);
  } finally {
    tripBudget.trips = saved;
  }
});

Deno.test("wavkan: measured loop trips stay within a lowered budget (instrumented kernels)", async () => {
  const counted = await Gpu.request({ countLoopTrips: true });
  const saved = tripBudget.trips;
  tripBudget.trips = 200;
  try {
    const model = kan(counted, [20, 30, 4], { basis: "wavelet", waveletType: "morlet" });
    const random = seededUniform(9);
    const x = Tensor.from(counted, Float32Array.from({ length: 300 * 20 }, () => random() * 2 - 1), [
      300,
      20,
    ]);
    const y = Tensor.from(counted, Float32Array.from({ length: 300 * 4 }, random), [300, 4]);
    await counted.loopTrips(true);
    const optimizer = new Adam({ lr: 1e-3 });
    await model.fit({ x, y, loss: "mse", optimizer, steps: 1, progress: "none" });
    model.eval();
    await model.evaluate(x, y, "mse");
    const trips = await counted.loopTrips(true);
    const ours = Object.entries(trips).filter(([k]) => /edge|batch_norm/.test(k));
    console.log(`  ${ours.map(([k, v]) => `${k}: ${v}`).join(", ")}`);
    assert(ours.length >= 8, `edge and batch-norm kernels ran: ${ours.length}`);
    for (const [k, v] of ours) assert(v <= 200, `${k}: ${v} trips past the budget of 200`);
    optimizer.dispose();
    for (const t of [x, y]) t.dispose();
    model.dispose();
  } finally {
    tripBudget.trips = saved;
    counted.destroy();
  }
});

Deno.test("wavkan: kan() builds it, train()/eval() reach every layer, it is not fused, and it trains", async () => {
  const model = kan(gpu, [2, 6, 1], { basis: "wavelet", seed: 3 });
  assertEquals(Object.keys(await model.stateDict()), [
    ...["scale", "translation", "weight1", "wavelet_weights"].map((k) => `layers.0.${k}`),
    ...["weight", "bias", "running_mean", "running_var", "num_batches_tracked"].map((k) =>
      `layers.0.bn.${k}`
    ),
    ...["scale", "translation", "weight1", "wavelet_weights"].map((k) => `layers.1.${k}`),
    ...["weight", "bias", "running_mean", "running_var", "num_batches_tracked"].map((k) =>
      `layers.1.bn.${k}`
    ),
  ]);
  assertEquals(describeLayer(model.layers[0]), null);
  assert(model.eval() === model && model.layers.every((l) => !l.training), "eval reaches the layers");
  model.train();
  assert(model.layers.every((l) => l.training), "train reaches the layers");
  // Kaiming-uniform (a = sqrt(5)) bounds 1/sqrt(in) on wavelet_weights and weight1, as the original.
  const dict = await model.stateDict();
  for (const key of ["layers.0.wavelet_weights", "layers.0.weight1"]) {
    const m = Math.max(...dict[key].data.map(Math.abs));
    assert(m <= 1 / Math.sqrt(2) && m > 0.3, `${key} max ${m}`);
  }
  const weight1 = dict["layers.0.weight1"].data;
  const random = seededUniform(1);
  const xs = Float32Array.from({ length: 64 * 2 }, () => random() * 2 - 1);
  const ys = Float32Array.from({ length: 64 }, (_, r) => Math.sin(3 * xs[2 * r]) * xs[2 * r + 1]);
  const x = Tensor.from(gpu, xs, [64, 2]);
  const y = Tensor.from(gpu, ys, [64, 1]);
  const optimizer = new Adam({ lr: 1e-2 });
  const history = await model.fit({
    x,
    y,
    loss: "mse",
    optimizer,
    steps: 150,
    logEvery: 150,
    progress: "none",
  });
  const after = await model.stateDict();
  assertEquals(after["layers.0.weight1"].data, weight1); // never trained
  assertEquals(after["layers.0.bn.num_batches_tracked"].data[0], 150); // one per training forward
  const trainMode = (await model.evaluate(x, y, "mse")).loss; // batch statistics, and moves them
  const evalMode = (await model.eval().evaluate(x, y, "mse")).loss; // running statistics
  console.log(
    `  loss after 150 steps: ${history.loss.at(-1)}; evaluate in train mode ${trainMode}, eval ${evalMode}`,
  );
  assert(history.loss.at(-1)! < 0.05 && trainMode < 0.05, `trains: ${history.loss.at(-1)}`);
  assertEquals((await model.stateDict())["layers.1.bn.num_batches_tracked"].data[0], 151);
  // fit trains in training mode, validates in eval mode (no statistics move), and restores the mode it found.
  assert(!model.training);
  await model.fit({
    x,
    y,
    loss: "mse",
    optimizer,
    steps: 10,
    validation: { x, y },
    validateEvery: 5,
    progress: "none",
  });
  assert(!model.training && model.layers.every((l) => !l.training), "fit restores eval mode");
  assertEquals((await model.stateDict())["layers.1.bn.num_batches_tracked"].data[0], 161);
  optimizer.dispose();
  for (const t of [x, y]) t.dispose();
  model.dispose();
});

/** Asserts `fn` throws a KanError whose message names `what`. */
function expectKanError(fn: () => unknown, what: string): void {
  const error = assertThrows(fn, KanError);
  assert(error.message.includes(what), `message names ${what}: ${error.message}`);
  console.log(`  ${error.message}`);
}

Deno.test("wavkan: bad input is a KanError naming what was wrong", async () => {
  const layer = new WavKAN(gpu, 2, 3);
  expectKanError(() => new WavKAN(gpu, 2, 3, { waveletType: "haar" as WaveletType }), "waveletType");
  expectKanError(() => new WavKAN(gpu, 2, 3, { gridSize: 5 } as object), "gridSize");
  expectKanError(() => layer.train("yes" as unknown as boolean), "mode");
  const one = Tensor.from(gpu, [0.1, 0.2], [1, 2]);
  expectKanError(() => layer.forward(one), "more than 1 row");
  layer.eval();
  layer.forward(one).dispose(); // eval mode takes one row
  const dict = await layer.stateDict();
  const before = dict["scale"].data.slice();
  dict["scale"].data = new Float32Array(6).fill(2);
  dict["scale"].data[4] = 0;
  expectKanError(() => layer.loadStateDict(dict), "scale");
  dict["scale"].data[4] = 1;
  dict["bn.running_var"].data[1] = -1;
  expectKanError(() => layer.loadStateDict(dict), "running_var");
  assertEquals((await layer.stateDict())["scale"].data, before); // a refused load changed nothing
  one.dispose();
  layer.dispose();
});

Deno.test("wavkan teardown: nothing left live", () => {
  assertEquals(gpu.stats().liveBuffers, 0);
  gpu.destroy();
});
