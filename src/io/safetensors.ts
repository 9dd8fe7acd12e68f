/**
 * The safetensors format (Hugging Face): an 8-byte little-endian header
 * length, a JSON header of `{name: {dtype, shape, data_offsets}}` plus an
 * optional `__metadata__` string map, then little-endian tensor data. Saving
 * writes a temporary file and renames it; loading checks every field and
 * rejects a malformed file with a {@linkcode KanError}.
 *
 * @module
 */

import { KanError } from "../errors.ts";
import type { StateDict } from "../layers/parameter.ts";

/** Largest header accepted, as the reference implementation: 100 MB. */
export const MAX_HEADER_BYTES = 100_000_000;

/** Element sizes of the dtypes read (F32 written; F64, F16 and BF16 converted to float32 on load). */
const DTYPE_BYTES: Record<string, number> = { F32: 4, F64: 8, F16: 2, BF16: 2 };

function fail(what: string): never {
  throw new KanError(`safetensors: ${what}`);
}

/** Encodes `dict` (and string `metadata`) as safetensors bytes, entries in key order, all F32. */
export function encodeSafetensors(dict: StateDict, metadata?: Record<string, string>): Uint8Array {
  const keys = Object.keys(dict).sort();
  const header: Record<string, unknown> = {};
  if (metadata) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== "string") fail(`metadata "${k}" must be a string, got ${typeof v}`);
    }
    header.__metadata__ = metadata;
  }
  let offset = 0;
  for (const key of keys) {
    if (key === "__metadata__") fail(`"__metadata__" cannot name a tensor`);
    const { shape, data } = dict[key];
    const size = shape.reduce((a, b) => a * b, 1);
    if (data.length !== size) fail(`entry "${key}" has ${data.length} values for shape [${shape}]`);
    header[key] = { dtype: "F32", shape, data_offsets: [offset, offset + 4 * size] };
    offset += 4 * size;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8; // pad with spaces so the data starts 8-byte aligned
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const key of keys) {
    for (const v of dict[key].data) {
      view.setFloat32(at, v, true);
      at += 4;
    }
  }
  return out;
}

function float16(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? Number.NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/** Decodes safetensors bytes into a state dict and the metadata; a malformed file is a KanError. */
export function decodeSafetensors(bytes: Uint8Array): { dict: StateDict; metadata: Record<string, string> } {
  if (bytes.length < 8) fail(`file of ${bytes.length} bytes is shorter than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) fail(`header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  const headerLength = Number(n);
  if (8 + headerLength > bytes.length) {
    fail(`header length ${headerLength} runs past the end of the ${bytes.length}-byte file`);
  }
  let header: unknown;
  try {
    header = JSON.parse(
      new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + headerLength)),
    );
  } catch (cause) {
    throw new KanError(`safetensors: the header is not valid UTF-8 JSON (${(cause as Error).message})`, {
      cause,
    });
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    fail("the header is not a JSON object");
  }
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const dict: StateDict = {};
  const spans: [number, number, string][] = [];
  for (const [key, entry] of Object.entries(header as Record<string, unknown>)) {
    if (key === "__metadata__") {
      if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
        fail("__metadata__ is not an object");
      }
      for (const [k, v] of Object.entries(entry)) {
        if (typeof v !== "string") fail(`__metadata__ "${k}" is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    if (typeof entry !== "object" || entry === null) fail(`entry "${key}" is not an object`);
    const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
    if (typeof dtype !== "string" || !(dtype in DTYPE_BYTES)) {
      fail(
        `entry "${key}" has unknown or unsupported dtype ${
          JSON.stringify(dtype)
        } (read: F32, F64, F16, BF16)`,
      );
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`entry "${key}" has an invalid shape ${JSON.stringify(shape)}`);
    }
    if (
      !Array.isArray(offsets) || offsets.length !== 2 ||
      !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)
    ) {
      fail(`entry "${key}" has invalid data_offsets ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as number[];
    if (begin > end || end > dataLength) {
      fail(`entry "${key}" has data_offsets [${begin}, ${end}] outside the ${dataLength} bytes of data`);
    }
    const itemSize = DTYPE_BYTES[dtype];
    let count = 1;
    for (const d of shape as number[]) count *= d;
    if (count * itemSize !== end - begin) {
      fail(
        `entry "${key}": shape [${shape}] of ${dtype} needs ${count * itemSize} bytes, data_offsets give ${
          end - begin
        }`,
      );
    }
    spans.push([begin, end, key]);
    const data = new Float32Array(count);
    const at = dataStart + begin;
    for (let i = 0; i < count; i++) {
      const o = at + i * itemSize;
      data[i] = dtype === "F32"
        ? view.getFloat32(o, true)
        : dtype === "F64"
        ? view.getFloat64(o, true)
        : dtype === "F16"
        ? float16(view.getUint16(o, true))
        : new Float32Array(new Uint32Array([view.getUint16(o, true) << 16]).buffer)[0];
    }
    dict[key] = { shape: shape as number[], data };
  }
  spans.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  for (let i = 1; i < spans.length; i++) {
    if (spans[i][0] < spans[i - 1][1]) fail(`entries "${spans[i - 1][2]}" and "${spans[i][2]}" overlap`);
  }
  return { dict, metadata };
}

/**
 * Saves a state dict (with optional string metadata) as a safetensors file:
 * written to a temporary file beside `path`, then renamed over it.
 *
 * @example
 * ```ts
 * import { Gpu, kan, loadSafetensors, saveSafetensors } from "../../mod.ts";
 * const gpu = await Gpu.request();
 * const model = kan(gpu, [2, 3, 1], { basis: "bspline" });
 * const path = await Deno.makeTempFile({ suffix: ".safetensors" });
 * await saveSafetensors(path, await model.stateDict(), { note: "example" });
 * model.loadStateDict(await loadSafetensors(path));
 * gpu.destroy();
 * ```
 */
export async function saveSafetensors(
  path: string,
  dict: StateDict,
  metadata?: Record<string, string>,
): Promise<void> {
  const bytes = encodeSafetensors(dict, metadata);
  const temporary = `${path}.tmp-${Deno.pid}-${Date.now()}`;
  try {
    await Deno.writeFile(temporary, bytes);
    await Deno.rename(temporary, path);
  } catch (cause) {
    await Deno.remove(temporary).catch(() => {});
    throw new KanError(`saveSafetensors: could not write "${path}": ${(cause as Error).message}`, { cause });
  }
}

/** Loads a safetensors file into a state dict; a missing or malformed file is a {@linkcode KanError}. */
export async function loadSafetensors(path: string): Promise<StateDict> {
  return (await readSafetensors(path)).dict;
}

/** Loads a safetensors file with its metadata. */
export async function readSafetensors(
  path: string,
): Promise<{ dict: StateDict; metadata: Record<string, string> }> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (cause) {
    throw new KanError(`loadSafetensors: could not read "${path}": ${(cause as Error).message}`, { cause });
  }
  return decodeSafetensors(bytes);
}
