/**
 * Parity with the PyTorch originals (tests/testdata/parity, see its README):
 * load each vector's state, run its x, compare y; backpropagate the MSE loss
 * against its target and compare the gradient of every trainable entry and of
 * the input. Tolerance: 1e-4 relative to the largest magnitude of each tensor.
 * The float64 reference is held to the same vectors.
 */

import { Tensor } from "../mod.ts";
import { assert, assertEquals } from "./assert.ts";
import { assertClose, testGpu } from "./helpers.ts";
import { buildModel, parityFiles as files, type ParityVector, readVector, stateArrays } from "./vectors.ts";

const TOLERANCE = 1e-4;
const gpu = await testGpu();

/** dL/dy of mean((y - target)^2), from the reference's own y. */
function mseGradient(v: ParityVector): Float64Array {
  const n = v.y.data.length;
  return Float64Array.from(v.y.data, (y, i) => 2 * (y - v.target.data[i]) / n);
}

Deno.test("parity: all eight reference vectors are present", () => {
  assertEquals(files.length, 8);
});

for (const file of files) {
  Deno.test(`parity ${file}: y, every gradient and grad_x equal PyTorch's (1e-4 relative to the max)`, async () => {
    const v = await readVector(file);
    const model = buildModel(gpu, v);
    const x = Tensor.from(gpu, v.x.data, v.x.shape);
    const trace = model.trace(x);
    assertClose(`${v.name} y`, await trace.y.read(), v.y.data, TOLERANCE, "max");
    const loss = v.y.data.reduce((s, y, i) => s + (y - v.target.data[i]) ** 2, 0) / v.y.data.length;
    assert(Math.abs(loss - v.loss_mse) <= 1e-5 * v.loss_mse, `loss_mse ${loss} vs ${v.loss_mse}`);

    const dy = Tensor.from(gpu, mseGradient(v), v.y.shape);
    const dx = trace.backward(dy, true)!;
    const grads = await model.gradDict();
    assertEquals(Object.keys(grads).sort(), Object.keys(v.grad).sort());
    for (const [key, want] of Object.entries(v.grad)) {
      assertEquals(grads[key].shape, want.shape);
      assertClose(`${v.name} grad ${key}`, grads[key].data, want.data, TOLERANCE, "max");
    }
    assertClose(`${v.name} grad_x`, await dx.read(), v.grad_x.data, TOLERANCE, "max");

    // The float64 reference, from the same state, against the same vector.
    const ref = model.reference(stateArrays(v));
    const rt = ref.forward(v.x.data, v.x.shape[0]);
    assertClose(`${v.name} reference y`, rt.y, v.y.data, TOLERANCE, "max");
    const rg = rt.backward(mseGradient(v));
    for (const [key, want] of Object.entries(v.grad)) {
      assertClose(`${v.name} reference grad ${key}`, rg.grads[key], want.data, TOLERANCE, "max");
    }
    assertClose(`${v.name} reference grad_x`, rg.dx, v.grad_x.data, TOLERANCE, "max");

    trace.release();
    for (const t of [trace.y, x, dy, dx]) t.dispose();
    model.dispose();
  });
}

Deno.test("parity teardown: nothing left live", () => {
  assertEquals(gpu.stats().liveBuffers, 0);
  gpu.destroy();
});
