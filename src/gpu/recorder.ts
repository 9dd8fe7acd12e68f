/**
 * Records many dispatches and copies into one command buffer, submitted once
 * when the results are needed. WebGPU errors of the whole recording are
 * caught with error scopes and reported naming the kernels it held.
 *
 * @module
 */

import { KanError } from "../errors.ts";
import type { BufferPool } from "./buffer_pool.ts";
import type { Kernel } from "./kernel.ts";
import { BindGroupCache } from "./bind_group_cache.ts";
import { UniformArena, type UniformSlot } from "./uniform_arena.ts";

/** A byte range of a buffer bound to a kernel. */
export interface BufferRange {
  /** The buffer. */
  readonly buffer: GPUBuffer;
  /** Byte offset (0 when left out). */
  readonly offset?: number;
  /** Byte size (the rest of the buffer when left out). */
  readonly size?: number;
}

/** Counters of GPU work, read by `gpu.stats()`. */
export interface WorkCounters {
  /** Dispatches recorded. */
  dispatches: number;
  /** Command buffers submitted. */
  submits: number;
  /** GPU→CPU reads waited on. */
  readbacks: number;
}

/**
 * A kernel's parameter struct as values: `layout` has one letter per 4-byte
 * field (`u` u32, `i` i32, `f` f32), as `packParams` takes, but
 * written straight into the recording's uniform arena.
 */
export interface ParamValues {
  /** One letter per field. */
  readonly layout: string;
  /** One value per field. */
  readonly values: readonly number[];
}

/** Workgroup counts of a dispatch: `[x]`, `[x, y]` or `[x, y, z]`. */
export type Workgroups = readonly [number, number?, number?];

const SCOPES: GPUErrorFilter[] = ["validation", "out-of-memory", "internal"];

/** The open recording of a `Gpu`; see the module doc. */
export class Recorder {
  #device: GPUDevice;
  #counters: WorkCounters;
  #report: (error: Promise<KanError | null>) => void;
  #arena: UniformArena;
  #maxWorkgroups: number;
  #encoder: GPUCommandEncoder | null = null;
  #pass: GPUComputePassEncoder | null = null;
  #kernelNames = new Set<string>();
  #groups: BindGroupCache;
  #offset = new Uint32Array(1);
  #loopTrips: BufferRange | null;

  /**
   * A recorder on `device`; `report` receives, per submit, a promise of the
   * error that the submit's recording caused (or `null`). `loopTrips`, when
   * given, is bound as the last binding of every kernel (they are all
   * instrumented to count their loop trips, see `loop_trips.ts`).
   */
  constructor(
    device: GPUDevice,
    pool: BufferPool,
    counters: WorkCounters,
    report: (error: Promise<KanError | null>) => void,
    loopTrips: BufferRange | null = null,
  ) {
    this.#loopTrips = loopTrips;
    this.#device = device;
    this.#groups = new BindGroupCache(device);
    this.#counters = counters;
    this.#report = report;
    this.#arena = new UniformArena(pool, device.limits.minUniformBufferOffsetAlignment);
    this.#maxWorkgroups = device.limits.maxComputeWorkgroupsPerDimension;
  }

  /** How many bind groups are cached. */
  get bindGroups(): number {
    return this.#groups.size;
  }

  /** Whether commands are recorded and not yet submitted. */
  get pending(): boolean {
    return this.#encoder !== null;
  }

  #open(): GPUCommandEncoder {
    if (!this.#encoder) {
      for (const filter of SCOPES) this.#device.pushErrorScope(filter);
      this.#encoder = this.#device.createCommandEncoder({ label: "kan-recording" });
    }
    return this.#encoder;
  }

  #computePass(): GPUComputePassEncoder {
    if (!this.#pass) this.#pass = this.#open().beginComputePass({ label: "kan-compute" });
    return this.#pass;
  }

  #endPass(): GPUCommandEncoder {
    const encoder = this.#open();
    this.#pass?.end();
    this.#pass = null;
    return encoder;
  }

  /**
   * Records one dispatch of `kernel`. `params` (when the kernel's binding 0 is
   * a uniform) fills binding 0, as bytes or as a {@linkcode ParamValues}
   * struct written straight into the arena; `buffers` fill the storage
   * bindings in order. The bind group comes from the cache (see
   * `bind_group_cache.ts`).
   */
  dispatch(
    kernel: Kernel,
    params: ArrayBufferView | ParamValues | null,
    buffers: readonly BufferRange[],
    workgroups: Workgroups,
  ): void {
    const { name, bindings } = kernel.spec;
    if (kernel.error) throw kernel.error;
    const x = workgroups[0];
    const y = workgroups[1] ?? 1;
    const z = workgroups[2] ?? 1;
    this.#checkCount(name, x);
    this.#checkCount(name, y);
    this.#checkCount(name, z);
    const hasParams = bindings[0] === "uniform";
    if (this.#loopTrips) buffers = [...buffers, this.#loopTrips];
    const expected = bindings.length - (hasParams ? 1 : 0);
    if (buffers.length !== expected || hasParams !== (params !== null)) {
      throw new KanError(
        `kernel "${name}": expected ${hasParams ? "params and " : ""}${expected} buffers, got ${
          params ? "params and " : ""
        }${buffers.length}`,
      );
    }
    let slot: UniformSlot | null = null;
    if (params) {
      slot = ArrayBuffer.isView(params)
        ? this.#arena.put(new Uint8Array(params.buffer, params.byteOffset, params.byteLength))
        : this.#arena.write(params.layout, params.values);
    }
    const pass = this.#computePass();
    const group = this.#groups.get(kernel, slot?.buffer ?? null, buffers);
    this.#kernelNames.add(name);
    this.#counters.dispatches++;
    if (x * y * z === 0) return;
    pass.setPipeline(kernel.pipeline);
    if (slot) {
      this.#offset[0] = slot.offset;
      pass.setBindGroup(0, group, this.#offset, 0, 1);
    } else {
      pass.setBindGroup(0, group);
    }
    pass.dispatchWorkgroups(x, y, z);
  }

  #checkCount(name: string, n: number): void {
    if (!Number.isInteger(n) || n < 0 || n > this.#maxWorkgroups) {
      throw new KanError(`kernel "${name}": workgroup count ${n} is outside 0..${this.#maxWorkgroups}`);
    }
  }

  /** Drops what the recorder keeps of `buffer` (cached bind groups, a chunk's host copy) before it is destroyed. */
  forget(buffer: GPUBuffer): void {
    this.#groups.forget(buffer);
    this.#arena.forget(buffer);
  }

  /** Records a copy of `size` bytes (a multiple of 4). */
  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, size: number): void {
    this.#endPass().copyBufferToBuffer(src, srcOffset, dst, dstOffset, size);
  }

  /** Records zeroing `size` bytes of `buffer` from `offset` (multiples of 4). */
  clear(buffer: GPUBuffer, offset: number, size: number): void {
    this.#endPass().clearBuffer(buffer, offset, size);
  }

  /** Submits what was recorded, if anything. Does not wait for the GPU. */
  submit(): void {
    if (!this.#encoder) return;
    const encoder = this.#endPass();
    this.#arena.uploadAndReset(this.#device.queue);
    this.#device.queue.submit([encoder.finish()]);
    this.#encoder = null;
    this.#counters.submits++;
    const names = [...this.#kernelNames].join(", ");
    this.#kernelNames.clear();
    const scopes = SCOPES.map(() => this.#device.popErrorScope());
    this.#report(
      Promise.all(scopes).then(
        (errors) => {
          const err = errors.find((e) => e !== null);
          return err
            ? new KanError(`GPU error in a submit of kernels [${names}]: ${err.message.trim()}`)
            : null;
        },
        (err) => new KanError(`GPU error in a submit of kernels [${names}]: ${String(err)}`),
      ),
    );
  }
}
