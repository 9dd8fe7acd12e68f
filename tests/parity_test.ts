/**
 * Parity with the PyTorch originals (tests/testdata/parity, see its README):
 * load each vector's state, run its x, compare y; backpropagate the MSE loss
 * against its target and compare the gradient of every trainable entry and of
 * the input. Tolerance: 1e-4 relative to the largest magnitude of each tensor.
 * The float64 reference is held to the same vectors.
 */

import { assert, assertEquals } from "./assert.ts";
import { testGpu } from "./helpers.ts";
import { assertMatchesVector, buildModel, parityFiles as files, readVector } from "./vectors.ts";

const TOLERANCE = 1e-4;
const gpu = await testGpu();

Deno.test("parity: all eight reference vectors are present", () => {
  assertEquals(files.length, 8);
});

for (const file of files) {
  Deno.test(`parity ${file}: y, every gradient and grad_x equal PyTorch's (1e-4 relative to the max)`, async () => {
    const v = await readVector(file);
    const model = buildModel(gpu, v);
    const loss = v.y.data.reduce((s, y, i) => s + (y - v.target.data[i]) ** 2, 0) / v.y.data.length;
    assert(Math.abs(loss - v.loss_mse) <= 1e-5 * v.loss_mse, `loss_mse ${loss} vs ${v.loss_mse}`);
    // The GPU, then the float64 reference from the same state, against the same vector.
    await assertMatchesVector(gpu, model, v, TOLERANCE);
    model.dispose();
  });
}

Deno.test("parity teardown: nothing left live", () => {
  assertEquals(gpu.stats().liveBuffers, 0);
  gpu.destroy();
});
