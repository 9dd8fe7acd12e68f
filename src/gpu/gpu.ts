/**
 * The handle on a WebGPU device: adapter choice, limits and features, the
 * buffer pool, the kernel cache, the open recording, reads back to the CPU,
 * and the bookkeeping behind `gpu.stats()`.
 *
 * @module
 */

import { KanError } from "../errors.ts";
import { BufferPool } from "./buffer_pool.ts";
import { type Kernel, KernelCache, type KernelSpec } from "./kernel.ts";
import { LoopTripCounter } from "./loop_trips.ts";
import {
  type BufferRange,
  type ParamValues,
  Recorder,
  type WorkCounters,
  type Workgroups,
} from "./recorder.ts";
import { BOOLEAN, checkOptions, oneOf, option } from "../validate.ts";

/** Options of {@linkcode Gpu.request}. */
export interface GpuRequestOptions {
  /** Which adapter to prefer when there are several. */
  powerPreference?: GPUPowerPreference;
  /** Ask for a fallback (software) adapter. */
  forceFallbackAdapter?: boolean;
  /**
   * Instrument every kernel to record the most loop iterations one invocation
   * makes, read by {@linkcode Gpu.loopTrips} (slow; for checking the loop
   * budget of the kernels, see `src/gpu/loop_trips.ts`). Default false.
   */
  countLoopTrips?: boolean;
}

/** What the adapter says of itself. */
export interface GpuAdapterInfo {
  /** Vendor name or id. */
  vendor: string;
  /** Architecture, often empty. */
  architecture: string;
  /** Device name or id. */
  device: string;
  /** Human-readable description, e.g. "llvmpipe (LLVM 15.0.6, 256 bits)". */
  description: string;
  /** Whether it is a fallback (software) adapter. */
  isFallbackAdapter: boolean;
}

/** Counters of {@linkcode Gpu.stats}. */
export interface GpuStats {
  /** Buffers in use (not idle in the pool). */
  liveBuffers: number;
  /** Bytes of the buffers in use. */
  liveBytes: number;
  /** The most GPU memory the module ever held at once, idle pool included. */
  peakBytes: number;
  /** Kernel dispatches recorded. */
  dispatches: number;
  /** Command buffers submitted. */
  submits: number;
  /** GPU→CPU waits (each costs about 11 ms in Deno). */
  readbacks: number;
  /** Bind groups kept for reuse (a dispatch on buffers seen before makes none). */
  bindGroups: number;
}

/** Usage of every tensor buffer. */
export const STORAGE_USAGE: number = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC |
  GPUBufferUsage.COPY_DST;

const MISSING_ADAPTER_HELP =
  "no WebGPU adapter was found. On Linux without a GPU, install a software Vulkan driver: " +
  "Mesa's lavapipe (Debian/Ubuntu package `mesa-vulkan-drivers`: `apt-get install -y mesa-vulkan-drivers`). " +
  "With a GPU, install its Vulkan driver (and `libvulkan1`).";

const OPTIONAL_FEATURES: GPUFeatureName[] = ["timestamp-query", "shader-f16"];

const RAISED_LIMITS = [
  "maxStorageBufferBindingSize",
  "maxBufferSize",
  "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupSizeX",
  "maxComputeWorkgroupSizeY",
  "maxStorageBuffersPerShaderStage",
  "maxComputeWorkgroupsPerDimension",
] as const;

/**
 * A WebGPU device prepared for this module's kernels.
 *
 * @example
 * ```ts
 * import { Gpu, Tensor } from "../../mod.ts";
 * const gpu = await Gpu.request();
 * const x = Tensor.from(gpu, [1, 2, 3], [3]);
 * console.log(gpu.adapterInfo.description, await x.read());
 * gpu.destroy();
 * ```
 */
export class Gpu {
  /** The WebGPU device. */
  readonly device: GPUDevice;
  /** What the adapter says of itself. */
  readonly adapterInfo: GpuAdapterInfo;
  /** The optional features that were enabled (`timestamp-query`, `shader-f16`). */
  readonly features: ReadonlySet<string>;
  /**
   * The buffer pool every tensor draws from (for kernel writers: `@kan/gpu/kernels`).
   *
   * @internal
   */
  readonly pool: BufferPool;
  #kernels: KernelCache;
  #counters: WorkCounters = { dispatches: 0, submits: 0, readbacks: 0 };
  #recorder: Recorder;
  #pendingErrors = new Set<Promise<KanError | null>>();
  #errors: KanError[] = [];
  #lost: string | null = null;
  #placeholders: GPUBuffer[] = [];
  #lostPromise: Promise<never>;
  #loopTrips: LoopTripCounter | null;

  private constructor(device: GPUDevice, info: GpuAdapterInfo, countLoopTrips: boolean) {
    this.device = device;
    this.adapterInfo = info;
    this.features = new Set(
      [...device.features].filter((f) => OPTIONAL_FEATURES.includes(f as GPUFeatureName)),
    );
    this.pool = new BufferPool(
      device,
      (message) => this.#track(message.then((m) => m === null ? null : new KanError(m))),
      (buffer) => this.#recorder.forget(buffer),
    );
    this.#kernels = new KernelCache(device);
    this.#loopTrips = countLoopTrips ? new LoopTripCounter(device) : null;
    this.#recorder = new Recorder(
      device,
      this.pool,
      this.#counters,
      (p) => this.#track(p),
      this.#loopTrips ? { buffer: this.#loopTrips.buffer } : null,
    );
    this.#lostPromise = device.lost.then((info) => {
      this.#lost ??= `the GPU device was lost (${info.reason}): ${info.message}`;
      throw new KanError(this.#lost);
    });
    this.#lostPromise.catch(() => {});
    device.addEventListener("uncapturederror", (event) => {
      const error = (event as GPUUncapturedErrorEvent).error;
      this.#errors.push(new KanError(`uncaptured GPU error: ${error.message.trim()}`));
    });
  }

  /**
   * Picks an adapter and opens a device with the optional features offered
   * and the limits raised to the adapter's. Rejects with a {@linkcode KanError}
   * that says what to install when there is no adapter.
   */
  static async request(options: GpuRequestOptions = {}): Promise<Gpu> {
    checkOptions("Gpu.request", options, ["powerPreference", "forceFallbackAdapter", "countLoopTrips"]);
    const powerPreference = option(
      "Gpu.request",
      options,
      "powerPreference",
      oneOf<GPUPowerPreference>(["low-power", "high-performance"]),
    );
    const forceFallbackAdapter = option("Gpu.request", options, "forceFallbackAdapter", BOOLEAN);
    const countLoopTrips = option("Gpu.request", options, "countLoopTrips", BOOLEAN, false);
    const gpu = (globalThis.navigator as { gpu?: GPU } | undefined)?.gpu;
    if (!gpu) throw new KanError(`Gpu.request: this runtime has no navigator.gpu; ${MISSING_ADAPTER_HELP}`);
    let adapter: GPUAdapter | null;
    try {
      adapter = await gpu.requestAdapter({ powerPreference, forceFallbackAdapter });
    } catch (cause) {
      throw new KanError(`Gpu.request: requestAdapter failed (${cause}); ${MISSING_ADAPTER_HELP}`, { cause });
    }
    if (!adapter) throw new KanError(`Gpu.request: ${MISSING_ADAPTER_HELP}`);
    const requiredFeatures = OPTIONAL_FEATURES.filter((f) => adapter.features.has(f));
    const requiredLimits: Record<string, number> = {};
    for (const name of RAISED_LIMITS) requiredLimits[name] = adapter.limits[name];
    let device: GPUDevice;
    try {
      device = await adapter.requestDevice({ label: "kan", requiredFeatures, requiredLimits });
    } catch (cause) {
      throw new KanError(`Gpu.request: requestDevice failed: ${cause}`, { cause });
    }
    const info = adapter.info;
    return new Gpu(device, {
      vendor: info.vendor,
      architecture: info.architecture,
      device: info.device,
      description: info.description,
      isFallbackAdapter: info.isFallbackAdapter ?? false,
    }, countLoopTrips);
  }

  /** Memory and work counters; see {@linkcode GpuStats}. */
  stats(): GpuStats {
    const { liveBuffers, liveBytes, peakBytes } = this.pool.stats();
    return { liveBuffers, liveBytes, peakBytes, ...this.#counters, bindGroups: this.#recorder.bindGroups };
  }

  /** Throws a {@linkcode KanError} when the device is lost or destroyed. */
  assertAlive(): void {
    if (this.#lost) throw new KanError(this.#lost);
  }

  /**
   * The cached kernel for `spec` (compiled on first use); errors surface at
   * the next read. For kernel writers (`@kan/gpu/kernels`).
   *
   * @internal
   */
  kernel(spec: KernelSpec): Kernel {
    this.assertAlive();
    const kernel = this.#kernels.get(this.#loopTrips?.instrument(spec) ?? spec);
    if (kernel.error === undefined) this.#track(kernel.checked);
    return kernel;
  }

  /**
   * The cached kernel for `spec`, rejecting with a {@linkcode KanError}
   * naming it when the WGSL is invalid. For kernel writers (`@kan/gpu/kernels`).
   *
   * @internal
   */
  async compile(spec: KernelSpec): Promise<Kernel> {
    this.assertAlive();
    const kernel = this.#kernels.get(this.#loopTrips?.instrument(spec) ?? spec);
    const error = await kernel.checked;
    if (error) throw error;
    return kernel;
  }

  /**
   * Records a dispatch into the open recording (see `Recorder.dispatch`). For
   * kernel writers (`@kan/gpu/kernels`).
   *
   * @internal
   */
  dispatch(
    kernel: Kernel,
    params: ArrayBufferView | ParamValues | null,
    buffers: readonly BufferRange[],
    workgroups: Workgroups,
  ): void {
    this.assertAlive();
    this.#recorder.dispatch(kernel, params, buffers, workgroups);
  }

  /** Records a buffer copy into the open recording. */
  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, size: number): void {
    this.assertAlive();
    this.#recorder.copy(src, srcOffset, dst, dstOffset, size);
  }

  /** Records zeroing a byte range. */
  clear(buffer: GPUBuffer, offset: number, size: number): void {
    this.assertAlive();
    this.#recorder.clear(buffer, offset, size);
  }

  /** Submits the open recording without waiting for it. */
  flush(): void {
    this.assertAlive();
    this.#recorder.submit();
  }

  /**
   * Writes `data` into `buffer` at `offset`, ordered after everything
   * recorded so far (the recording is submitted first when it holds work).
   */
  write(buffer: GPUBuffer, offset: number, data: ArrayBufferView<ArrayBuffer>): void {
    this.assertAlive();
    if (this.#recorder.pending) this.#recorder.submit();
    this.device.queue.writeBuffer(buffer, offset, data.buffer, data.byteOffset, data.byteLength);
  }

  /**
   * Reads `size` bytes of `buffer` from `offset` after all recorded work:
   * one submit and one wait. Throws the first GPU error that any earlier
   * submit caused.
   */
  async read(buffer: GPUBuffer, offset: number, size: number): Promise<ArrayBuffer> {
    this.assertAlive();
    const padded = Math.ceil(size / 4) * 4;
    const staging = this.pool.acquire(
      padded,
      GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      "kan-readback",
    );
    try {
      if (padded > 0) this.#recorder.copy(buffer, offset, staging, 0, padded);
      this.#recorder.submit();
      this.#counters.readbacks++;
      const mapped = staging.mapAsync(GPUMapMode.READ, 0, padded);
      mapped.catch(() => {}); // when the device is lost first, the race below settles without it
      await Promise.race([mapped, this.#lostPromise]);
      const out = staging.getMappedRange(0, padded).slice(0, size);
      staging.unmap();
      await this.#throwErrors();
      return out;
    } finally {
      this.pool.release(staging);
    }
  }

  /** Waits until the GPU has finished all submitted work; throws pending GPU errors. */
  async sync(): Promise<void> {
    this.assertAlive();
    this.#recorder.submit();
    this.#counters.readbacks++;
    const done = this.device.queue.onSubmittedWorkDone();
    done.catch(() => {});
    await Promise.race([done, this.#lostPromise]);
    await this.#throwErrors();
  }

  /**
   * The most loop iterations any invocation of each kernel made since the
   * last reset, by kernel name (`name:entryPoint`), after all recorded work.
   * Only with `Gpu.request({ countLoopTrips: true })`; `reset` zeroes the counts.
   */
  async loopTrips(reset = false): Promise<Record<string, number>> {
    this.assertAlive();
    const counter = this.#loopTrips;
    if (!counter) throw new KanError("gpu.loopTrips(): request the Gpu with { countLoopTrips: true }");
    const counts = counter.decode(await this.read(counter.buffer, 0, counter.buffer.size));
    if (reset) this.clear(counter.buffer, 0, counter.buffer.size);
    return counts;
  }

  /**
   * A small buffer to bind where a kernel declares a binding that this
   * dispatch does not use. Each `slot` is a distinct buffer, so two
   * placeholders never alias a read-write binding. Not counted in the stats.
   */
  placeholder(slot: number): BufferRange {
    this.assertAlive();
    while (this.#placeholders.length <= slot) {
      this.#placeholders.push(
        this.device.createBuffer({ label: "kan-placeholder", size: 256, usage: GPUBufferUsage.STORAGE }),
      );
    }
    return { buffer: this.#placeholders[slot], offset: 0, size: 256 };
  }

  /** Releases every buffer and the device. Later calls throw a {@linkcode KanError}. */
  destroy(): void {
    if (this.#lost) return;
    this.#lost = "this Gpu was destroyed (gpu.destroy()); request a new one with Gpu.request()";
    this.pool.destroyAll();
    for (const b of this.#placeholders) b.destroy();
    this.#loopTrips?.buffer.destroy();
    this.device.destroy();
  }

  /** {@linkcode destroy}, for `using gpu = await Gpu.request()`. */
  [Symbol.dispose](): void {
    this.destroy();
  }

  #track(error: Promise<KanError | null>): void {
    this.#pendingErrors.add(error);
  }

  async #throwErrors(): Promise<void> {
    const pending = [...this.#pendingErrors];
    this.#pendingErrors.clear();
    for (const error of await Promise.all(pending)) if (error) this.#errors.push(error);
    const first = this.#errors.shift();
    if (first) {
      this.#errors = [];
      throw first;
    }
  }
}
