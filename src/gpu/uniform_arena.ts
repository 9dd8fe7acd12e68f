/**
 * Per-dispatch parameter structs for one recording, packed into a few uniform
 * buffers and uploaded with one write each just before the submit, so that
 * thousands of dispatches with different parameters cost no extra submits.
 *
 * @module
 */

import type { BufferPool } from "./buffer_pool.ts";

/** Bytes of one uniform chunk. */
const CHUNK_BYTES = 64 * 1024;

/** A slice of a uniform buffer holding one dispatch's parameters. */
export interface UniformSlice {
  /** The buffer. */
  buffer: GPUBuffer;
  /** Byte offset, a multiple of the device's uniform offset alignment. */
  offset: number;
  /** Byte size. */
  size: number;
}

interface Chunk {
  buffer: GPUBuffer;
  bytes: Uint8Array<ArrayBuffer>;
  used: number;
}

/** Packs parameter structs for one recording; see the module doc. */
export class UniformArena {
  #pool: BufferPool;
  #align: number;
  #chunks: Chunk[] = [];

  /** An arena drawing its chunks from `pool`, slots aligned to `align` bytes. */
  constructor(pool: BufferPool, align: number) {
    this.#pool = pool;
    this.#align = align;
  }

  /** Copies `data` into the arena and returns where it will live on the GPU. */
  put(data: Uint8Array): UniformSlice {
    const size = Math.max(16, Math.ceil(data.byteLength / 16) * 16);
    let chunk = this.#chunks.at(-1);
    if (!chunk || chunk.used + size > CHUNK_BYTES) {
      const buffer = this.#pool.acquire(
        CHUNK_BYTES,
        GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
        "kan-uniforms",
      );
      chunk = { buffer, bytes: new Uint8Array(CHUNK_BYTES), used: 0 };
      this.#chunks.push(chunk);
    }
    const offset = chunk.used;
    chunk.bytes.set(data, offset);
    chunk.used = Math.ceil((offset + size) / this.#align) * this.#align;
    return { buffer: chunk.buffer, offset, size };
  }

  /**
   * Writes every chunk to the GPU (queued before the submit that follows) and
   * returns the chunks to the pool: the writes of a later recording are queued
   * after this submit, so reuse is safe.
   */
  uploadAndReset(queue: GPUQueue): void {
    for (const chunk of this.#chunks) {
      queue.writeBuffer(chunk.buffer, 0, chunk.bytes, 0, Math.min(chunk.used, CHUNK_BYTES));
      this.#pool.release(chunk.buffer);
    }
    this.#chunks = [];
  }
}
