/**
 * The elementwise activations of `Linear` on the GPU.
 *
 * @module
 */

import type { Gpu } from "../gpu/gpu.ts";
import { KernelSpecs } from "../gpu/kernel.ts";
import { linearGrid } from "../gpu/params.ts";
import type { BufferRange } from "../gpu/recorder.ts";
import type { Activation } from "./reference_ops.ts";
import kernelSource from "../../shaders/activation.wgsl" with { type: "text" };
import functionSource from "../../shaders/activation_fn.wgsl" with { type: "text" };

const WG = 256;
const source = `${functionSource}\n${kernelSource}`;
const specs = new KernelSpecs();
/** The `ACT` code of each activation in activation_fn.wgsl. */
export const ACTIVATION_CODES: Record<Exclude<Activation, "none">, number> = { silu: 0, relu: 1, tanh: 2 };

function dispatch(
  gpu: Gpu,
  kind: Exclude<Activation, "none">,
  entryPoint: string,
  n: number,
  z: BufferRange,
  dy: BufferRange,
  out: BufferRange,
): void {
  const spec = specs.get(`${kind}.${entryPoint}`, () => ({
    name: `activation.${kind}.${entryPoint}`,
    source,
    entryPoint,
    bindings: ["uniform", "read", "read", "storage"],
    constants: { ACT: ACTIVATION_CODES[kind], WG },
  }));
  gpu.dispatch(gpu.kernel(spec), { layout: "u", values: [n] }, [z, dy, out], linearGrid(n, WG));
}

/** Records `out = act(z)` over `n` elements. */
export function activationForward(
  gpu: Gpu,
  kind: Exclude<Activation, "none">,
  n: number,
  z: BufferRange,
  out: BufferRange,
): void {
  dispatch(gpu, kind, "forward", n, z, gpu.placeholder(0), out);
}

/** Records `dz = dy * act'(z)` over `n` elements. */
export function activationBackward(
  gpu: Gpu,
  kind: Exclude<Activation, "none">,
  n: number,
  z: BufferRange,
  dy: BufferRange,
  dz: BufferRange,
): void {
  dispatch(gpu, kind, "backward", n, z, dy, dz);
}
