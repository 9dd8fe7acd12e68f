/**
 * efficient-kan's standalone spline scaler on the GPU:
 * `w_eff[o, i, j] = spline_weight[o, i, j] * spline_scaler[o, i]` and its gradients.
 *
 * @module
 */

import type { Gpu } from "../gpu/gpu.ts";
import { type Kernel, KernelSpecs } from "../gpu/kernel.ts";
import { linearGrid } from "../gpu/params.ts";
import type { BufferRange } from "../gpu/recorder.ts";
import source from "../../shaders/spline_scale.wgsl" with { type: "text" };

const WG = 256;

const specs = new KernelSpecs();

function kernel(gpu: Gpu, entryPoint: string): Kernel {
  return gpu.kernel(specs.get(entryPoint, () => ({
    name: `spline_scale.${entryPoint}`,
    source,
    entryPoint,
    bindings: ["uniform", "read", "read", "read", "storage", "storage"],
    constants: { WG },
  })));
}

/** Records `out = w * s` broadcast over the `nb` bases of each of the `rows = out * in` rows. */
export function splineScaleForward(
  gpu: Gpu,
  rows: number,
  nb: number,
  w: BufferRange,
  s: BufferRange,
  out: BufferRange,
): void {
  gpu.dispatch(kernel(gpu, "forward"), { layout: "uu", values: [rows, nb] }, [
    w,
    s,
    gpu.placeholder(0),
    out,
    gpu.placeholder(1),
  ], linearGrid(rows * nb, WG));
}

/**
 * Records the gradients from `g = dL/dw_eff`: `dw += g * s` when `dw` is
 * given, `ds[r] += sum_j g[r, j] * w[r, j]` when `ds` is given.
 */
export function splineScaleBackward(
  gpu: Gpu,
  rows: number,
  nb: number,
  w: BufferRange,
  s: BufferRange,
  g: BufferRange,
  dw: BufferRange | null,
  ds: BufferRange | null,
): void {
  const params = { layout: "uu", values: [rows, nb] };
  if (dw) {
    gpu.dispatch(
      kernel(gpu, "backward_weight"),
      params,
      [w, s, g, dw, gpu.placeholder(1)],
      linearGrid(rows * nb, WG),
    );
  }
  if (ds) {
    gpu.dispatch(
      kernel(gpu, "backward_scaler"),
      params,
      [w, s, g, gpu.placeholder(0), ds],
      linearGrid(rows, WG),
    );
  }
}
