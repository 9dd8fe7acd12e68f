/**
 * `deno task gpu-info`: prints the adapter this module would use and times an
 * upload, a recorded batch of kernels and a readback on it.
 *
 * @module
 */

import { Gpu, Tensor } from "../../mod.ts";
import { axpy } from "../../kernels.ts";
import { parseFlags, runCommand } from "./flags.ts";

/** Prints the adapter and the timings; `--help` says what it does. */
export async function gpuInfoCommand(
  args: string[],
  log: (line: string) => void = console.log,
): Promise<void> {
  if (parseFlags(args, {}).help) {
    log(
      "Usage: deno task gpu-info\n  Prints the WebGPU adapter this module uses and times a batch of kernels on it.",
    );
    return;
  }
  const gpu = await Gpu.request();
  try {
    const info = gpu.adapterInfo;
    log(`adapter: ${info.description} (vendor ${info.vendor}, fallback ${info.isFallbackAdapter})`);
    log(`features: ${[...gpu.features].join(", ") || "none of timestamp-query, shader-f16"}`);
    const n = 1 << 20;
    const x = Tensor.from(gpu, new Float32Array(n).fill(1), [n]);
    const y = Tensor.zeros(gpu, [n]);
    const start = performance.now();
    for (let i = 0; i < 100; i++) axpy(0.5, x, y);
    const out = await y.read();
    const ms = performance.now() - start;
    log(
      `100 axpy kernels over ${n} floats in one submit: ${ms.toFixed(1)} ms, y[0] = ${out[0]} (expected 50)`,
    );
    log(`stats: ${JSON.stringify(gpu.stats())}`);
  } finally {
    gpu.destroy();
  }
}

if (import.meta.main) await runCommand(gpuInfoCommand);
