/**
 * Bind groups made once per (kernel, buffers) and reused: creating one costs
 * about 12 µs in Deno, setting an existing one about 1 µs. A kernel's
 * parameters come from the uniform arena through a dynamic offset, so the
 * same group serves every dispatch of a kernel on the same buffers. Groups of
 * a destroyed buffer are dropped with it (buffers returned to the pool and
 * reused stay valid: the group names the buffer, not its contents).
 *
 * @module
 */

import type { Kernel } from "./kernel.ts";
import type { BufferRange } from "./recorder.ts";
import { PARAM_BINDING_BYTES } from "./uniform_arena.ts";

/** The most groups kept; past it the cache starts over. */
const MAX_GROUPS = 8192;

interface Entry {
  /** What the group binds: kernel id, uniform buffer id (0 for none), then id, offset, size per buffer. */
  key: number[];
  group: GPUBindGroup;
}

/** The bind groups of one device; see the module doc. */
export class BindGroupCache {
  #device: GPUDevice;
  #groups = new Map<number, Entry[]>();
  #count = 0;
  #ids = new WeakMap<GPUBuffer, number>();
  #nextId = 1;
  #key: number[] = [];

  /** A cache on `device`. */
  constructor(device: GPUDevice) {
    this.#device = device;
  }

  /** How many groups are cached. */
  get size(): number {
    return this.#count;
  }

  #id(buffer: GPUBuffer): number {
    let id = this.#ids.get(buffer);
    if (id === undefined) {
      id = this.#nextId++;
      this.#ids.set(buffer, id);
    }
    return id;
  }

  /**
   * The group binding `uniform` (the arena chunk, when the kernel has
   * parameters) and then `buffers` to `kernel`'s bindings. Looked up by a
   * hash of the numbers that identify them, checked in full, with no string
   * built (this runs for every dispatch).
   */
  get(kernel: Kernel, uniform: GPUBuffer | null, buffers: readonly BufferRange[]): GPUBindGroup {
    const key = this.#key;
    key.length = 0;
    key.push(kernel.id, uniform ? this.#id(uniform) : 0);
    for (let i = 0; i < buffers.length; i++) {
      const range = buffers[i];
      key.push(this.#id(range.buffer), range.offset ?? 0, range.size ?? -1);
    }
    let hash = 0;
    for (let i = 0; i < key.length; i++) hash = (Math.imul(hash, 31) + key[i]) | 0;
    const bucket = this.#groups.get(hash);
    if (bucket) {
      for (const entry of bucket) if (sameKey(entry.key, key)) return entry.group;
    }
    const entries: GPUBindGroupEntry[] = [];
    if (uniform) {
      entries.push({ binding: 0, resource: { buffer: uniform, offset: 0, size: PARAM_BINDING_BYTES } });
    }
    const first = entries.length;
    buffers.forEach((range, i) => entries.push({ binding: first + i, resource: range }));
    if (this.#count >= MAX_GROUPS) this.clear();
    const group = this.#device.createBindGroup({ label: kernel.spec.name, layout: kernel.layout, entries });
    const entry = { key: key.slice(), group };
    if (bucket) bucket.push(entry);
    else this.#groups.set(hash, [entry]);
    this.#count++;
    return group;
  }

  /** Drops every group that binds `buffer` (call before destroying it). */
  forget(buffer: GPUBuffer): void {
    const id = this.#ids.get(buffer);
    if (id === undefined) return;
    this.#ids.delete(buffer);
    for (const [hash, bucket] of this.#groups) {
      const kept = bucket.filter((entry) => !bindsBuffer(entry.key, id));
      this.#count -= bucket.length - kept.length;
      if (kept.length === 0) this.#groups.delete(hash);
      else if (kept.length !== bucket.length) this.#groups.set(hash, kept);
    }
  }

  /** Drops every group. */
  clear(): void {
    this.#groups.clear();
    this.#count = 0;
  }
}

function sameKey(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether a key binds the buffer of id `id` (as the uniform, or as a storage range). */
function bindsBuffer(key: readonly number[], id: number): boolean {
  if (key[1] === id) return true;
  for (let i = 2; i < key.length; i += 3) if (key[i] === id) return true;
  return false;
}
