/**
 * Packing of kernel parameter structs and the workgroup grid of 1-D kernels.
 *
 * @module
 */

import { KanError } from "../errors.ts";

/**
 * Packs scalars into the bytes of a WGSL struct of 4-byte fields.
 * `layout` has one letter per field: `u` (u32), `i` (i32), `f` (f32).
 *
 * @example
 * ```ts
 * import { packParams } from "./params.ts";
 * const bytes = packParams("uf", 10, 0.5); // struct { n: u32, alpha: f32 }
 * console.log(bytes.byteLength); // 8
 * ```
 */
export function packParams(layout: string, ...values: number[]): Uint8Array {
  if (layout.length !== values.length) {
    throw new KanError(
      `packParams: layout "${layout}" has ${layout.length} fields, got ${values.length} values`,
    );
  }
  const view = new DataView(new ArrayBuffer(layout.length * 4));
  for (let i = 0; i < layout.length; i++) {
    const v = values[i];
    switch (layout[i]) {
      case "u":
        view.setUint32(i * 4, v, true);
        break;
      case "i":
        view.setInt32(i * 4, v, true);
        break;
      case "f":
        view.setFloat32(i * 4, v, true);
        break;
      default:
        throw new KanError(`packParams: unknown field type "${layout[i]}" in "${layout}"`);
    }
  }
  return new Uint8Array(view.buffer);
}

/** Largest workgroup count of one dimension that every WebGPU device accepts. */
export const MAX_WORKGROUPS_PER_DIMENSION = 65535;

/**
 * Workgroup counts covering `count` items with `size` threads per workgroup,
 * spilling into y past 65,535 workgroups. The kernel's index is
 * `gid.x + gid.y * num_workgroups.x * size`, and it must bounds-check.
 *
 * @example
 * ```ts
 * import { linearGrid } from "./params.ts";
 * console.log(linearGrid(1000, 256)); // [4, 1]
 * console.log(linearGrid(20_000_000, 256)); // [65535, 2]
 * ```
 */
export function linearGrid(count: number, size: number): [number, number] {
  const groups = Math.ceil(count / size);
  if (groups <= MAX_WORKGROUPS_PER_DIMENSION) return [groups, 1];
  const y = Math.ceil(groups / MAX_WORKGROUPS_PER_DIMENSION);
  return [Math.ceil(groups / y), y];
}
