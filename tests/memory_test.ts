/**
 * The basis tensor is never materialized: one forward and backward of
 * BSplineKAN(784 → 64, G=5, k=3) on a batch of 4,096 keeps the GPU memory the
 * module ever held under 64 MiB, where the [4096, 784, 8] basis tensor alone
 * would take 103 MB (and its gradient as much again).
 */

import { BSplineKAN, Gpu, Tensor } from "../mod.ts";
import { assert, assertEquals } from "./assert.ts";
import { seededUniform } from "./helpers.ts";

Deno.test("memory: BSplineKAN 784→64, batch 4,096, forward + backward peaks under 64 MiB", async () => {
  const gpu = await Gpu.request(); // a fresh device: the peak is this test's alone
  const batch = 4096;
  const layer = new BSplineKAN(gpu, 784, 64);
  const random = seededUniform(5);
  const x = Tensor.from(gpu, Float32Array.from({ length: batch * 784 }, () => random() * 2 - 1), [
    batch,
    784,
  ]);
  const dy = Tensor.from(gpu, Float32Array.from({ length: batch * 64 }, () => random() - 0.5), [batch, 64]);
  const trace = layer.trace(x);
  const dx = trace.backward(dy, true)!;
  const g = await dx.read();
  const stats = gpu.stats();
  const basisTensorBytes = batch * 784 * layer.basis.count * 4;
  console.log(
    `  peak ${(stats.peakBytes / 2 ** 20).toFixed(1)} MiB; a materialized basis tensor alone: ${
      (basisTensorBytes / 1e6).toFixed(0)
    } MB; readbacks ${stats.readbacks}`,
  );
  assertEquals(basisTensorBytes, 102_760_448);
  assert(stats.peakBytes < 64 * 2 ** 20, `peak ${stats.peakBytes} bytes is not under 64 MiB`);
  assert(g.some((v) => v !== 0) && g.every(Number.isFinite), "the input gradient is real");
  gpu.destroy();
});
