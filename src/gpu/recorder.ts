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
import { UniformArena } from "./uniform_arena.ts";

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
    this.#counters = counters;
    this.#report = report;
    this.#arena = new UniformArena(pool, device.limits.minUniformBufferOffsetAlignment);
    this.#maxWorkgroups = device.limits.maxComputeWorkgroupsPerDimension;
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
   * a uniform) fills binding 0; `buffers` fill the storage bindings in order.
   */
  dispatch(
    kernel: Kernel,
    params: ArrayBufferView | null,
    buffers: readonly BufferRange[],
    workgroups: Workgroups,
  ): void {
    const { name, bindings } = kernel.spec;
    if (kernel.error) throw kernel.error;
    const [x, y = 1, z = 1] = workgroups;
    for (const n of [x, y, z]) {
      if (!Number.isInteger(n) || n < 0 || n > this.#maxWorkgroups) {
        throw new KanError(
          `kernel "${name}": workgroup count ${n} is outside 0..${this.#maxWorkgroups}`,
        );
      }
    }
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
    const entries: GPUBindGroupEntry[] = [];
    if (params) {
      const bytes = new Uint8Array(params.buffer, params.byteOffset, params.byteLength);
      entries.push({ binding: 0, resource: this.#arena.put(bytes) });
    }
    const first = entries.length;
    buffers.forEach((range, i) => entries.push({ binding: first + i, resource: range }));
    const pass = this.#computePass();
    const group = this.#device.createBindGroup({ label: name, layout: kernel.layout, entries });
    this.#kernelNames.add(name);
    this.#counters.dispatches++;
    if (x * y * z === 0) return;
    pass.setPipeline(kernel.pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(x, y, z);
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
