/**
 * `BSplineKAN.setEdgeMask`, as pykan's `mask`: a masked edge contributes
 * nothing, its base weight and scaler are zeroed and get no gradient, so
 * training (Adam, weight decay included) leaves them at zero; the other
 * edges' values and gradients equal the float64 reference's.
 */

import { Adam, attribute, BSplineKAN, kan, KanError, Sequential, SGD, Tensor } from "../mod.ts";
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { assertClose, seededUniform, testGpu } from "./helpers.ts";

const gpu = await testGpu();
const ROWS = 24;
const [IN, OUT] = [3, 2];
const MASK = [1, 0, 1, 0, 1, 1];

function data(seed: number, n: number): Float32Array {
  const random = seededUniform(seed);
  return Float32Array.from({ length: n }, () => 1.8 * random() - 0.9);
}

function asState(dict: Record<string, { data: Float32Array }>): Record<string, Float32Array> {
  return Object.fromEntries(Object.entries(dict).map(([k, e]) => [k, e.data]));
}

Deno.test("edge mask: output and gradients equal the float64 reference, masked edges get no gradient", async () => {
  const layer = new BSplineKAN(gpu, IN, OUT, { bias: true, seed: 3, scaleNoise: 0.5 });
  layer.setEdgeMask(MASK);
  assertEquals([...layer.edgeMask!], MASK);
  const state = asState(await layer.stateDict());
  for (let e = 0; e < MASK.length; e++) {
    if (MASK[e] === 0) {
      assert(state.spline_scaler[e] === 0, `scaler of masked edge ${e} is zero`);
      assert(state.base_weight[e] === 0, `base weight of masked edge ${e} is zero`);
    } else {
      assert(state.spline_scaler[e] !== 0 && state.base_weight[e] !== 0, `edge ${e} kept its weights`);
    }
  }
  const xs = data(1, ROWS * IN);
  const dys = data(2, ROWS * OUT);
  const x = Tensor.from(gpu, xs, [ROWS, IN]);
  const dy = Tensor.from(gpu, dys, [ROWS, OUT]);
  const trace = layer.trace(x);
  layer.zeroGrad();
  const dx = trace.backward(dy, true)!;
  const ref = layer.reference(state).forward(xs, ROWS);
  assertClose("y", await trace.y.read(), ref.y, 2e-5);
  const expected = ref.backward(dys);
  assertClose("dx", await dx.read(), expected.dx, 2e-5);
  const grads = asState(await layer.gradDict());
  for (const name of ["base_weight", "spline_scaler"]) {
    const want = expected.grads[name].map((v, e) => MASK[e] === 0 ? 0 : v);
    assert(
      expected.grads[name].some((v, e) => MASK[e] === 0 && Math.abs(v) > 1e-3),
      `${name}: unmasked grad`,
    );
    assertClose(name, grads[name], want, 2e-5);
  }
  assertClose("spline_weight", grads.spline_weight, expected.grads.spline_weight, 2e-5);
  assertClose("bias", grads.bias, expected.grads.bias, 2e-5);
  for (const t of [x, dy, dx, trace.y]) t.dispose();
  trace.release();
  layer.dispose();
});

Deno.test("edge mask: 20 Adam steps with weight decay keep masked edges at exactly zero, the rest train", async () => {
  const model = kan(gpu, [IN, OUT], { basis: "bspline", seed: 5 });
  const layer = model.layers[0] as BSplineKAN;
  layer.setEdgeMask(MASK);
  const before = asState(await model.stateDict());
  const x = Tensor.from(gpu, data(3, ROWS * IN), [ROWS, IN]);
  const y = Tensor.from(gpu, data(4, ROWS * OUT), [ROWS, OUT]);
  const optimizer = new Adam({ lr: 1e-2, weightDecay: 1e-2 });
  const history = await model.fit({
    x,
    y,
    loss: "mse",
    optimizer,
    steps: 20,
    progress: "none",
  });
  assert(history.loss.at(-1)! < history.loss[0], "the loss falls");
  const after = asState(await model.stateDict());
  for (const name of ["layers.0.base_weight", "layers.0.spline_scaler"]) {
    for (let e = 0; e < MASK.length; e++) {
      if (MASK[e] === 0) assert(after[name][e] === 0, `${name}[${e}] stays zero, got ${after[name][e]}`);
      else assert(after[name][e] !== before[name][e], `${name}[${e}] trains`);
    }
  }
  layer.setEdgeMask(null);
  assertEquals(layer.edgeMask, null);
  x.dispose();
  y.dispose();
  optimizer.dispose();
  model.dispose();
});

Deno.test("edge mask: a state dict loaded into a masked layer stays masked (weights, scores, regularized training)", async () => {
  const model = kan(gpu, [IN, OUT], { basis: "bspline", seed: 6 });
  const layer = model.layers[0] as BSplineKAN;
  const unmasked = await model.stateDict();
  layer.setEdgeMask(MASK);
  model.loadStateDict(unmasked); // non-zero weights on the masked edges
  const loaded = asState(await model.stateDict());
  for (const name of ["layers.0.base_weight", "layers.0.spline_scaler"]) {
    for (let e = 0; e < MASK.length; e++) {
      if (MASK[e] === 0) assert(loaded[name][e] === 0, `${name}[${e}] is zero again after the load`);
    }
  }
  const x = Tensor.from(gpu, data(9, ROWS * IN), [ROWS, IN]);
  const y = Tensor.from(gpu, data(10, ROWS * OUT), [ROWS, OUT]);
  const scores = await attribute(model, x);
  MASK.forEach((m, e) => m === 0 && assertEquals(scores.edgeScores[0][e], 0, `score of masked edge ${e}`));
  const optimizer = new SGD({ lr: 0.1 });
  await model.fit({ x, y, loss: "mse", optimizer, steps: 3, progress: "none", lamb: 1 });
  const after = asState(await model.stateDict());
  MASK.forEach((m, e) => {
    if (m === 0) assert(after["layers.0.base_weight"][e] === 0, `base_weight[${e}] stays zero under lamb`);
  });
  for (const t of [x, y]) t.dispose();
  optimizer.dispose();
  model.dispose();
});

Deno.test("edge mask: a wrong length or a value other than 0/1 is a KanError and changes nothing", async () => {
  const layer = new BSplineKAN(gpu, IN, OUT, { seed: 1 });
  const before = await layer.stateDict();
  assertThrows(() => layer.setEdgeMask([1, 0]), /6 values, got 2/);
  assertThrows(
    () => layer.setEdgeMask([1, 0, 1, 0.5, 1, 1]),
    /mask\[3\] \(output 1, input 0\) must be 0 or 1/,
  );
  assertThrows(() => layer.setEdgeMask("101" as never), KanError);
  assertEquals(layer.edgeMask, null);
  const after = await layer.stateDict();
  assertEquals([...after.spline_scaler.data], [...before.spline_scaler.data]);
  const model = new Sequential([layer]);
  model.dispose();
});

Deno.test("edge mask: no GPU buffer left", () => {
  assertEquals(gpu.stats().liveBuffers, 0);
  gpu.destroy();
});
