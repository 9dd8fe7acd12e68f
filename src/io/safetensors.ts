/**
 * The safetensors format (Hugging Face): an 8-byte little-endian header
 * length, a JSON header of `{name: {dtype, shape, data_offsets}}` plus an
 * optional `__metadata__` string map, then little-endian tensor data.
 *
 * Reading is as strict as the reference implementation (Hugging Face
 * `safetensors`, `safetensors/src/tensor.rs`, commit 24b0b28), rule by rule:
 *
 * - `SafeTensors::read_metadata`: at least 8 bytes; the header length `n` at
 *   most 100,000,000 (`MAX_HEADER_SIZE`); `8 + n` within the file; the header
 *   valid UTF-8 (a byte-order mark is kept, and is then not JSON); the data,
 *   as the tensors cover it, ends exactly at the end of the file.
 * - serde_json's grammar for the header, in `safetensors_json.ts`: JSON
 *   whitespace (space, tab, LF, CR) may surround the object, so the header
 *   need not begin with `{` and its trailing padding may be spaces; nothing
 *   else may follow it; strings without control characters or lone surrogate
 *   escapes; finite numbers; at most 127 nested arrays and objects.
 * - `HashMetadata`, `Metadata::validate` (shapes, offsets, sizes, order,
 *   overflow), in `safetensors_header.ts`.
 *
 * It is stricter than the reference only where the reference is ambiguous:
 * a key repeated in any object of the header is rejected (the reference keeps
 * the last), and so are serde's alternative forms of a tensor (a JSON array)
 * and of a dtype (an object). A file the reference accepts may still be out of
 * this module's reach: a dtype other than F32, F64, F16, BF16 (which load as
 * float32) and I64, I32 (integers such as PyTorch's `arange` buffers and
 * BatchNorm's `num_batches_tracked`, which load as float32 when every value
 * is an integer float32 holds exactly, |v| <= 2^24), or a shape entry above
 * 2^53 - 1 (only possible beside a 0); a {@linkcode KanError} then says it is
 * valid but not supported.
 *
 * Writing: F32 entries in the byte order of their names (the reference's
 * order among equal dtypes), the header padded with spaces to a multiple of 8
 * bytes. This module touches no file and no `Deno` API (it runs in a browser);
 * `safetensors_file.ts` reads and writes files.
 *
 * @module
 */

import { KanError } from "../errors.ts";
import type { StateDict } from "../layers/parameter.ts";
import { describe } from "../validate.ts";
import { readHeader } from "./safetensors_header.ts";
import { parseHeaderJson, quote } from "./safetensors_json.ts";

/** Largest header accepted, as the reference implementation: 100 MB. */
export const MAX_HEADER_BYTES = 100_000_000;

/** Readers of the dtypes this module loads, each from a DataView at a byte offset into float32. */
const READERS: Record<string, { bytes: number; read: (v: DataView, at: number) => number }> = {
  F32: { bytes: 4, read: (v, at) => v.getFloat32(at, true) },
  F64: { bytes: 8, read: (v, at) => v.getFloat64(at, true) },
  F16: { bytes: 2, read: (v, at) => float16(v.getUint16(at, true)) },
  BF16: { bytes: 2, read: (v, at) => bfloat16(v.getUint16(at, true)) },
  I64: { bytes: 8, read: (v, at) => exactInteger(v.getBigInt64(at, true)) },
  I32: { bytes: 4, read: (v, at) => exactInteger(BigInt(v.getInt32(at, true))) },
};

/** Largest integer magnitude up to which float32 holds every integer. */
const FLOAT32_EXACT_INTEGER = 2n ** 24n;

/** `v` as a number, or NaN (refused by the caller) when float32 would not hold it exactly. */
function exactInteger(v: bigint): number {
  return v <= FLOAT32_EXACT_INTEGER && v >= -FLOAT32_EXACT_INTEGER ? Number(v) : Number.NaN;
}

function fail(what: string): never {
  throw new KanError(`safetensors: ${what}`);
}

function float16(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? Number.NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

const bf16Bits = new Uint32Array(1);
const bf16Value = new Float32Array(bf16Bits.buffer);
function bfloat16(bits: number): number {
  bf16Bits[0] = bits << 16;
  return bf16Value[0];
}

/** Compares two strings by their UTF-8 bytes, as Rust orders `String`s. */
function utf8Order(a: string, b: string): number {
  const x = new TextEncoder().encode(a), y = new TextEncoder().encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

function checkText(caller: string, what: string, s: unknown): string {
  if (typeof s !== "string") throw new KanError(`${caller}: ${what} must be a string, got ${typeof s}`);
  if (!s.isWellFormed()) {
    throw new KanError(
      `${caller}: ${what} ${JSON.stringify(s)} has a lone surrogate, which UTF-8 cannot encode`,
    );
  }
  return s;
}

/**
 * The bytes of a safetensors file holding `dict`, as {@linkcode encodeSafetensors}
 * makes them; errors name `caller`.
 */
export function encodeFor(caller: string, dict: StateDict, metadata?: Record<string, string>): Uint8Array {
  if (typeof dict !== "object" || dict === null || Array.isArray(dict)) {
    throw new KanError(`${caller}: dict must be an object of {shape, data} entries, got ${describe(dict)}`);
  }
  const keys = Object.keys(dict).sort(utf8Order);
  const parts: string[] = [];
  if (metadata !== undefined) {
    if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata)) {
      throw new KanError(`${caller}: metadata must be an object of strings, got ${describe(metadata)}`);
    }
    const pairs = Object.entries(metadata).map(([k, v]) =>
      `${JSON.stringify(checkText(caller, "a metadata key", k))}:${
        JSON.stringify(checkText(caller, `metadata ${JSON.stringify(k)}`, v))
      }`
    );
    parts.push(`"__metadata__":{${pairs.join(",")}}`);
  }
  let offset = 0;
  for (const key of keys) {
    checkText(caller, "a dict key", key);
    if (key === "") throw new KanError(`${caller}: a dict key is empty; every tensor needs a name`);
    if (key === "__metadata__") throw new KanError(`${caller}: "__metadata__" cannot name a tensor`);
    const entry = dict[key] as unknown;
    if (typeof entry !== "object" || entry === null) {
      throw new KanError(`${caller}: entry "${key}" must be {shape, data}, got ${describe(entry)}`);
    }
    const { shape, data } = entry as { shape: unknown; data: unknown };
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new KanError(
        `${caller}: entry "${key}" has shape ${describe(shape)}, expected an array of non-negative integers`,
      );
    }
    if (!(data instanceof Float32Array)) {
      throw new KanError(
        `${caller}: entry "${key}" has data of type ${typeof data}, expected a Float32Array`,
      );
    }
    const size = shape.reduce((a, b) => a * b, 1);
    if (data.length !== size) {
      throw new KanError(
        `${caller}: entry "${key}" has ${data.length} values for shape [${shape}] (${size})`,
      );
    }
    parts.push(
      `${JSON.stringify(key)}:{"dtype":"F32","shape":[${shape}],"data_offsets":[${offset},${
        offset + 4 * size
      }]}`,
    );
    offset += 4 * size;
  }
  const json = new TextEncoder().encode(`{${parts.join(",")}}`);
  const headerLength = Math.ceil(json.length / 8) * 8; // padded with spaces: the data starts 8-byte aligned
  if (headerLength > MAX_HEADER_BYTES) {
    throw new KanError(
      `${caller}: the header would be ${headerLength} bytes, over the ${MAX_HEADER_BYTES}-byte limit`,
    );
  }
  const out = new Uint8Array(8 + headerLength + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerLength), true);
  out.fill(0x20, 8, 8 + headerLength);
  out.set(json, 8);
  let at = 8 + headerLength;
  for (const key of keys) {
    for (const v of dict[key].data) {
      view.setFloat32(at, v, true);
      at += 4;
    }
  }
  return out;
}

/**
 * Encodes `dict` (and string `metadata`) as safetensors bytes, all F32. Keys
 * must be non-empty, shapes arrays of non-negative integers, data
 * Float32Arrays of the shape's size.
 *
 * @example
 * ```ts
 * import { decodeSafetensors, encodeSafetensors } from "../../mod.ts";
 * const bytes = encodeSafetensors({ w: { shape: [2], data: Float32Array.of(1, 2) } }, { note: "x" });
 * console.log(decodeSafetensors(bytes).dict.w.data); // Float32Array [1, 2]
 * ```
 */
export function encodeSafetensors(dict: StateDict, metadata?: Record<string, string>): Uint8Array {
  return encodeFor("encodeSafetensors", dict, metadata);
}

/**
 * Decodes safetensors bytes into a state dict and the metadata, with the
 * reference implementation's checks (see the module doc); a malformed file,
 * or a valid one with a dtype this module does not read, is a
 * {@linkcode KanError} that says which.
 *
 * @example
 * ```ts
 * import { decodeSafetensors, encodeSafetensors } from "../../mod.ts";
 * const { dict, metadata } = decodeSafetensors(encodeSafetensors({ b: { shape: [], data: Float32Array.of(3) } }));
 * console.log(dict.b.shape, metadata); // [] {}
 * ```
 */
export function decodeSafetensors(bytes: Uint8Array): { dict: StateDict; metadata: Record<string, string> } {
  if (!(bytes instanceof Uint8Array)) {
    throw new KanError(`decodeSafetensors: bytes must be a Uint8Array, got ${typeof bytes}`);
  }
  if (bytes.length < 8) fail(`file of ${bytes.length} bytes is shorter than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) fail(`header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  const headerLength = Number(n);
  if (8 + headerLength > bytes.length) {
    fail(`header length ${headerLength} runs past the end of the ${bytes.length}-byte file`);
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(
      bytes.subarray(8, 8 + headerLength),
    );
  } catch (cause) {
    throw new KanError(`safetensors: the header is not valid UTF-8 (${(cause as Error).message})`, { cause });
  }
  const dataStart = 8 + headerLength;
  const header = readHeader(parseHeaderJson(text), bytes.length - dataStart);
  for (const t of header.tensors) {
    if (!Object.hasOwn(READERS, t.dtype)) {
      fail(
        `entry ${quote(t.name)} has dtype ${t.dtype}: a valid safetensors dtype, but unsupported here ` +
          `(this module reads ${Object.keys(READERS).join(", ")})`,
      );
    }
    const big = t.shape.find((d) => d > BigInt(Number.MAX_SAFE_INTEGER));
    if (big !== undefined) {
      fail(
        `entry ${quote(t.name)} has shape [${t.shape}]: valid in safetensors, but unsupported here ` +
          `(the entry ${big} is above 2^53 - 1)`,
      );
    }
  }
  const dict = Object.fromEntries(header.tensors.map((t) => {
    const { bytes: size, read } = READERS[t.dtype];
    const count = Number(t.end - t.begin) / size;
    const data = new Float32Array(count);
    const at = dataStart + Number(t.begin);
    for (let i = 0; i < count; i++) data[i] = read(view, at + i * size);
    if (t.dtype.startsWith("I")) {
      const bad = data.findIndex(Number.isNaN);
      if (bad >= 0) {
        fail(
          `entry ${quote(t.name)} (${t.dtype}) holds a value at flat index ${bad} beyond +-2^24: valid in ` +
            `safetensors, but unsupported here (this module holds values as float32, exact for integers up to 2^24)`,
        );
      }
    }
    return [t.name, { shape: t.shape.map(Number), data }];
  }));
  return { dict, metadata: Object.fromEntries(header.metadata) };
}
