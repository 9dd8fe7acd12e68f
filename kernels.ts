/**
 * What a kernel writer needs beyond the user's API of `mod.ts`: kernel specs
 * and dispatch, parameter packing, buffer ranges and the pool, the basis
 * interface every layer kernel reads, the traces and float64 references of
 * layers, parameter blocks and the fused step's partial gradients.
 *
 * @example
 * ```ts
 * import { Gpu, Tensor } from "./mod.ts";
 * import { axpy } from "./kernels.ts";
 * const gpu = await Gpu.request();
 * const x = Tensor.from(gpu, [1, 2, 3], [3]);
 * const y = Tensor.from(gpu, [10, 20, 30], [3]);
 * axpy(2, x, y); // y += 2 x, one dispatch
 * console.log(await y.read()); // Float32Array [12, 24, 36]
 * gpu.destroy();
 * ```
 *
 * The Gpu's kernel methods (`gpu.kernel(spec)`, `gpu.compile(spec)`,
 * `gpu.dispatch(kernel, params, buffers, workgroups)`, `gpu.pool`) are for
 * kernel writers and documented in `src/gpu/gpu.ts`. This entry point also
 * exports everything `mod.ts` does.
 *
 * @module
 */

export * from "./mod.ts";

export type { BindingKind, Kernel, KernelSpec } from "./src/gpu/kernel.ts";
export type { ParamValues, WorkCounters, Workgroups } from "./src/gpu/recorder.ts";
export { BufferPool, type PoolStats } from "./src/gpu/buffer_pool.ts";
export { linearGrid, packParams } from "./src/gpu/params.ts";
export { axpy } from "./src/ops/axpy.ts";
export { ParameterBlock } from "./src/layers/parameter.ts";
export { NormalizedBasisLayer, type NormalizedBasisParameters } from "./src/layers/normalized_basis_layer.ts";
export { clipGradNormReference, GradNormClipper } from "./src/train/clip_grad_norm.ts";
export { CoefficientLayer } from "./src/layers/coefficient_layer.ts";
export { chebyshevBasis } from "./src/basis/chebyshev.ts";
export { jacobiBasis, jacobiPolynomial } from "./src/basis/jacobi.ts";
export { fourierBasis } from "./src/basis/fourier.ts";
export type { LayerDims } from "./src/layers/split_plan.ts";
export { psi, WAVELET_TYPES, waveletEdge } from "./src/basis/wavelet.ts";
export type { EdgePlan } from "./src/layers/edge_linear.ts";
export { BATCH_NORM_EPS, BATCH_NORM_MOMENTUM, type BatchNormTrace } from "./src/layers/batch_norm.ts";
export {
  addRegularization,
  recordRegularization,
  type RegularizationRecord,
  type RegularizationTarget,
} from "./src/interpret/regularization.ts";
export { type RegularizationReference, regularizationReference } from "./src/interpret/reg_reference.ts";
export { symbolicEdge, symbolicFunctionIndex } from "./src/basis/symbolic_edge.ts";
