/**
 * One buffer for all of a model's parameters (and one for their gradients),
 * so that an optimizer step is one dispatch over it, zeroing the gradients one
 * clear, and a state dict one readback. Parameters that shared a block (a
 * ReLU-KAN layer's `phase_low` and `phase_height`, which its kernels bind as
 * one range) stay together; each group starts at an offset the device can
 * bind (`minStorageBufferOffsetAlignment`), the gaps filled with zeros, which
 * every optimizer leaves at zero.
 *
 * @module
 */

import type { Gpu } from "../gpu/gpu.ts";
import { Tensor } from "../tensor.ts";
import { type Parameter, ParameterBlock } from "./parameter.ts";

/**
 * Moves `parameters` into one new block (values and, where they exist,
 * gradients, copied on the GPU) and disposes each block they leave empty. A
 * block that other parameters still view (a layer shared with another model)
 * stays theirs. Nothing happens when the parameters already share one block.
 *
 * @example
 * ```ts
 * import { Gpu, Linear } from "../../mod.ts";
 * import { flattenParameters } from "./flat_parameters.ts";
 * const gpu = await Gpu.request();
 * const layer = new Linear(gpu, 3, 2);
 * flattenParameters(gpu, layer.parameters());
 * console.log(new Set(layer.parameters().map((p) => p.block)).size); // 1
 * gpu.destroy();
 * ```
 */
export function flattenParameters(gpu: Gpu, parameters: readonly Parameter[]): void {
  const groups = new Map<ParameterBlock, Parameter[]>();
  for (const p of new Set(parameters)) {
    const group = groups.get(p.block);
    if (group) group.push(p);
    else groups.set(p.block, [p]);
  }
  if (groups.size <= 1) return;
  const align = Math.max(1, gpu.device.limits.minStorageBufferOffsetAlignment / 4);
  // Each group keeps its layout: the span from its first parameter to the end of its last.
  const spans = new Map<ParameterBlock, { from: number; to: number; start: number }>();
  let size = 0;
  for (const [block, group] of groups) {
    const from = Math.min(...group.map((p) => p.offset));
    const to = Math.max(...group.map((p) => p.offset + p.size));
    size = Math.ceil(size / align) * align;
    spans.set(block, { from, to, start: size });
    size += to - from;
  }
  const flat = new ParameterBlock(gpu, Tensor.zeros(gpu, [size]));
  // Gradients that exist carry over (the flat gradient starts as zeros).
  const grad = [...groups.keys()].some((block) => block.hasGrad) ? flat.grad : null;
  for (const [block, { from, to, start }] of spans) {
    const bytes = (to - from) * 4;
    if (bytes === 0) continue;
    gpu.copy(block.value.buffer, from * 4, flat.value.buffer, start * 4, bytes);
    if (grad && block.hasGrad) gpu.copy(block.grad.buffer, from * 4, grad.buffer, start * 4, bytes);
  }
  for (const [block, group] of groups) {
    const { from, start } = spans.get(block)!;
    for (const p of group) p.relocate(flat, start + p.offset - from);
    if (block.views.size === 0) block.dispose();
  }
}
