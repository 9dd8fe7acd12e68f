/**
 * `y += alpha * x` on the GPU.
 *
 * @module
 */

import { formatShape, KanError } from "../errors.ts";
import type { KernelSpec } from "../gpu/kernel.ts";
import { linearGrid } from "../gpu/params.ts";
import type { Tensor } from "../tensor.ts";
import { check, checkIsTensor, checkTensor, FINITE } from "../validate.ts";
import source from "../../shaders/axpy.wgsl" with { type: "text" };

const WORKGROUP = 256;

const SPEC: KernelSpec = {
  name: "axpy",
  source,
  bindings: ["uniform", "read", "storage"],
  constants: { WG: WORKGROUP },
};

/**
 * Records `y[i] += alpha * x[i]` for every element (in place on `y`).
 *
 * @example
 * ```ts
 * import { Gpu, Tensor } from "../../mod.ts";
 * import { axpy } from "./axpy.ts";
 * const gpu = await Gpu.request();
 * const x = Tensor.from(gpu, [1, 2], [2]);
 * const y = Tensor.from(gpu, [10, 20], [2]);
 * axpy(2, x, y);
 * console.log(await y.read()); // Float32Array(2) [12, 24]
 * gpu.destroy();
 * ```
 */
export function axpy(alpha: number, x: Tensor, y: Tensor): void {
  const gpu = checkIsTensor("axpy: y", y).gpu;
  checkTensor("axpy: y", y, gpu);
  checkTensor("axpy: x", x, gpu);
  check("axpy: alpha", alpha, FINITE);
  if (x.size !== y.size) {
    throw new KanError(`axpy: x has shape ${formatShape(x.shape)} but y has ${formatShape(y.shape)}`);
  }
  gpu.dispatch(
    gpu.kernel(SPEC),
    { layout: "uf", values: [y.size, alpha] },
    [x.binding, y.binding],
    linearGrid(y.size, WORKGROUP),
  );
}
