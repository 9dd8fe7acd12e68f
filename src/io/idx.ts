/**
 * The IDX format of MNIST and Fashion-MNIST (`.gz` included): a magic number
 * naming the element type and the number of dimensions, big-endian 32-bit
 * dimensions, then big-endian data.
 *
 * @module
 */

import { KanError } from "../errors.ts";

/** A decoded IDX file. */
export interface IdxArray {
  /** Dimensions, e.g. `[60000, 28, 28]`. */
  dims: number[];
  /** Values, converted to float32. */
  data: Float32Array;
}

const TYPES: Record<number, { bytes: number; read: (v: DataView, at: number) => number; name: string }> = {
  0x08: { bytes: 1, read: (v, at) => v.getUint8(at), name: "ubyte" },
  0x09: { bytes: 1, read: (v, at) => v.getInt8(at), name: "byte" },
  0x0b: { bytes: 2, read: (v, at) => v.getInt16(at), name: "short" },
  0x0c: { bytes: 4, read: (v, at) => v.getInt32(at), name: "int" },
  0x0d: { bytes: 4, read: (v, at) => v.getFloat32(at), name: "float" },
  0x0e: { bytes: 8, read: (v, at) => v.getFloat64(at), name: "double" },
};

/** Decodes IDX bytes; a malformed or truncated file is a {@linkcode KanError} naming `source`. */
export function decodeIdx(bytes: Uint8Array, source = "IDX data"): IdxArray {
  if (bytes.length < 4) throw new KanError(`${source}: ${bytes.length} bytes is too short for an IDX header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint16(0) !== 0) {
    throw new KanError(`${source}: not an IDX file (the magic number does not start with 0x0000)`);
  }
  const type = TYPES[view.getUint8(2)];
  if (!type) throw new KanError(`${source}: unknown IDX element type 0x${view.getUint8(2).toString(16)}`);
  const rank = view.getUint8(3);
  if (rank === 0 || bytes.length < 4 + 4 * rank) {
    throw new KanError(`${source}: truncated header (${rank} dimensions, ${bytes.length} bytes)`);
  }
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  const count = dims.reduce((a, b) => a * b, 1);
  const start = 4 + 4 * rank;
  const need = start + count * type.bytes;
  if (bytes.length !== need) {
    throw new KanError(
      `${source}: dimensions [${dims}] of ${type.name} need ${need} bytes, the file has ${bytes.length}${
        bytes.length < need ? " (truncated)" : ""
      }`,
    );
  }
  const data = new Float32Array(count);
  if (type.bytes === 1 && type.name === "ubyte") data.set(bytes.subarray(start, need));
  else for (let i = 0; i < count; i++) data[i] = type.read(view, start + i * type.bytes);
  return { dims, data };
}

/** Gunzips `bytes` when they start with the gzip magic number. */
export async function gunzipIfNeeded(bytes: Uint8Array<ArrayBuffer>, source: string): Promise<Uint8Array> {
  if (bytes.length < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  try {
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (cause) {
    throw new KanError(`${source}: corrupt gzip data (${(cause as Error).message})`, { cause });
  }
}

/** Reads an IDX file, gzipped or not. A missing file is a KanError; `hint` says where to get it. */
export async function readIdx(path: string, hint = ""): Promise<IdxArray> {
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = await Deno.readFile(path);
  } catch (cause) {
    throw new KanError(`cannot read "${path}": ${(cause as Error).message}${hint ? `; ${hint}` : ""}`, {
      cause,
    });
  }
  return decodeIdx(await gunzipIfNeeded(bytes, path), path);
}
