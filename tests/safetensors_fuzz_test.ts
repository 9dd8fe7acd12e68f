/**
 * safetensors fuzz: thousands of seeded corruptions of several valid files
 * (bit flips, truncation, trailing bytes, the length field, every header
 * field, offset shuffles, duplicate keys, huge shapes, other dtypes,
 * non-UTF-8, whitespace, JSON syntax, nesting depth, metadata) are decoded;
 * every outcome must be a KanError or a correct result, and must agree with
 * an oracle written here: the reference implementation's rules (Hugging Face
 * `safetensors/src/tensor.rs` + serde_json) restated with `JSON.parse` and a
 * token scan instead of the module's own parser, plus the module's documented
 * stricter choices (no repeated keys, no array-form tensors) and its
 * supported dtypes. Accepted files must decode to the oracle's float64
 * reading of the bytes.
 *
 * Set SAFETENSORS_FUZZ_DUMP=<folder> to write every mutated file there with
 * the oracle's verdicts (verdicts.tsv), to compare with another reader.
 */

import {
  decodeSafetensors,
  encodeSafetensors,
  kan,
  KanError,
  loadSafetensors,
  type StateDict,
} from "../mod.ts";
import { assert, assertEquals } from "./assert.ts";
import { seededUniform, testGpu } from "./helpers.ts";

const gpu = await testGpu();

const unhandled: unknown[] = [];
globalThis.addEventListener("unhandledrejection", (e) => {
  unhandled.push(e.reason);
  e.preventDefault();
});

// ---------------------------------------------------------------------------
// The oracle: the reference's rules, restated independently.

const BITS: Record<string, number> = {
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
};
const READ = ["F32", "F64", "F16", "BF16", "I64", "I32"];
const U64_MAX = 2n ** 64n - 1n;

type Expected = {
  dict: Record<string, { shape: number[]; data: number[] }>;
  metadata: Record<string, string>;
};
type Verdict = { kind: "accept"; expected: Expected } | { kind: "malformed"; why: string } | {
  kind: "unsupported";
  why: string;
};

/** Well-formed UTF-8 (Unicode Table 3-7), decoded; null when ill-formed. */
function utf8(b: Uint8Array): string | null {
  let out = "";
  for (let i = 0; i < b.length;) {
    const c = b[i];
    const cont = (k: number, lo = 0x80, hi = 0xbf) => i + k < b.length && b[i + k] >= lo && b[i + k] <= hi;
    let cp: number, n: number;
    if (c < 0x80) [cp, n] = [c, 1];
    else if (c >= 0xc2 && c <= 0xdf && cont(1)) [cp, n] = [c & 0x1f, 2];
    else if (
      (c === 0xe0 && cont(1, 0xa0) || (c >= 0xe1 && c <= 0xec || c === 0xee || c === 0xef) && cont(1) ||
        c === 0xed && cont(1, 0x80, 0x9f)) && cont(2)
    ) [cp, n] = [c & 0x0f, 3];
    else if (
      (c === 0xf0 && cont(1, 0x90) || c >= 0xf1 && c <= 0xf3 && cont(1) ||
        c === 0xf4 && cont(1, 0x80, 0x8f)) &&
      cont(2) && cont(3)
    ) [cp, n] = [c & 0x07, 4];
    else return null;
    for (let k = 1; k < n; k++) cp = cp * 64 + (b[i + k] & 0x3f);
    out += String.fromCodePoint(cp);
    i += n;
  }
  return out;
}

class Num {
  constructor(readonly source: string) {}
}

/** Repeated keys and nesting depth, from a scan of the string and structural tokens. */
function scan(text: string): { duplicate: boolean; depth: number } {
  const stack: (Set<string> | null)[] = [];
  let depth = 0, duplicate = false, pending: string | null = null;
  for (const [t] of text.matchAll(/"(?:[^"\\]|\\.)*"|[{}[\]:,]/g)) {
    if (t === ":" && pending !== null) {
      const keys = stack[stack.length - 1]!;
      const key = JSON.parse(pending) as string;
      if (keys.has(key)) duplicate = true;
      keys.add(key);
    }
    pending = t.startsWith('"') ? t : null;
    if (t === "{" || t === "[") depth = Math.max(depth, stack.push(t === "{" ? new Set() : null));
    if (t === "}" || t === "]") stack.pop();
  }
  return { duplicate, depth };
}

function ieee(bits: number, expBits: number, manBits: number): number {
  const sign = Math.floor(bits / 2 ** (expBits + manBits)) % 2 ? -1 : 1;
  const exp = Math.floor(bits / 2 ** manBits) % 2 ** expBits;
  const man = bits % 2 ** manBits;
  const bias = 2 ** (expBits - 1) - 1;
  if (exp === 2 ** expBits - 1) return man ? NaN : sign * Infinity;
  if (exp === 0) return sign * man * 2 ** (1 - bias - manBits);
  return sign * (1 + man / 2 ** manBits) * 2 ** (exp - bias);
}

function oracle(bytes: Uint8Array): Verdict {
  const bad = (why: string): Verdict => ({ kind: "malformed", why });
  if (bytes.length < 8) return bad("short");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getBigUint64(0, true);
  if (n > 100_000_000n) return bad("header too large");
  if (8n + n > BigInt(bytes.length)) return bad("header past the end");
  const text = utf8(bytes.subarray(8, 8 + Number(n)));
  if (text === null) return bad("utf-8");
  let header: unknown;
  let strings = true, numbers = true;
  try {
    header =
      (JSON.parse as (t: string, r: (k: string, v: unknown, c?: { source?: string }) => unknown) => unknown)(
        text,
        (k, v, c) => {
          if (!k.isWellFormed() || (typeof v === "string" && !v.isWellFormed())) strings = false;
          if (typeof v !== "number") return v;
          if (!Number.isFinite(Number(c!.source))) numbers = false;
          return new Num(c!.source!);
        },
      );
  } catch {
    return bad("JSON syntax");
  }
  if (!strings) return bad("lone surrogate");
  if (!numbers) return bad("number out of range");
  const { duplicate, depth } = scan(text);
  if (depth > 127) return bad("depth");
  if (duplicate) return bad("duplicate key");
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Num);
  const usize = (v: unknown): bigint | null =>
    v instanceof Num && /^(0|[1-9]\d*)$/.test(v.source) && BigInt(v.source) <= U64_MAX
      ? BigInt(v.source)
      : null;
  if (!isObject(header)) return bad("not an object");
  const metadata: Record<string, string> = {};
  const tensors: { name: string; dtype: string; shape: bigint[]; b: bigint; e: bigint }[] = [];
  for (const [name, v] of Object.entries(header)) {
    if (name === "__metadata__") {
      if (v === null) continue;
      if (!isObject(v)) return bad("metadata not an object");
      for (const [k, s] of Object.entries(v)) {
        if (typeof s !== "string") return bad("metadata value");
        Object.defineProperty(metadata, k, {
          value: s,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      continue;
    }
    if (!isObject(v) || !("dtype" in v) || !("shape" in v) || !("data_offsets" in v)) return bad("entry");
    const { dtype, shape, data_offsets: o } = v;
    if (typeof dtype !== "string" || !(dtype in BITS)) return bad("dtype");
    if (!Array.isArray(shape) || !Array.isArray(o) || o.length !== 2) return bad("shape or offsets");
    const dims = shape.map(usize), [b, e] = o.map(usize);
    if (dims.includes(null) || b === null || e === null) return bad("not usize");
    tensors.push({ name, dtype, shape: dims as bigint[], b, e });
  }
  tensors.sort((x, y) => x.b !== y.b ? (x.b < y.b ? -1 : 1) : x.e === y.e ? 0 : x.e < y.e ? -1 : 1);
  let start = 0n;
  for (const t of tensors) {
    if (t.b !== start || t.e < t.b) return bad("offsets");
    let count = 1n;
    for (const d of t.shape) {
      count *= d;
      if (count > U64_MAX) return bad("overflow");
    }
    const bits = count * BigInt(BITS[t.dtype]);
    if (bits > U64_MAX) return bad("overflow");
    if (bits % 8n) return bad("misaligned");
    if (t.e - t.b !== bits / 8n) return bad("size");
    start = t.e;
  }
  if (8n + n + start !== BigInt(bytes.length)) return bad("coverage");
  for (const t of tensors) {
    if (!READ.includes(t.dtype)) return { kind: "unsupported", why: t.dtype };
    if (t.shape.some((d) => d > BigInt(Number.MAX_SAFE_INTEGER))) {
      return { kind: "unsupported", why: "shape" };
    }
  }
  const dict: Expected["dict"] = {};
  const at0 = 8 + Number(n);
  for (const t of tensors) {
    const data: number[] = [];
    if (t.dtype === "I64" || t.dtype === "I32") {
      const size = t.dtype === "I64" ? 8 : 4;
      for (let at = at0 + Number(t.b); at < at0 + Number(t.e); at += size) {
        const v = size === 8 ? view.getBigInt64(at, true) : BigInt(view.getInt32(at, true));
        if (v > 2n ** 24n || v < -(2n ** 24n)) return { kind: "unsupported", why: "integer" };
        data.push(Number(v));
      }
      Object.defineProperty(dict, t.name, {
        value: { shape: t.shape.map(Number), data },
        enumerable: true,
        writable: true,
        configurable: true,
      });
      continue;
    }
    const [size, expBits, manBits] =
      ({ F64: [8, 11, 52], F32: [4, 8, 23], F16: [2, 5, 10], BF16: [2, 8, 7] } as const)[
        t.dtype as "F64"
      ];
    for (let at = at0 + Number(t.b); at < at0 + Number(t.e); at += size) {
      data.push(
        size === 8
          ? view.getFloat64(at, true)
          : ieee(size === 4 ? view.getUint32(at, true) : view.getUint16(at, true), expBits, manBits),
      );
    }
    Object.defineProperty(dict, t.name, {
      value: { shape: t.shape.map(Number), data },
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return { kind: "accept", expected: { dict, metadata } };
}

/** Our outcome agrees with the verdict: the right class, and for an accepted file the right values. */
function check(
  label: string,
  verdict: Verdict,
  outcome: { ok: { dict: StateDict; metadata: Record<string, string> } } | { error: unknown },
): "accept" | "malformed" | "unsupported" {
  if ("error" in outcome) {
    const e = outcome.error;
    if (!(e instanceof KanError)) throw new Error(`${label}: not a KanError: ${e}`, { cause: e });
    const ours = /unsupported here/.test(e.message) ? "unsupported" : "malformed";
    if (ours !== verdict.kind) {
      throw new Error(
        `${label}: rejected as ${ours} (${e.message}), the oracle says ${JSON.stringify(verdict)}`,
      );
    }
    return ours;
  }
  if (verdict.kind !== "accept") {
    throw new Error(`${label}: accepted, the oracle says ${JSON.stringify(verdict)}`);
  }
  const { dict, metadata } = outcome.ok;
  assertEquals(metadata, verdict.expected.metadata, `${label}: metadata`);
  assertEquals(Object.keys(dict).sort(), Object.keys(verdict.expected.dict).sort(), `${label}: names`);
  for (const [name, want] of Object.entries(verdict.expected.dict)) {
    assertEquals(dict[name].shape, want.shape, `${label}: shape of ${name}`);
    assert(dict[name].data instanceof Float32Array, `${label}: ${name} is not a Float32Array`);
    assertEquals(dict[name].data.length, want.data.length, `${label}: length of ${name}`);
    for (let i = 0; i < want.data.length; i++) {
      const got = dict[name].data[i], w = Math.fround(want.data[i]);
      if (!(Object.is(got, w) || (Number.isNaN(got) && Number.isNaN(w)))) {
        throw new Error(`${label}: ${name}[${i}] = ${got}, the oracle reads ${w}`);
      }
    }
  }
  return "accept";
}

// ---------------------------------------------------------------------------
// Valid base files, as editable header models.

/** A header as raw JSON pieces: each entry a raw key and either raw fields or a raw value. */
interface Model {
  entries: { key: string; fields?: [string, string][]; raw?: string }[];
  data: Uint8Array;
  pad?: string;
}

function toText(m: Model): string {
  const body = m.entries.map((e) =>
    `${e.key}:${e.raw ?? `{${e.fields!.map(([k, v]) => `${k}:${v}`).join(",")}}`}`
  );
  return `{${body.join(",")}}${m.pad ?? ""}`;
}

function build(header: string | Uint8Array, data: Uint8Array, length?: bigint): Uint8Array {
  const h = typeof header === "string" ? new TextEncoder().encode(header) : header;
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, length ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

function fromBytes(bytes: Uint8Array): Model {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, unknown>;
  const m: Model = {
    entries: Object.entries(header).map(([k, v]) =>
      k === "__metadata__" ? { key: JSON.stringify(k), raw: JSON.stringify(v) } : {
        key: JSON.stringify(k),
        fields: Object.entries(v as object).map(([f, x]) => [JSON.stringify(f), JSON.stringify(x)]),
      }
    ),
    data: bytes.slice(8 + n),
  };
  m.pad = " ".repeat((8 - new TextEncoder().encode(toText(m)).length % 8) % 8);
  return m;
}

async function bases(): Promise<Model[]> {
  const random = seededUniform(7);
  const randomBytes = (k: number) => Uint8Array.from({ length: k }, () => Math.floor(random() * 256));
  const model = kan(gpu, [2, 3, 1], { basis: "bspline", seed: 1 });
  const trained = fromBytes(encodeSafetensors(await model.stateDict(), { format: "pt" }));
  model.dispose();
  const sample = fromBytes(encodeSafetensors({
    "layers.0.grid": { shape: [2, 3], data: Float32Array.of(-1, 0, 1, -2.5, 1e-30, 3.4e38) },
    "layers.0.scalar": { shape: [], data: Float32Array.of(0.5) },
    "layers.1.weight": { shape: [1, 4], data: Float32Array.of(Math.PI, -0, 7, 1 / 3) },
  }));
  const t = (dtype: string, shape: number[], b: number, e: number): [string, string][] => [
    ['"dtype"', JSON.stringify(dtype)],
    ['"shape"', JSON.stringify(shape)],
    ['"data_offsets"', `[${b},${e}]`],
  ];
  const mixed: Model = {
    entries: [
      { key: '"b"', fields: t("BF16", [3], 8, 14) },
      { key: '"h"', fields: t("F16", [2, 2], 0, 8) },
      { key: '"__metadata__"', raw: '{"who":"fuzz","é":"ü"}' },
      { key: '"d"', fields: t("F64", [2], 16, 32) },
      { key: '"s"', fields: t("F32", [1, 2], 32, 40) },
      { key: '"z"', fields: t("F32", [0, 3], 40, 40) },
      { key: '"w"', fields: t("F32", [], 40, 44) },
      { key: '"p"', fields: t("F16", [1], 14, 16) },
    ],
    data: randomBytes(44),
    pad: "   \n",
  };
  const empty: Model = {
    entries: [
      { key: '"__metadata__"', raw: "null" },
      { key: '"e0"', fields: t("F32", [0], 0, 0) },
      { key: '"e1"', fields: t("F16", [2, 0], 0, 0) },
    ],
    data: new Uint8Array(0),
    pad: " ",
  };
  return [trained, sample, mixed, empty];
}

// ---------------------------------------------------------------------------
// Mutations.

type Random = { int: (k: number) => number; pick: <T>(a: readonly T[]) => T; chance: (p: number) => boolean };

const VALID_DTYPES = Object.keys(BITS);
const tensorsOf = (m: Model) => m.entries.filter((e) => e.fields);

function setField(m: Model, r: Random, field: string, value: string): void {
  const ts = tensorsOf(m);
  if (ts.length === 0) return;
  const e = r.pick(ts);
  const f = e.fields!.find(([k]) => k === `"${field}"`);
  if (f) f[1] = value;
}

function escapeFirst(key: string): string {
  const c = key.charCodeAt(1);
  return `"\\u${c.toString(16).padStart(4, "0")}${key.slice(2)}`;
}

const MUTATIONS: Record<string, (r: Random, m: Model) => Uint8Array> = {
  "bit flips": (r, m) => {
    const b = build(toText(m), m.data);
    for (let k = 1 + r.int(4); k > 0; k--) b[r.int(b.length)] ^= 1 << r.int(8);
    return b;
  },
  "header bit flips": (r, m) => {
    const b = build(toText(m), m.data);
    const n = b.length - m.data.length - 8;
    for (let k = 1 + r.int(3); k > 0; k--) b[8 + r.int(n)] ^= 1 << r.int(8);
    return b;
  },
  "truncation": (r, m) => {
    const b = build(toText(m), m.data);
    return b.slice(0, r.int(b.length));
  },
  "trailing bytes": (r, m) => {
    const b = build(toText(m), m.data);
    const extra = r.chance(0.5)
      ? new Uint8Array(1 + r.int(9))
      : Uint8Array.from({ length: 1 + r.int(9) }, () => r.int(256));
    const out = new Uint8Array(b.length + extra.length);
    out.set(b);
    out.set(extra, b.length);
    return out;
  },
  "length field": (r, m) => {
    const text = toText(m);
    const n = BigInt(new TextEncoder().encode(text).length);
    const lie = r.chance(0.6) ? n + BigInt(r.int(19) - 9) : r.pick([
      0n,
      7n,
      100_000_000n,
      100_000_001n,
      2n ** 32n + n,
      2n ** 63n,
      U64_MAX,
      U64_MAX - 7n,
    ]);
    return build(text, m.data, lie < 0n ? 0n : lie);
  },
  "numbers": (r, m) => {
    const text = toText(m);
    const numbers = [...text.matchAll(/-?\d+(\.\d+)?([eE][+-]?\d+)?/g)];
    if (numbers.length === 0) return build(text, m.data);
    const zeros = numbers.filter((x) => x[0] === "0");
    if (zeros.length && r.chance(0.25)) { // zero written as a float: the same value, not an integer
      const hit = r.pick(zeros);
      const lie = r.pick(["-0", "0.0", "0e0", "-0.0", "0E+0"]);
      return build(text.slice(0, hit.index) + lie + text.slice(hit.index! + 1), m.data);
    }
    const hit = r.pick(numbers);
    const lie = r.pick([
      "0",
      "1",
      "2",
      "3",
      "4",
      "8",
      "99",
      "4096",
      "4294967296",
      "9007199254740993",
      "18446744073709551615",
      "18446744073709551616",
      "-1",
      "-0",
      "1.0",
      "1e2",
      "01",
      "1.",
      "+1",
      String(Number(hit[0]) + 1),
      String(Number(hit[0]) - 1),
      String(Number(hit[0]) * 2),
    ]);
    return build(text.slice(0, hit.index) + lie + text.slice(hit.index! + hit[0].length), m.data);
  },
  "dtype": (r, m) => {
    setField(
      m,
      r,
      "dtype",
      r.pick([
        ...VALID_DTYPES.map((d) => JSON.stringify(d)),
        '"f32"',
        '"FP32"',
        '""',
        '"Q4"',
        '"F32 "',
        "32",
        "null",
        '["F32"]',
        '{"F32":null}',
      ]),
    );
    return build(toText(m), m.data);
  },
  "dtype with a fitting shape": (r, m) => {
    const ts = tensorsOf(m);
    if (ts.length === 0) return build(toText(m), m.data);
    const e = r.pick(ts);
    const get = (k: string) => JSON.parse(e.fields!.find(([f]) => f === `"${k}"`)![1]);
    const [b, end] = get("data_offsets") as number[];
    const bits = (end - b) * 8;
    const dtype = r.pick(VALID_DTYPES);
    const count = bits / BITS[dtype];
    const shape = r.chance(0.2) // one element more: with F4 or F6 the bits then round down to the same bytes
      ? [Math.floor(count) + 1]
      : Number.isInteger(count)
      ? (r.chance(0.5) ? [count] : [1, count])
      : [Math.floor(count)];
    e.fields = e.fields!.map(([k, v]) =>
      k === '"dtype"' ? [k, JSON.stringify(dtype)] : k === '"shape"' ? [k, JSON.stringify(shape)] : [k, v]
    );
    return build(toText(m), m.data);
  },
  "shape": (r, m) => {
    const ts = tensorsOf(m);
    if (ts.length === 0) return build(toText(m), m.data);
    const e = r.pick(ts);
    const shape = JSON.parse(e.fields!.find(([f]) => f === '"shape"')![1]) as number[];
    const count = shape.reduce((a, b) => a * b, 1);
    const value = r.pick([
      "[]",
      `[${count}]`,
      `[${count},1]`,
      `[1,${count}]`,
      `[${[...shape].reverse()}]`,
      `[${count + 1}]`,
      "[-1]",
      "[-0]",
      `[${count},-0]`,
      "[1.0]",
      "[1e0]",
      '["1"]',
      "null",
      "{}",
      "[18446744073709551615,0]",
      "[0,18446744073709551615]",
      "[4294967296,4294967296,0]",
      "[0,4294967296,4294967296]",
      "[9007199254740992,0]",
      "[18446744073709551616]",
      "[2305843009213693952,8]",
    ]);
    e.fields = e.fields!.map(([k, v]) => k === '"shape"' ? [k, value] : [k, v]);
    return build(toText(m), m.data);
  },
  "offsets": (r, m) => {
    const ts = tensorsOf(m);
    if (ts.length === 0) return build(toText(m), m.data);
    const field = (e: (typeof ts)[number]) => e.fields!.find(([f]) => f === '"data_offsets"')!;
    const a = r.pick(ts), b = r.pick(ts);
    const [s, e] = JSON.parse(field(a)[1]) as number[];
    switch (r.int(6)) {
      case 5: { // one element fewer: a gap before the next tensor, or a trailing byte or more
        const dtype = JSON.parse(a.fields!.find(([f]) => f === '"dtype"')![1]) as string;
        const size = BITS[dtype] / 8;
        if (e - s >= size && Number.isInteger(size)) {
          field(a)[1] = `[${s},${e - size}]`;
          a.fields = a.fields!.map(([k, v]) => k === '"shape"' ? [k, `[${(e - s) / size - 1}]`] : [k, v]);
        }
        break;
      }
      case 0: // swap two tensors' ranges
        [field(a)[1], field(b)[1]] = [field(b)[1], field(a)[1]];
        break;
      case 1:
        field(a)[1] = `[${e},${s}]`;
        break;
      case 2:
        field(a)[1] = `[${Math.max(0, s + r.int(9) - 4)},${Math.max(0, e + r.int(9) - 4)}]`;
        break;
      case 3:
        field(a)[1] = r.pick([
          `[-0,${e}]`,
          `[${s},${e}.0]`,
          `[${s}]`,
          `[${s},${e},${e}]`,
          `{"0":${s},"1":${e}}`,
          `["${s}","${e}"]`,
          "null",
          "[]",
        ]);
        break;
      default: // shift every range by the same amount
        for (const t of ts) {
          const [x, y] = JSON.parse(field(t)[1]) as number[];
          const d = r.pick([1, 4, 8]);
          field(t)[1] = `[${x + d},${y + d}]`;
        }
    }
    return build(toText(m), m.data);
  },
  "entry order": (r, m) => {
    for (let i = m.entries.length - 1; i > 0; i--) {
      const j = r.int(i + 1);
      [m.entries[i], m.entries[j]] = [m.entries[j], m.entries[i]];
    }
    for (const e of tensorsOf(m)) if (r.chance(0.5)) e.fields!.reverse();
    return build(toText(m), m.data);
  },
  "duplicate keys": (r, m) => {
    const ts = tensorsOf(m);
    const choice = r.int(6);
    if (choice === 0 && ts.length) { // the same tensor twice, maybe spelled with an escape
      const e = r.pick(ts);
      m.entries.push({
        key: r.chance(0.5) ? escapeFirst(e.key) : e.key,
        fields: e.fields!.map(([k, v]) => [k, v]),
      });
    } else if (choice === 1 && ts.length) { // a field twice
      const e = r.pick(ts);
      e.fields!.push(r.pick(e.fields!));
    } else if (choice === 2) {
      m.entries.push({ key: '"__metadata__"', raw: r.pick(["{}", "null", '{"a":"b"}']) });
    } else if (choice === 3) {
      m.entries.push({ key: '"__metadata__"', raw: '{"k":"1","k":"2"}' });
      m.entries.splice(m.entries.findIndex((e) => e.key === '"__metadata__"'), 1);
    } else if (choice === 4 && ts.length) { // an ignored extra field with repeated keys inside
      r.pick(ts).fields!.push(['"extra"', '{"x":1,"x":2}']);
    } else if (ts.length) { // two different names for one range
      const e = r.pick(ts);
      m.entries.push({ key: '"another name"', fields: e.fields!.map(([k, v]) => [k, v]) });
    }
    return build(toText(m), m.data);
  },
  "entry form": (r, m) => {
    const ts = tensorsOf(m);
    if (ts.length === 0) return build(toText(m), m.data);
    const e = r.pick(ts);
    const values = e.fields!.map(([, v]) => v);
    switch (r.int(5)) {
      case 0:
        e.raw = r.pick([`[${values}]`, "null", '"x"', "1", "[]", "{}", "true"]);
        break;
      case 1:
        e.fields!.splice(r.int(e.fields!.length), 1);
        break;
      case 2:
        e.fields!.push([
          r.pick(['"extra"', '"Dtype"', '"shape "', '""']),
          r.pick(["1", '"x"', "null", "[1,[2,{}]]", '{"a":{"b":[]}}', "-0.5e-3", "true"]),
        ]);
        break;
      case 3:
        e.key = r.pick([
          '""',
          '"__metadata"',
          '"with space"',
          '"\\u00e9"',
          '"\\"quoted\\""',
          '"a/b"',
          '"\\/"',
        ]);
        break;
      default:
        e.fields = e.fields!.map(([k, v]) => [k.toUpperCase(), v]);
    }
    return build(toText(m), m.data);
  },
  "metadata": (r, m) => {
    const raw = r.pick([
      "null",
      "{}",
      '{"a":"b"}',
      '{"":""}',
      '{"a":1}',
      '{"a":null}',
      '{"a":{"b":"c"}}',
      '{"a":["x"]}',
      '"text"',
      "[]",
      "1",
      '{"a":"b","c":{"d":{"e":"f"}}}',
      `{"deep":${"[".repeat(130)}${"]".repeat(130)}}`,
      '{"__proto__":"p"}',
    ]);
    const at = m.entries.findIndex((e) => e.key === '"__metadata__"');
    if (at >= 0) m.entries[at].raw = raw;
    else m.entries.splice(r.int(m.entries.length + 1), 0, { key: '"__metadata__"', raw });
    return build(toText(m), m.data);
  },
  "nesting depth": (r, m) => {
    const ts = tensorsOf(m);
    const depth = 122 + r.int(8); // the extra field sits at depth 2, so 125 arrays reach the limit of 127
    const value = r.chance(0.5)
      ? "[".repeat(depth) + "]".repeat(depth)
      : '{"k":'.repeat(depth) + "0" + "}".repeat(depth);
    if (ts.length) r.pick(ts).fields!.push(['"nested"', value]);
    else m.entries.push({ key: '"__metadata__"', raw: value });
    return build(toText(m), m.data);
  },
  "key strings": (r, m) => {
    const e = r.pick(m.entries.filter((x) => x.key !== '"__metadata__"').concat(m.entries));
    const edit = r.pick([
      "\\u0041",
      "\\n",
      "\\/",
      "\\ud83d\\ude00",
      "\\ud800",
      "\\udc00",
      "\\ud800\\u0041",
      "\\ud800\\ud800",
      "\\x",
      "\\u12",
      "\\u12g4",
      "\n",
      "\t",
      "\u007f",
      "\u0001",
      "é€😀",
      "\\",
    ]);
    e.key = e.key.slice(0, -1) + edit + '"';
    return build(toText(m), m.data);
  },
  "non-UTF-8": (r, m) => {
    const h = new TextEncoder().encode(toText(m));
    const quotes = [...h.keys()].filter((i) => h[i] === 0x22);
    const at = r.chance(0.1) ? 0 : r.pick(quotes) + 1;
    const insert = r.pick([
      [0xff],
      [0xc0, 0x80],
      [0xc1, 0xbf],
      [0xed, 0xa0, 0x80],
      [0xf4, 0x90, 0x80, 0x80],
      [0xf5, 0x80, 0x80, 0x80],
      [0xe2, 0x82],
      [0x80],
      [0xef, 0xbb, 0xbf],
      [0xc3, 0xa9],
      [0xe2, 0x82, 0xac],
      [0xf0, 0x9f, 0x98, 0x80],
      [0xe0, 0x9f, 0x80],
      [0xf0, 0x8f, 0xbf, 0xbf],
    ]);
    const out = new Uint8Array(h.length + insert.length);
    out.set(h.subarray(0, at));
    out.set(insert, at);
    out.set(h.subarray(at), at + insert.length);
    return build(out, m.data);
  },
  "whitespace": (r, m) => {
    const ws = () => r.pick([" ", "\t", "\n", "\r", "\f", "\v", "\u00a0", "\0", "  ", "\r\n", "\ufeff"]);
    let text = toText(m).trimEnd();
    if (r.chance(0.5)) text = ws() + text;
    if (r.chance(0.5)) text += ws();
    if (r.chance(0.5)) {
      text = text.replace(r.pick([/,/g, /:/g, /\[/g]), (c) => r.chance(0.5) ? `${c}${ws()}` : c);
    }
    return build(text, m.data);
  },
  "JSON syntax": (r, m) => {
    const text = toText(m).trimEnd();
    const close = text.lastIndexOf("}");
    const edited = r.pick([
      () => text.slice(0, close) + ",}",
      () => text.replace("]", ",]"),
      () => text.replace(":", ""),
      () => text.replace(",", ""),
      () => text.replace(/"/g, "'"),
      () => text.replace(/"([a-z_]+)":/, "$1:"),
      () => `/* c */${text}`,
      () => `${text}}`,
      () => `${text}{}`,
      () => `${text}${text}`,
      () => text.slice(0, close),
      () =>
        text.slice(0, close) + (close > 1 ? "," : "") +
        '"x":{"dtype":"F32","shape":[0],"data_offsets":[0,0],"n":NaN}}',
      () => text.replace(/"shape":\[/, '"e":1e400,"shape":['),
      () => text.replace(/"shape":\[/, '"e":-1e-400,"shape":['),
      () => text.replace(/"shape":\[/, `"e":1${"0".repeat(400)},"shape":[`),
      () => text.replace(/"shape":\[/, '"e":1.7976931348623157e308,"shape":['),
      () => text.replace(/"shape":\[/, '"e":tru,"shape":['),
      () => text.replace(/"shape":\[/, '"e":.5,"shape":['),
      () => "",
      () => "[]",
      () => "null",
      () => `"${text}"`,
    ])();
    return build(edited, m.data);
  },
};

// ---------------------------------------------------------------------------

const FILES_PER_KIND = 110;

Deno.test("safetensors fuzz: every corrupted file is a KanError or a correct result, as the oracle says", async () => {
  const start = performance.now();
  const seeded = seededUniform(2024);
  const r: Random = {
    int: (k) => Math.floor(seeded() * k),
    pick: (a) => a[Math.floor(seeded() * a.length)],
    chance: (p) => seeded() < p,
  };
  const models = await bases();
  for (const m of models) {
    const bytes = build(toText(m), m.data);
    assertEquals(oracle(bytes).kind, "accept", "a base file is valid");
    check("base", oracle(bytes), { ok: decodeSafetensors(bytes) });
  }
  const dump = Deno.env.get("SAFETENSORS_FUZZ_DUMP");
  const verdicts: string[] = [];
  const dir = await Deno.makeTempDir();
  const counts: Record<string, Record<string, number>> = {};
  let total = 0, fromDisk = 0;
  try {
    for (const [kind, mutate] of Object.entries(MUTATIONS)) {
      const c = counts[kind] = { accept: 0, malformed: 0, unsupported: 0 };
      for (let i = 0; i < FILES_PER_KIND; i++) {
        const base = models[i % models.length];
        const bytes = mutate(r, { ...structuredClone(base), data: base.data });
        const verdict = oracle(bytes);
        const label = `${kind} #${i}`;
        let outcome;
        try {
          outcome = { ok: decodeSafetensors(bytes) };
        } catch (error) {
          outcome = { error };
        }
        c[check(label, verdict, outcome)]++;
        if (i % 8 === 0) {
          const path = `${dir}/${total}.safetensors`;
          await Deno.writeFile(path, bytes);
          let fromFile;
          try { // loadSafetensors gives the dict alone: its metadata is taken as the oracle's
            const dict = await loadSafetensors(path);
            fromFile = { ok: { dict, metadata: verdict.kind === "accept" ? verdict.expected.metadata : {} } };
          } catch (error) {
            fromFile = { error };
          }
          check(`${label} from disk`, verdict, fromFile);
          fromDisk++;
        }
        if (dump) {
          await Deno.writeFile(`${dump}/${total}.st`, bytes);
          verdicts.push(
            `${total}\t${kind}\t${verdict.kind}\t${verdict.kind === "accept" ? "" : verdict.why}`,
          );
        }
        total++;
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  if (dump) await Deno.writeTextFile(`${dump}/verdicts.tsv`, verdicts.join("\n") + "\n");
  const ms = performance.now() - start;
  console.log(`  ${"mutation".padEnd(28)} accepted  malformed  unsupported`);
  for (const [kind, c] of Object.entries(counts)) {
    console.log(
      `  ${kind.padEnd(28)} ${String(c.accept).padStart(8)} ${String(c.malformed).padStart(10)} ${
        String(c.unsupported).padStart(12)
      }`,
    );
  }
  const sum = (k: "accept" | "malformed" | "unsupported") =>
    Object.values(counts).reduce((a, c) => a + c[k], 0);
  console.log(
    `  ${total} files (${fromDisk} also from disk): ${sum("accept")} accepted, ${
      sum("malformed")
    } malformed, ` +
      `${sum("unsupported")} valid but unsupported; ${ms.toFixed(0)} ms`,
  );
  assert(total >= 1000, `at least 1,000 files, got ${total}`);
  for (const [kind, c] of Object.entries(counts)) {
    if (kind === "entry order") {
      assertEquals(c.accept, FILES_PER_KIND, "reordering the header never breaks a file");
    } else assert(c.malformed > 0, `the mutation "${kind}" never made a malformed file`);
  }
  assert(sum("accept") >= 100, `valid mutations must be decoded and compared too, got ${sum("accept")}`);
  assert(
    sum("unsupported") >= 20,
    `valid files with other dtypes must be told apart, got ${sum("unsupported")}`,
  );
  assert(ms < 60_000, `the fuzz run took ${ms.toFixed(0)} ms, over 60 s`);
});

Deno.test("safetensors fuzz: the oracle itself rejects what the reference rejects", () => {
  // The oracle decides the test above; each of its rules is checked once here on a known file.
  const ok = (h: string, data = 0) => build(h, new Uint8Array(data));
  const t = '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}';
  assertEquals(oracle(ok(`${t}}`, 4)).kind, "accept");
  assertEquals(oracle(ok(`  ${t}}\n\t\r `, 4)).kind, "accept");
  for (
    const [what, bytes] of [
      ["a repeated key", ok(`${t},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, 4)],
      ["a gap", ok('{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', 8)],
      ["trailing bytes", ok(`${t}}`, 5)],
      ["a lone surrogate", ok('{"\\ud800":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', 4)],
      ["-0 in a shape", ok('{"a":{"dtype":"F32","shape":[-0],"data_offsets":[0,0]}}')],
      [
        "128 levels",
        ok(
          `{"__metadata__":{"x":"y"},"q":{"dtype":"F32","shape":[0],"data_offsets":[0,0],"n":${
            "[".repeat(126)
          }${"]".repeat(126)}}}`,
        ),
      ],
      ["1e400", ok(`${t.slice(0, -1)},"x":1e400}}`, 4)],
      ["a trailing NUL", ok(`${t}}\0`, 4)],
      ["F4 in half bytes", ok('{"a":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}}', 2)],
    ] as const
  ) {
    assertEquals(oracle(bytes).kind, "malformed", what);
  }
  assertEquals(oracle(ok('{"a":{"dtype":"I8","shape":[4],"data_offsets":[0,4]}}', 4)).kind, "unsupported");
  assertEquals(
    oracle(
      ok(`{"q":{"dtype":"F32","shape":[0],"data_offsets":[0,0],"n":${"[".repeat(125)}${"]".repeat(125)}}}`),
    ).kind,
    "accept",
    "127 levels",
  );
});

Deno.test("safetensors fuzz: nothing was left unhandled; teardown", () => {
  assertEquals(unhandled, []);
  assertEquals(gpu.stats().liveBuffers, 0);
  gpu.destroy();
});
