/**
 * A pool of GPU buffers reused by size class, with the byte accounting that
 * `gpu.stats()` reports.
 *
 * @module
 */

/** Memory figures of a {@linkcode BufferPool}. */
export interface PoolStats {
  /** Buffers handed out and not yet released. */
  liveBuffers: number;
  /** Bytes of the buffers handed out and not yet released (size-class bytes). */
  liveBytes: number;
  /** Bytes held idle in the pool, ready for reuse. */
  idleBytes: number;
  /** The most GPU memory the pool ever held at once (live plus idle). */
  peakBytes: number;
}

/** Smallest buffer the pool allocates, in bytes. */
const MIN_CLASS_BYTES = 256;

/**
 * The size class of a request: the smallest `m * 2^e` with `m` in 4..7 that is
 * at least `bytes` (and at least 256). Classes are at most 25% larger than the
 * request, and few enough that buffers are reused.
 */
export function sizeClass(bytes: number): number {
  if (bytes <= MIN_CLASS_BYTES) return MIN_CLASS_BYTES;
  const e = Math.floor(Math.log2(bytes)) - 2;
  const step = 2 ** e;
  return Math.ceil(bytes / step) * step;
}

/**
 * Hands out GPU buffers by size class and takes them back for reuse.
 * A released buffer may be handed out again at once: commands recorded
 * earlier still run before any later ones, so reuse inside one recording is
 * safe; uploads must flush the recording first (the `Gpu` does).
 *
 * @example
 * ```ts
 * import { Gpu, Tensor } from "../../mod.ts";
 * const gpu = await Gpu.request();
 * Tensor.zeros(gpu, [1000]).dispose(); // its buffer goes back to the pool
 * const again = Tensor.zeros(gpu, [1000]); // and is handed out again
 * console.log(gpu.pool.stats());
 * again.dispose();
 * gpu.destroy();
 * ```
 */
export class BufferPool {
  #device: GPUDevice;
  #idle = new Map<string, GPUBuffer[]>();
  #live = new Set<GPUBuffer>();
  #liveBytes = 0;
  #idleBytes = 0;
  #peakBytes = 0;

  #report: (error: Promise<string | null>) => void;
  #forget: (buffer: GPUBuffer) => void;

  /**
   * Creates an empty pool on `device`. `report` receives, for each buffer
   * created, a promise of the message of the error its creation caused (out
   * of memory) or `null`; `forget` is told of each buffer just before the
   * pool destroys it (to drop what refers to it, such as cached bind groups).
   */
  constructor(
    device: GPUDevice,
    report: (error: Promise<string | null>) => void = () => {},
    forget: (buffer: GPUBuffer) => void = () => {},
  ) {
    this.#device = device;
    this.#report = report;
    this.#forget = forget;
  }

  /** A buffer of at least `bytes` bytes with exactly `usage`; release it when done. */
  acquire(bytes: number, usage: number, label = "kan-buffer"): GPUBuffer {
    const size = Math.max(
      Math.ceil(bytes / 4) * 4,
      Math.min(sizeClass(bytes), this.#device.limits.maxBufferSize),
    );
    const key = `${usage}:${size}`;
    let buffer = this.#idle.get(key)?.pop();
    if (buffer) {
      this.#idleBytes -= size;
    } else {
      this.#device.pushErrorScope("out-of-memory");
      buffer = this.#device.createBuffer({ label, size, usage });
      this.#report(
        this.#device.popErrorScope().then(
          (error) =>
            error
              ? `out of GPU memory creating a buffer of ${size} bytes (${label}): ${error.message}`
              : null,
          (error) => `creating a buffer of ${size} bytes (${label}) failed: ${error}`,
        ),
      );
    }
    this.#live.add(buffer);
    this.#liveBytes += size;
    this.#peakBytes = Math.max(this.#peakBytes, this.#liveBytes + this.#idleBytes);
    return buffer;
  }

  /** Returns `buffer` to the pool. Releasing a buffer twice is a no-op. */
  release(buffer: GPUBuffer): void {
    if (!this.#live.delete(buffer)) return;
    this.#liveBytes -= buffer.size;
    this.#idleBytes += buffer.size;
    const key = `${buffer.usage}:${buffer.size}`;
    const list = this.#idle.get(key);
    if (list) list.push(buffer);
    else this.#idle.set(key, [buffer]);
  }

  /** Destroys the idle buffers. Call only when no recorded work still uses them. */
  trim(): void {
    for (const list of this.#idle.values()) {
      for (const b of list) {
        this.#forget(b);
        b.destroy();
      }
    }
    this.#idle.clear();
    this.#idleBytes = 0;
  }

  /** Destroys every buffer, live ones included. */
  destroyAll(): void {
    this.trim();
    for (const b of this.#live) {
      this.#forget(b);
      b.destroy();
    }
    this.#live.clear();
    this.#liveBytes = 0;
  }

  /** The pool's current memory figures. */
  stats(): PoolStats {
    return {
      liveBuffers: this.#live.size,
      liveBytes: this.#liveBytes,
      idleBytes: this.#idleBytes,
      peakBytes: this.#peakBytes,
    };
  }
}
