/**
 * safetensors: exact round trips, the reference format's layout, atomic
 * saves, and a KanError (never another exception, never a hang) for every
 * malformed file, including 1,000 randomly corrupted ones.
 */

import {
  decodeSafetensors,
  encodeSafetensors,
  kan,
  KanError,
  loadSafetensors,
  readSafetensors,
  saveSafetensors,
} from "../mod.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "./assert.ts";
import { seededUniform, testGpu } from "./helpers.ts";

const gpu = await testGpu();

function sample() {
  return {
    "layers.0.grid": { shape: [2, 3], data: Float32Array.of(-1, 0, 1, -2.5, 1e-30, 3.4e38) },
    "layers.0.scalar": { shape: [], data: Float32Array.of(0.5) },
    "layers.1.weight": { shape: [1, 4], data: Float32Array.of(Math.PI, -0, 7, 1 / 3) },
  };
}

Deno.test("safetensors: a model's state dict round-trips exactly through a file, with metadata", async () => {
  const model = kan(gpu, [3, 4, 2], { basis: "relu", seed: 3 });
  const dict = await model.stateDict();
  const dir = await Deno.makeTempDir();
  const path = `${dir}/model.safetensors`;
  await saveSafetensors(path, dict, { format: "pt", note: "kan" });
  const back = await readSafetensors(path);
  assertEquals(back.dict, dict);
  assertEquals(back.metadata, { format: "pt", note: "kan" });
  assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), ["model.safetensors"]); // no temporary file left
  const other = kan(gpu, [3, 4, 2], { basis: "relu", seed: 4 });
  other.loadStateDict(await loadSafetensors(path));
  assertEquals(await other.stateDict(), dict);
  model.dispose();
  other.dispose();
});

Deno.test("safetensors: the layout is the reference format's (header length, JSON, aligned little-endian F32)", () => {
  const bytes = encodeSafetensors(sample(), { a: "b" });
  const view = new DataView(bytes.buffer);
  const n = Number(view.getBigUint64(0, true));
  assertEquals(n % 8, 0);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  assertEquals(header["layers.0.grid"], { dtype: "F32", shape: [2, 3], data_offsets: [0, 24] });
  assertEquals(header["layers.0.scalar"], { dtype: "F32", shape: [], data_offsets: [24, 28] });
  assertEquals(header.__metadata__, { a: "b" });
  assertEquals(view.getFloat32(8 + n + 24, true), 0.5);
  assertEquals(bytes.length, 8 + n + 44);
});

Deno.test("safetensors: other float dtypes of the reference format load as float32", () => {
  const header = JSON.stringify({
    h: { dtype: "F16", shape: [2], data_offsets: [0, 4] },
    b: { dtype: "BF16", shape: [1], data_offsets: [4, 6] },
    d: { dtype: "F64", shape: [1], data_offsets: [6, 14] },
  });
  const json = new TextEncoder().encode(header);
  const bytes = new Uint8Array(8 + json.length + 14);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(0, BigInt(json.length), true);
  bytes.set(json, 8);
  const d = 8 + json.length;
  view.setUint16(d, 0x3c00, true); // 1.0
  view.setUint16(d + 2, 0xc000, true); // -2.0
  view.setUint16(d + 4, 0x4049, true); // bf16 3.140625
  view.setFloat64(d + 6, 0.1, true);
  const { dict } = decodeSafetensors(bytes);
  assertEquals([...dict.h.data], [1, -2]);
  assertEquals([...dict.b.data], [3.140625]);
  assertEquals([...dict.d.data], [Math.fround(0.1)]);
});

function withHeader(header: unknown, dataBytes: number, rawHeader?: string): Uint8Array<ArrayBuffer> {
  const json = new TextEncoder().encode(rawHeader ?? JSON.stringify(header));
  const bytes = new Uint8Array(8 + json.length + dataBytes);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(json.length), true);
  bytes.set(json, 8);
  return bytes;
}

Deno.test("safetensors: each malformation is a KanError that says what is wrong", async () => {
  const good = encodeSafetensors(sample());
  const cases: [string, Uint8Array, RegExp][] = [
    ["truncated before the length", good.subarray(0, 5), /shorter than the 8-byte header length/],
    ["truncated in the data", good.subarray(0, good.length - 3), /outside the \d+ bytes of data/],
    [
      "a header length past the end",
      (() => {
        const b = good.slice();
        new DataView(b.buffer).setBigUint64(0, BigInt(b.length), true);
        return b;
      })(),
      /runs past the end/,
    ],
    [
      "a header over 100 MB",
      (() => {
        const b = good.slice();
        new DataView(b.buffer).setBigUint64(0, 100_000_001n, true);
        return b;
      })(),
      /exceeds the 100000000-byte limit/,
    ],
    ["not JSON", withHeader(null, 0, '{"a": [1, 2'), /not valid UTF-8 JSON/],
    ["not an object", withHeader([1, 2], 0), /not a JSON object/],
    [
      "an unknown dtype",
      withHeader({ w: { dtype: "Q4", shape: [1], data_offsets: [0, 4] } }, 4),
      /unknown or unsupported dtype "Q4"/,
    ],
    [
      "a bad shape",
      withHeader({ w: { dtype: "F32", shape: [-1], data_offsets: [0, 4] } }, 4),
      /invalid shape/,
    ],
    [
      "offsets out of range",
      withHeader({ w: { dtype: "F32", shape: [2], data_offsets: [0, 8] } }, 4),
      /outside the 4 bytes/,
    ],
    ["reversed offsets", withHeader({ w: { dtype: "F32", shape: [0], data_offsets: [4, 0] } }, 4), /outside/],
    [
      "a shape that does not match its bytes",
      withHeader({ w: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, 8),
      /needs 12 bytes, data_offsets give 8/,
    ],
    [
      "overlapping entries",
      withHeader({
        a: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
        b: { dtype: "F32", shape: [2], data_offsets: [4, 12] },
      }, 12),
      /"a" and "b" overlap/,
    ],
    ["non-string metadata", withHeader({ __metadata__: { n: 1 } }, 0), /__metadata__ "n" is not a string/],
  ];
  for (const [what, bytes, message] of cases) {
    const e = assertThrows(() => decodeSafetensors(bytes), KanError);
    assert(message.test(e.message), `${what}: ${e.message}`);
  }
  await assertRejects(
    () => loadSafetensors("/nonexistent/model.safetensors"),
    /could not read "\/nonexistent/,
  );
  await assertRejects(
    () => saveSafetensors("/nonexistent/dir/model.safetensors", sample()),
    /could not write/,
  );
});

Deno.test("safetensors: 1,000 randomly corrupted files give KanError or a valid dict, nothing else, no hang", () => {
  const good = encodeSafetensors(sample(), { k: "v" });
  const n = Number(new DataView(good.buffer).getBigUint64(0, true));
  const random = seededUniform(42);
  const pick = (k: number) => Math.floor(random() * k);
  const counts = { kanError: 0, valid: 0 };
  const start = performance.now();
  for (let trial = 0; trial < 1000; trial++) {
    let bytes: Uint8Array = good.slice();
    switch (trial % 4) {
      case 0: // truncate anywhere
        bytes = bytes.subarray(0, pick(bytes.length));
        break;
      case 1: // flip header bytes
        for (let f = 1 + pick(4); f > 0; f--) bytes[8 + pick(n)] ^= 1 << pick(8);
        break;
      case 2: { // lie about offsets: rewrite a number in the header
        const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
        const numbers = [...text.matchAll(/\d+/g)];
        const m = numbers[pick(numbers.length)];
        const lie = String([0, 1, 3, 5, 99, 4096, 2 ** 40][pick(7)]);
        bytes = withHeader(
          null,
          good.length - 8 - n,
          text.slice(0, m.index) + lie + text.slice(m.index! + m[0].length),
        );
        bytes.set(good.subarray(8 + n), bytes.length - (good.length - 8 - n));
        break;
      }
      case 3: // corrupt the length field
        new DataView(bytes.buffer).setUint32(pick(2) * 4, Math.floor(random() * 2 ** 32), true);
        break;
    }
    try {
      const { dict } = decodeSafetensors(bytes);
      for (const e of Object.values(dict)) assertEquals(e.data.length, e.shape.reduce((a, b) => a * b, 1));
      counts.valid++;
    } catch (e) {
      if (!(e instanceof KanError)) throw new Error(`trial ${trial}: ${e}`, { cause: e });
      counts.kanError++;
    }
  }
  const ms = performance.now() - start;
  console.log(`  ${counts.kanError} KanErrors, ${counts.valid} still-valid files, in ${ms.toFixed(0)} ms`);
  assert(counts.kanError > 700, "most corruptions must be caught");
  assert(ms < 20_000, "no corruption makes decoding crawl");
});

Deno.test("safetensors teardown", () => {
  gpu.destroy();
});
