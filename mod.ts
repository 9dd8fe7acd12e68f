/**
 * Kolmogorov–Arnold Networks (KAN, FastKAN, FasterKAN, ReLU-KAN) and an MLP
 * baseline, trained and run on the GPU through the WebGPU built into Deno,
 * with WGSL compute kernels.
 *
 * @example
 * ```ts
 * import { Gpu, Tensor } from "./mod.ts";
 * const gpu = await Gpu.request();
 * console.log(gpu.adapterInfo.description);
 * const x = Tensor.from(gpu, [1, 2, 3, 4], [2, 2]);
 * console.log(await x.read());
 * console.log(gpu.stats());
 * gpu.destroy();
 * ```
 *
 * @module
 */

export { KanError } from "./src/errors.ts";
export { Gpu, type GpuAdapterInfo, type GpuRequestOptions, type GpuStats } from "./src/gpu/gpu.ts";
export type { BindingKind, Kernel, KernelSpec } from "./src/gpu/kernel.ts";
export type { BufferRange, Workgroups } from "./src/gpu/recorder.ts";
export { linearGrid, packParams } from "./src/gpu/params.ts";
export { Tensor } from "./src/tensor.ts";
export { axpy } from "./src/ops/axpy.ts";
