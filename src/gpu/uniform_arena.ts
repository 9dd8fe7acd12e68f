/**
 * Per-dispatch parameter structs for one recording, packed into a few uniform
 * buffers and uploaded with one write each just before the submit, so that
 * thousands of dispatches with different parameters cost no extra submits.
 * Every kernel binds its struct as a {@linkcode PARAM_BINDING_BYTES}-byte
 * window of a chunk at a dynamic offset, so a bind group serves every
 * dispatch whatever its parameters.
 *
 * @module
 */

import { KanError } from "../errors.ts";
import type { BufferPool } from "./buffer_pool.ts";

/** Bytes of one uniform chunk. */
const CHUNK_BYTES = 64 * 1024;

/** The bytes of a chunk bound to a kernel: the largest parameter struct a kernel may declare. */
export const PARAM_BINDING_BYTES = 256;

/** Where one dispatch's parameters live: a chunk and the dynamic offset into it. */
export interface UniformSlot {
  /** The chunk buffer. */
  buffer: GPUBuffer;
  /** Byte offset, a multiple of the device's uniform offset alignment. */
  offset: number;
}

interface Chunk {
  buffer: GPUBuffer;
  bytes: Uint8Array<ArrayBuffer>;
  view: DataView;
  used: number;
}

const F32 = "f".charCodeAt(0);
const I32 = "i".charCodeAt(0);
const U32 = "u".charCodeAt(0);

/** Packs parameter structs for one recording; see the module doc. */
export class UniformArena {
  #pool: BufferPool;
  #align: number;
  #chunks: Chunk[] = [];
  #host = new Map<GPUBuffer, { bytes: Uint8Array<ArrayBuffer>; view: DataView }>();

  /** An arena drawing its chunks from `pool`, slots aligned to `align` bytes. */
  constructor(pool: BufferPool, align: number) {
    this.#pool = pool;
    this.#align = align;
  }

  /** A slot of `size` bytes in the open chunk (a new chunk when it is full). */
  #slot(size: number): { chunk: Chunk; offset: number } {
    if (size > PARAM_BINDING_BYTES) {
      throw new KanError(`kernel parameters of ${size} bytes exceed the ${PARAM_BINDING_BYTES}-byte binding`);
    }
    let chunk = this.#chunks.at(-1);
    if (!chunk || chunk.used + PARAM_BINDING_BYTES > CHUNK_BYTES) {
      const buffer = this.#pool.acquire(
        CHUNK_BYTES,
        GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
        "kan-uniforms",
      );
      let host = this.#host.get(buffer);
      if (!host) {
        const bytes = new Uint8Array(CHUNK_BYTES);
        host = { bytes, view: new DataView(bytes.buffer) };
        this.#host.set(buffer, host);
      }
      chunk = { buffer, ...host, used: 0 };
      this.#chunks.push(chunk);
    }
    const offset = chunk.used;
    chunk.used = Math.ceil((offset + Math.max(size, 16)) / this.#align) * this.#align;
    return { chunk, offset };
  }

  /** Copies `data` into the arena and returns where it will live on the GPU. */
  put(data: Uint8Array): UniformSlot {
    const { chunk, offset } = this.#slot(data.byteLength);
    chunk.bytes.set(data, offset);
    return { buffer: chunk.buffer, offset };
  }

  /**
   * Writes a struct of 4-byte fields (`layout`: one letter per field, `u` u32,
   * `i` i32, `f` f32) holding `values` into the arena, with no allocation.
   */
  write(layout: string, values: readonly number[]): UniformSlot {
    if (layout.length !== values.length) {
      throw new KanError(
        `kernel parameters: layout "${layout}" has ${layout.length} fields, got ${values.length}`,
      );
    }
    const { chunk, offset } = this.#slot(layout.length * 4);
    const view = chunk.view;
    for (let i = 0; i < layout.length; i++) {
      const c = layout.charCodeAt(i);
      const at = offset + 4 * i;
      if (c === F32) view.setFloat32(at, values[i], true);
      else if (c === U32) view.setUint32(at, values[i], true);
      else if (c === I32) view.setInt32(at, values[i], true);
      else throw new KanError(`kernel parameters: unknown field type "${layout[i]}" in "${layout}"`);
    }
    return { buffer: chunk.buffer, offset };
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

  /** Forgets the host copy of a chunk buffer the pool destroyed. */
  forget(buffer: GPUBuffer): void {
    this.#host.delete(buffer);
  }
}
