/**
 * The runtime's fixed costs. One iteration of "readback" is one GPU→CPU wait
 * (Deno's floor is about 11 ms); one iteration of "1000 axpy" records 1,000
 * axpy kernels over 4,096 floats into one submit and waits once, so it
 * measures the per-dispatch recording cost plus that one wait.
 */

import { axpy, Gpu, Tensor } from "../mod.ts";

const gpu = await Gpu.request();
const x = Tensor.from(gpu, new Float32Array(4096).fill(1), [4096]);
const y = Tensor.zeros(gpu, [4096]);

Deno.bench("readback of 4 bytes (one GPU→CPU wait)", { group: "runtime", baseline: true }, async () => {
  await gpu.read(y.buffer, 0, 4);
});

Deno.bench("1000 axpy dispatches, one submit, one wait", { group: "runtime" }, async () => {
  for (let i = 0; i < 1000; i++) axpy(1e-3, x, y);
  await gpu.read(y.buffer, 0, 4);
});
