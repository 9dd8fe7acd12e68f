/**
 * `deno task gpu-info`: prints the adapter this module would use and times an
 * upload, a recorded batch of kernels and a readback on it.
 *
 * @module
 */

import { axpy, Gpu, Tensor } from "../../mod.ts";

if (import.meta.main) {
  const gpu = await Gpu.request();
  const info = gpu.adapterInfo;
  console.log(`adapter: ${info.description} (vendor ${info.vendor}, fallback ${info.isFallbackAdapter})`);
  console.log(`features: ${[...gpu.features].join(", ") || "none of timestamp-query, shader-f16"}`);
  const n = 1 << 20;
  const x = Tensor.from(gpu, new Float32Array(n).fill(1), [n]);
  const y = Tensor.zeros(gpu, [n]);
  const start = performance.now();
  for (let i = 0; i < 100; i++) axpy(0.5, x, y);
  const out = await y.read();
  const ms = performance.now() - start;
  console.log(
    `100 axpy kernels over ${n} floats in one submit: ${ms.toFixed(1)} ms, y[0] = ${out[0]} (expected 50)`,
  );
  console.log("stats:", gpu.stats());
  gpu.destroy();
}
