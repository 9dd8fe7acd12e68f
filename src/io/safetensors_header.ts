/**
 * The safetensors header: its dtypes, and the reading and validation of its
 * parsed JSON with the rules of the reference implementation (Hugging Face
 * `safetensors`, `safetensors/src/tensor.rs`, commit 24b0b28):
 *
 * - `HashMetadata` (serde): the header is a JSON object; the key
 *   `__metadata__` holds `null` or an object of strings; every other key names
 *   a tensor whose value has `dtype` (one of {@linkcode DTYPE_BITS}), `shape`
 *   (an array of integers in `[0, 2^64 - 1]`: no sign, fraction or exponent, so
 *   `-0`, `1.0` and `1e0` are not integers) and `data_offsets` (an array of
 *   exactly two such integers). Other fields of a tensor are ignored.
 * - `Metadata::try_from` + `Metadata::validate`: the tensors sorted by
 *   `data_offsets` must tile the data from 0 with no gap or overlap (each
 *   begins where the previous ended; none ends before it begins); the element
 *   count (product of the shape) times the dtype's bits may not pass
 *   `2^64 - 1` at any step; the bits must be whole bytes; the bytes must equal
 *   `end - begin`.
 * - `SafeTensors::read_metadata`: the data ends exactly at the end of the
 *   file: no trailing bytes, no missing ones.
 *
 * Stricter than the reference, on purpose (the reference accepts these):
 * repeated keys anywhere in the header (it silently keeps the last); a tensor
 * written as a JSON array `[dtype, shape, offsets]` or a dtype written as an
 * object `{"F32": null}` (serde's alternative forms, which no writer emits).
 *
 * @module
 */

import { KanError } from "../errors.ts";
import { type JsonValue, quote } from "./safetensors_json.ts";

/** Bits per element of every dtype the reference implementation knows. */
export const DTYPE_BITS: Readonly<Record<string, number>> = Object.freeze({
  BOOL: 8,
  F4: 4,
  F6_E2M3: 6,
  F6_E3M2: 6,
  U8: 8,
  I8: 8,
  F8_E5M2: 8,
  F8_E4M3: 8,
  F8_E8M0: 8,
  F8_E4M3FNUZ: 8,
  F8_E5M2FNUZ: 8,
  I16: 16,
  U16: 16,
  F16: 16,
  BF16: 16,
  I32: 32,
  U32: 32,
  F32: 32,
  C64: 64,
  F64: 64,
  I64: 64,
  U64: 64,
});

/** The largest value of the reference's `usize` (64-bit). */
export const USIZE_MAX = (1n << 64n) - 1n;

/** One tensor of a validated header, its numbers exact. */
export interface HeaderTensor {
  /** The tensor's name (the JSON key). */
  name: string;
  /** One of the keys of {@linkcode DTYPE_BITS}. */
  dtype: string;
  /** Dimensions. */
  shape: bigint[];
  /** First byte of the tensor in the data section. */
  begin: bigint;
  /** One past its last byte. */
  end: bigint;
}

/** A validated header: the tensors in data order and the metadata pairs. */
export interface Header {
  /** The tensors, sorted by their data offsets. */
  tensors: HeaderTensor[];
  /** The `__metadata__` pairs, in file order. */
  metadata: [string, string][];
  /** The bytes of data the tensors cover. */
  dataBytes: bigint;
}

function fail(what: string): never {
  throw new KanError(`safetensors: ${what}`);
}

function describe(v: JsonValue): string {
  switch (v.kind) {
    case "object":
      return "an object";
    case "array":
      return "an array";
    case "string":
      return `the string ${JSON.stringify(v.value.slice(0, 40))}`;
    case "number":
      return `the number ${v.text.slice(0, 40)}`;
    case "boolean":
      return String(v.value);
    case "null":
      return "null";
  }
}

function usize(v: JsonValue, what: string): bigint {
  if (v.kind !== "number" || !/^(0|[1-9][0-9]*)$/.test(v.text)) {
    fail(`${what} must be a non-negative integer (no sign, fraction or exponent), got ${describe(v)}`);
  }
  const n = BigInt(v.text);
  if (n > USIZE_MAX) fail(`${what} is ${v.text}, more than 2^64 - 1`);
  return n;
}

function tensor(name: string, value: JsonValue): HeaderTensor {
  const entry = `entry ${quote(name)}`;
  if (value.kind !== "object") {
    fail(`${entry} must be an object {dtype, shape, data_offsets}, got ${describe(value)}`);
  }
  const field = (key: string): JsonValue => {
    const found = value.entries.find(([k]) => k === key);
    if (!found) fail(`${entry} has no "${key}"`);
    return found[1];
  };
  const dtype = field("dtype");
  if (dtype.kind !== "string") fail(`${entry} has dtype ${describe(dtype)}, expected a string`);
  if (!Object.hasOwn(DTYPE_BITS, dtype.value)) {
    fail(
      `${entry} has unknown dtype ${JSON.stringify(dtype.value.slice(0, 40))} (safetensors dtypes: ${
        Object.keys(DTYPE_BITS).join(", ")
      })`,
    );
  }
  const shape = field("shape");
  if (shape.kind !== "array") fail(`${entry} has shape ${describe(shape)}, expected an array`);
  const offsets = field("data_offsets");
  if (offsets.kind !== "array" || offsets.items.length !== 2) {
    fail(
      `${entry} has data_offsets ${describe(offsets)}${
        offsets.kind === "array" ? ` of ${offsets.items.length} items` : ""
      }, expected an array of two integers`,
    );
  }
  return {
    name,
    dtype: dtype.value,
    shape: shape.items.map((d, i) => usize(d, `${entry}: shape[${i}]`)),
    begin: usize(offsets.items[0], `${entry}: data_offsets[0]`),
    end: usize(offsets.items[1], `${entry}: data_offsets[1]`),
  };
}

function metadataPairs(value: JsonValue): [string, string][] {
  if (value.kind === "null") return [];
  if (value.kind !== "object") {
    fail(`__metadata__ must be an object of strings or null, got ${describe(value)}`);
  }
  return value.entries.map(([k, v]): [string, string] => {
    if (v.kind !== "string") fail(`__metadata__ ${quote(k)} must be a string, got ${describe(v)}`);
    return [k, v.value];
  });
}

/** The number of bytes a tensor's shape and dtype need, with the reference's overflow checks. */
export function tensorBytes(name: string, dtype: string, shape: readonly bigint[]): bigint {
  let count = 1n;
  for (const d of shape) {
    count *= d;
    if (count > USIZE_MAX) {
      fail(`entry ${quote(name)}: the element count of shape [${shape}] overflows 2^64 - 1`);
    }
  }
  const bits = count * BigInt(DTYPE_BITS[dtype]);
  if (bits > USIZE_MAX) {
    fail(`entry ${quote(name)}: ${count} elements of ${dtype} overflow 2^64 - 1 bits`);
  }
  if (bits % 8n !== 0n) {
    fail(
      `entry ${quote(name)}: ${count} elements of ${dtype} (${DTYPE_BITS[dtype]} bits) are not whole bytes`,
    );
  }
  return bits / 8n;
}

/**
 * Reads and validates a parsed header against `dataLength` bytes of data,
 * with the reference's rules listed in the module doc.
 *
 * @example
 * ```ts
 * import { parseHeaderJson } from "./safetensors_json.ts";
 * import { readHeader } from "./safetensors_header.ts";
 * const json = parseHeaderJson('{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}');
 * console.log(readHeader(json, 8).tensors[0].shape); // [2n]
 * ```
 */
export function readHeader(json: JsonValue, dataLength: number): Header {
  if (json.kind !== "object") fail(`the header must be a JSON object, got ${describe(json)}`);
  let metadata: [string, string][] = [];
  const tensors: HeaderTensor[] = [];
  for (const [key, value] of json.entries) {
    if (key === "__metadata__") metadata = metadataPairs(value);
    else tensors.push(tensor(key, value));
  }
  tensors.sort((a, b) =>
    a.begin < b.begin ? -1 : a.begin > b.begin ? 1 : a.end < b.end ? -1 : a.end > b.end ? 1 : 0
  );
  let start = 0n;
  for (const t of tensors) {
    const entry = `entry ${quote(t.name)}`;
    if (t.end < t.begin) fail(`${entry} has data_offsets [${t.begin}, ${t.end}] that end before they begin`);
    if (t.begin > start) {
      fail(
        `${entry} has data_offsets [${t.begin}, ${t.end}]: a gap of ${
          t.begin - start
        } bytes after byte ${start}`,
      );
    }
    if (t.begin < start) {
      fail(`${entry} has data_offsets [${t.begin}, ${t.end}] that overlap the data before byte ${start}`);
    }
    const bytes = tensorBytes(t.name, t.dtype, t.shape);
    if (t.end - t.begin !== bytes) {
      fail(
        `${entry}: shape [${t.shape}] of ${t.dtype} needs ${bytes} bytes, data_offsets [${t.begin}, ${t.end}] give ${
          t.end - t.begin
        }`,
      );
    }
    start = t.end;
  }
  const have = BigInt(dataLength);
  if (start !== have) {
    fail(
      start < have
        ? `${have - start} trailing bytes: the tensors cover ${start} bytes of data, the file has ${have}`
        : `the file is ${
          start - have
        } bytes short: the tensors cover ${start} bytes of data, the file has ${have}`,
    );
  }
  return { tensors, metadata, dataBytes: start };
}
