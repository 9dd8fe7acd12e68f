/**
 * safetensors: exact round trips, the reference format's layout, one case per
 * rule of the reference implementation's reader (each a KanError that names
 * the problem, or the file it accepts), the writer's checks, and saves that
 * go through a synced temporary file and leave nothing behind on failure.
 * Randomly corrupted files are in safetensors_fuzz_test.ts.
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
import { testGpu } from "./helpers.ts";

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

/** A file with the raw header text `header` and `dataBytes` bytes of data (0, 1, 2, ...). */
function file(header: string, dataBytes = 0): Uint8Array<ArrayBuffer> {
  const json = new TextEncoder().encode(header);
  const bytes = new Uint8Array(8 + json.length + dataBytes);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(json.length), true);
  bytes.set(json, 8);
  for (let i = 0; i < dataBytes; i++) bytes[8 + json.length + i] = i;
  return bytes;
}

const f32 = (shape: string, b: number | string, e: number | string, extra = "") =>
  `{"dtype":"F32","shape":${shape},"data_offsets":[${b},${e}]${extra}}`;
const A = `"a":${f32("[1]", 0, 4)}`;

function withLength(bytes: Uint8Array, n: bigint): Uint8Array {
  const b = bytes.slice();
  new DataView(b.buffer).setBigUint64(0, n, true);
  return b;
}

Deno.test("safetensors: each rule of the reference reader is a KanError that names the problem", () => {
  const good = encodeSafetensors(sample());
  const cases: [string, Uint8Array, RegExp][] = [
    // SafeTensors::read_metadata: the length field, UTF-8, coverage of the data
    ["truncated before the length", good.subarray(0, 5), /shorter than the 8-byte header length/],
    ["a header length past the end", withLength(good, BigInt(good.length)), /runs past the end/],
    ["a header over 100 MB", withLength(good, 100_000_001n), /exceeds the 100000000-byte limit/],
    ["a header length of 2^64 - 1", withLength(good, 2n ** 64n - 1n), /exceeds the 100000000-byte limit/],
    ["an empty header", file(""), /the text ended where a value was expected at character 0/],
    [
      "invalid UTF-8",
      (() => {
        const b = file(`{"?":${f32("[1]", 0, 4)}}`, 4);
        b[10] = 0xff; // the "?"
        return b;
      })(),
      /not valid UTF-8/,
    ],
    ["a byte-order mark", file(`\ufeff{${A}}`, 4), /not valid JSON: unexpected "\ufeff"/],
    ["truncated in the data", good.subarray(0, good.length - 3), /the file is 3 bytes short/],
    [
      "trailing bytes",
      file(`{${A}}`, 5),
      /1 trailing bytes: the tensors cover 4 bytes of data, the file has 5/,
    ],
    ["trailing NUL in the header", file(`{${A}}\0`, 4), /trailing characters after the JSON value/],
    ["a second JSON value", file(`{${A}}{}`, 4), /trailing characters/],
    ["a form feed after the header", file(`{${A}}\f`, 4), /trailing characters/],
    // serde_json's grammar
    ["not JSON", file('{"a": [1, 2'), /not valid JSON/],
    ["a trailing comma", file(`{${A},}`, 4), /trailing comma in an object/],
    [
      "a control character in a key",
      file(`{"a\n":${f32("[1]", 0, 4)}}`, 4),
      /control character U\+000a inside a string/,
    ],
    ["an invalid escape", file(`{"a\\x":${f32("[1]", 0, 4)}}`, 4), /invalid escape "\\x"/],
    [
      "a lone high surrogate",
      file(`{"\\ud800":${f32("[1]", 0, 4)}}`, 4),
      /high surrogate without its low half/,
    ],
    ["a lone low surrogate", file(`{"\\udc00":${f32("[1]", 0, 4)}}`, 4), /lone low surrogate/],
    ["a leading zero", file(`{"a":${f32("[01]", 0, 4)}}`, 4), /a number has a leading zero/],
    ["1e400", file(`{"a":${f32("[1]", 0, 4, ',"x":1e400')}}`, 4), /the number 1e400 is out of float64 range/],
    [
      "128 nested levels",
      file(`{"a":${f32("[1]", 0, 4, `,"x":${"[".repeat(126)}${"]".repeat(126)}`)}}`, 4),
      /more than 127 nested arrays and objects/,
    ],
    // repeated keys (the reference keeps the last; this reader refuses)
    ["a repeated tensor", file(`{${A},${A}}`, 4), /repeats the key "a"/],
    [
      "a repeated tensor spelled with an escape",
      file(`{${A},"\\u0061":${f32("[1]", 0, 4)}}`, 4),
      /repeats the key "a"/,
    ],
    [
      "a repeated field",
      file(`{"a":{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, 4),
      /repeats the key "dtype"/,
    ],
    [
      "a repeated __metadata__",
      file('{"__metadata__":{},"__metadata__":{}}'),
      /repeats the key "__metadata__"/,
    ],
    ["a repeated metadata key", file('{"__metadata__":{"k":"1","k":"2"}}'), /repeats the key "k"/],
    // HashMetadata: the shape of the header
    ["not an object", file("[1, 2]"), /the header must be a JSON object, got an array/],
    [
      "a tensor as an array",
      file('{"a":["F32",[1],[0,4]]}', 4),
      /entry "a" must be an object \{dtype, shape, data_offsets\}, got an array/,
    ],
    ["a tensor as null", file('{"a":null}'), /entry "a" must be an object/],
    ["a missing field", file('{"a":{"dtype":"F32","shape":[1]}}'), /entry "a" has no "data_offsets"/],
    [
      "an unknown dtype",
      file(`{"w":{"dtype":"Q4","shape":[1],"data_offsets":[0,4]}}`, 4),
      /unknown dtype "Q4"/,
    ],
    [
      "a lower-case dtype",
      file(`{"w":{"dtype":"f32","shape":[1],"data_offsets":[0,4]}}`, 4),
      /unknown dtype "f32"/,
    ],
    [
      "a dtype that is not a string",
      file(`{"w":{"dtype":32,"shape":[1],"data_offsets":[0,4]}}`, 4),
      /dtype the number 32, expected a string/,
    ],
    [
      "a dtype as an object",
      file(`{"w":{"dtype":{"F32":null},"shape":[1],"data_offsets":[0,4]}}`, 4),
      /dtype an object, expected a string/,
    ],
    ["a shape that is not an array", file(`{"a":${f32("null", 0, 0)}}`), /shape null, expected an array/],
    [
      "a negative shape",
      file(`{"a":${f32("[-1]", 0, 4)}}`, 4),
      /shape\[0\] must be a non-negative integer .* got the number -1/,
    ],
    [
      "-0 in a shape",
      file(`{"a":${f32("[-0]", 0, 0)}}`),
      /shape\[0\] must be a non-negative integer .* got the number -0/,
    ],
    ["1.0 in a shape", file(`{"a":${f32("[1.0]", 0, 4)}}`, 4), /got the number 1\.0/],
    ["1e0 in a shape", file(`{"a":${f32("[1e0]", 0, 4)}}`, 4), /got the number 1e0/],
    ["a string in a shape", file(`{"a":${f32('["1"]', 0, 4)}}`, 4), /got the string "1"/],
    [
      "a shape entry of 2^64",
      file(`{"a":${f32("[18446744073709551616]", 0, 4)}}`, 4),
      /is 18446744073709551616, more than 2\^64 - 1/,
    ],
    [
      "a float offset",
      file(`{"a":${f32("[1]", 0, "4.0")}}`, 4),
      /data_offsets\[1\] must be a non-negative integer/,
    ],
    [
      "three offsets",
      file('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,4]}}', 4),
      /of 3 items, expected an array of two integers/,
    ],
    [
      "offsets as an object",
      file('{"a":{"dtype":"F32","shape":[1],"data_offsets":{"0":0,"1":4}}}', 4),
      /data_offsets an object/,
    ],
    [
      "non-string metadata",
      file('{"__metadata__":{"n":1}}'),
      /__metadata__ "n" must be a string, got the number 1/,
    ],
    [
      "nested metadata",
      file('{"__metadata__":{"n":{"m":"x"}}}'),
      /__metadata__ "n" must be a string, got an object/,
    ],
    [
      "metadata as an array",
      file('{"__metadata__":[]}'),
      /__metadata__ must be an object of strings or null, got an array/,
    ],
    // Metadata::validate: order, gaps, overlaps, sizes, overflow
    [
      "a gap before the first tensor",
      file(`{"a":${f32("[1]", 4, 8)}}`, 8),
      /data_offsets \[4, 8\]: a gap of 4 bytes after byte 0/,
    ],
    [
      "a gap between tensors",
      file(`{"a":${f32("[1]", 0, 4)},"b":${f32("[1]", 8, 12)}}`, 12),
      /entry "b" has data_offsets \[8, 12\]: a gap of 4 bytes after byte 4/,
    ],
    [
      "overlapping tensors",
      file(`{"a":${f32("[2]", 0, 8)},"b":${f32("[2]", 4, 12)}}`, 12),
      /entry "b" has data_offsets \[4, 12\] that overlap the data before byte 8/,
    ],
    [
      "reversed offsets",
      file(`{"w":${f32("[0]", 4, 0)}}`, 4),
      /data_offsets \[4, 0\] that end before they begin/,
    ],
    ["offsets past the data", file(`{"w":${f32("[2]", 0, 8)}}`, 4), /the file is 4 bytes short/],
    [
      "a shape that does not match its bytes",
      file(`{"w":${f32("[3]", 0, 8)}}`, 8),
      /shape \[3\] of F32 needs 12 bytes, data_offsets \[0, 8\] give 8/,
    ],
    [
      "an element count past 2^64 - 1",
      file(`{"a":${f32("[4294967296,4294967296,0]", 0, 0)}}`),
      /the element count of shape \[4294967296,4294967296,0\] overflows 2\^64 - 1/,
    ],
    [
      "a bit count past 2^64 - 1",
      file('{"a":{"dtype":"F64","shape":[288230376151711744],"data_offsets":[0,0]}}'),
      /288230376151711744 elements of F64 overflow 2\^64 - 1 bits/,
    ],
    [
      "F4 in half bytes",
      file('{"a":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}}', 2),
      /3 elements of F4 \(4 bits\) are not whole bytes/,
    ],
  ];
  for (const [what, bytes, message] of cases) {
    const e = assertThrows(() => decodeSafetensors(bytes), KanError);
    assert(message.test(e.message), `${what}: ${e.message}`);
    assert(!/unsupported here/.test(e.message), `${what} is malformed, not unsupported: ${e.message}`);
  }
});

Deno.test("safetensors: valid files of other dtypes are a KanError that says they are valid but unsupported", () => {
  for (
    const [dtype, shape] of [
      ["I8", 4],
      ["U8", 4],
      ["BOOL", 4],
      ["U32", 1],
      ["F8_E4M3", 4],
      ["F4", 8],
      ["C64", 0],
      ["F6_E2M3", 0],
    ] as const
  ) {
    const bytes = file(
      `{"x":{"dtype":"${dtype}","shape":[${shape}],"data_offsets":[0,${
        dtype === "C64" || dtype === "F6_E2M3" ? 0 : 4
      }]}}`,
      dtype === "C64" || dtype === "F6_E2M3" ? 0 : 4,
    );
    const e = assertThrows(() => decodeSafetensors(bytes), KanError);
    assert(
      new RegExp(
        `entry "x" has dtype ${dtype}: a valid safetensors dtype, but unsupported here \\(this module reads F32, F64, F16, BF16, I64, I32\\)`,
      ).test(e.message),
      e.message,
    );
  }
  const huge = assertThrows(
    () => decodeSafetensors(file(`{"a":${f32("[18446744073709551615,0]", 0, 0)}}`)),
    KanError,
  );
  assert(
    /valid in safetensors, but unsupported here \(the entry 18446744073709551615 is above 2\^53 - 1\)/.test(
      huge.message,
    ),
    huge.message,
  );
  // a file that is malformed as well as of an unread dtype is called malformed
  const both = assertThrows(
    () => decodeSafetensors(file('{"x":{"dtype":"I8","shape":[4],"data_offsets":[0,4]}}', 5)),
    KanError,
  );
  assert(/1 trailing bytes/.test(both.message), both.message);
});

Deno.test("safetensors: what the reference accepts loads, with its exact values", () => {
  // JSON whitespace around the object (the header need not begin with "{"), padding with any of it
  const { dict } = decodeSafetensors(file(` \t\n\r{${A}} \n\t\r  `, 4));
  assertEquals(dict.a, { shape: [1], data: new Float32Array(Uint8Array.of(0, 1, 2, 3).buffer) });
  // tensors listed out of offset order; an empty name; extra fields ignored; zero-size tensors sharing an offset
  const mixed = decodeSafetensors(file(
    `{"b":${f32("[1]", 4, 8, ',"note":{"x":[1,2.5e-3,null,true]}')},"":${f32("[1]", 0, 4)},` +
      `"z":${f32("[0,4294967296,4294967296]", 8, 8)},"y":${f32("[2,0]", 8, 8)},"__proto__":${
        f32("[]", 8, 12)
      },` +
      `"__metadata__":null}`,
    12,
  ));
  assertEquals(Object.keys(mixed.dict).sort(), ["", "__proto__", "b", "y", "z"]);
  assertEquals(mixed.dict.b.data, new Float32Array(Uint8Array.of(4, 5, 6, 7).buffer));
  assertEquals(mixed.dict[""].data, new Float32Array(Uint8Array.of(0, 1, 2, 3).buffer));
  assertEquals(mixed.dict.z.shape, [0, 4294967296, 4294967296]);
  assertEquals(mixed.dict.z.data.length, 0);
  assertEquals(
    Object.getPrototypeOf(mixed.dict),
    Object.prototype,
    "a tensor named __proto__ is an own entry",
  );
  assertEquals(mixed.dict["__proto__"].shape, []);
  assertEquals(mixed.metadata, {});
  // 127 nested levels; escapes and surrogate pairs; DEL; a repeated key inside a string is no key
  const deep = decodeSafetensors(file(
    `{"\\u00e9\\ud83d\\ude00\\/\u007f":${f32("[1]", 0, 4, `,"x":${"[".repeat(125)}${"]".repeat(125)}`)},` +
      `"__metadata__":{"k":"\\"k\\":\\"k\\"","":""}}`,
    4,
  ));
  assertEquals(Object.keys(deep.dict), ["é😀/\u007f"]);
  assertEquals(deep.metadata, { k: '"k":"k"', "": "" });
});

Deno.test("safetensors: the writer checks names, shapes and data, and orders tensors as the reference", () => {
  const one = { shape: [1], data: Float32Array.of(1) };
  const cases: [string, () => unknown, RegExp][] = [
    ["an empty key", () => encodeSafetensors({ "": one }), /encodeSafetensors: a dict key is empty/],
    [
      "__metadata__ as a key",
      () => encodeSafetensors({ __metadata__: one }),
      /"__metadata__" cannot name a tensor/,
    ],
    [
      "a lone surrogate",
      () => encodeSafetensors({ "a\ud800": one }),
      /a dict key "a\\ud800" has a lone surrogate/,
    ],
    [
      "a negative shape",
      () => encodeSafetensors({ a: { shape: [-1], data: new Float32Array(0) } }),
      /entry "a" has shape \[-1\], expected an array of non-negative integers/,
    ],
    [
      "a fractional shape",
      () => encodeSafetensors({ a: { shape: [1.5], data: new Float32Array(0) } }),
      /shape \[1.5\]/,
    ],
    [
      "an unsafe shape",
      () => encodeSafetensors({ a: { shape: [2 ** 53, 0], data: new Float32Array(0) } }),
      /shape \[9007199254740992, 0\]/,
    ],
    [
      "data of another type",
      () => encodeSafetensors({ a: { shape: [1], data: [1] as never } }),
      /entry "a" has data of type object, expected a Float32Array/,
    ],
    [
      "a size mismatch",
      () => encodeSafetensors({ a: { shape: [2, 2], data: new Float32Array(3) } }),
      /entry "a" has 3 values for shape \[2,2\] \(4\)/,
    ],
    [
      "non-string metadata",
      () => encodeSafetensors({ a: one }, { n: 1 as never }),
      /metadata "n" must be a string, got number/,
    ],
    [
      "metadata as an array",
      () => encodeSafetensors({ a: one }, [] as never),
      /metadata must be an object of strings/,
    ],
    ["no dict", () => encodeSafetensors(null as never), /dict must be an object/],
  ];
  for (const [what, fn, message] of cases) {
    const e = assertThrows(fn, KanError);
    assert(message.test(e.message), `${what}: ${e.message}`);
  }
  // Rust orders names by their UTF-8 bytes: U+FFFF (EF BF BF) before U+1F600 (F0 9F 98 80), unlike UTF-16
  const bytes = encodeSafetensors({
    "\u{1f600}": one,
    "\uffff": { shape: [2], data: Float32Array.of(2, 3) },
  });
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  assertEquals(header["\uffff"].data_offsets, [0, 8]);
  assertEquals(header["\u{1f600}"].data_offsets, [8, 12]);
  // non-finite values are valid safetensors data and round-trip bit for bit
  const odd = { shape: [3], data: Float32Array.of(NaN, Infinity, -Infinity) };
  assertEquals(decodeSafetensors(encodeSafetensors({ odd })).dict.odd, odd);
});

Deno.test("safetensors: a save writes a temporary file beside the target, syncs it before the rename", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/model.safetensors`;
  const seen: { file: string; size: number; targetExists: boolean }[] = [];
  const sync = Deno.FsFile.prototype.sync;
  Deno.FsFile.prototype.sync = async function (this: Deno.FsFile) {
    const others = [...Deno.readDirSync(dir)].filter((e) => e.name !== "model.safetensors");
    seen.push({
      file: others.map((e) => e.name).join(),
      size: (await this.stat()).size,
      targetExists: others.length < [...Deno.readDirSync(dir)].length,
    });
    return await sync.call(this);
  };
  try {
    await saveSafetensors(path, sample(), { a: "b" });
  } finally {
    Deno.FsFile.prototype.sync = sync;
  }
  const expected = encodeSafetensors(sample(), { a: "b" });
  assertEquals(seen.length, 1, "synced once");
  assert(seen[0].file.startsWith("model.safetensors.") && seen[0].file.endsWith(".tmp"), seen[0].file);
  assertEquals(seen[0].size, expected.length, "the whole file is written before the sync");
  assertEquals(seen[0].targetExists, false, "the target appears only with the rename");
  assertEquals(await Deno.readFile(path), expected);
  assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), ["model.safetensors"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("safetensors: a failed save removes its temporary file and leaves the target as it was", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/model.safetensors`;
  await Deno.writeTextFile(path, "the old checkpoint");
  const names = () => [...Deno.readDirSync(dir)].map((e) => e.name).sort();
  const proto = Deno.FsFile.prototype;
  for (const [step, method] of [["write", "write"], ["sync", "sync"]] as const) {
    const original = proto[method];
    let calls = 0;
    // deno-lint-ignore no-explicit-any
    (proto as any)[method] = async function (this: Deno.FsFile, p: Uint8Array) {
      // a write writes half its bytes first, as a write may; then it fails
      if (calls++ === 0 && method === "write") {
        return await (original as Deno.FsFile["write"]).call(this, p.subarray(0, p.length >> 1));
      }
      throw new Error(`simulated ${step} failure`);
    };
    try {
      const e = await assertRejects(() => saveSafetensors(path, sample()), KanError);
      assert(
        new RegExp(
          `could not write "${path}" \\(failed to ${step} the temporary file\\): simulated ${step} failure`,
        ).test(e.message),
        e.message,
      );
    } finally {
      // deno-lint-ignore no-explicit-any
      (proto as any)[method] = original;
    }
    assertEquals(names(), ["model.safetensors"], `no temporary file after a failed ${step}`);
    assertEquals(await Deno.readTextFile(path), "the old checkpoint");
  }
  // the rename fails: the target is a folder with a file in it
  const folder = `${dir}/folder.safetensors`;
  await Deno.mkdir(folder);
  await Deno.writeTextFile(`${folder}/keep`, "x");
  const e = await assertRejects(() => saveSafetensors(folder, sample()), KanError);
  assert(/failed to rename the temporary file over it/.test(e.message), e.message);
  assertEquals(names(), ["folder.safetensors", "model.safetensors"]);
  // bad data fails before any file is touched
  await assertRejects(
    () => saveSafetensors(path, { a: { shape: [2], data: new Float32Array(1) } }),
    /saveSafetensors: entry "a" has 1 values/,
  );
  await assertRejects(
    () => saveSafetensors("", sample()),
    /saveSafetensors: path must be a non-empty string/,
  );
  await assertRejects(
    () => saveSafetensors("/nonexistent/dir/model.safetensors", sample()),
    /could not write "\/nonexistent\/dir\/model.safetensors" \(failed to create the temporary file\)/,
  );
  await assertRejects(
    () => loadSafetensors("/nonexistent/model.safetensors"),
    /could not read "\/nonexistent/,
  );
  await Deno.writeFile(`${dir}/bad.safetensors`, file(`{${A}}`, 5));
  await assertRejects(
    () => loadSafetensors(`${dir}/bad.safetensors`),
    new RegExp(
      `loadSafetensors: "${dir}/bad.safetensors" is not a usable safetensors file: safetensors: 1 trailing bytes`,
    ),
  );
  assertEquals(names(), ["bad.safetensors", "folder.safetensors", "model.safetensors"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("safetensors: without --allow-write or --allow-read the error names the permission", async () => {
  const dir = await Deno.makeTempDir();
  const module = new URL("../src/io/safetensors_file.ts", import.meta.url).href;
  const script = `${dir}/save.ts`;
  await Deno.writeTextFile(
    script,
    `import { loadSafetensors, saveSafetensors } from ${JSON.stringify(module)};
const [what, path] = Deno.args;
try {
  if (what === "save") await saveSafetensors(path, { w: { shape: [1], data: Float32Array.of(1) } });
  else await loadSafetensors(path);
  console.log("no error");
} catch (e) {
  console.log(e.name + ": " + e.message);
}`,
  );
  const run = async (flags: string[], ...args: string[]) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-check", "--no-prompt", ...flags, script, ...args],
      stdout: "piped",
      stderr: "piped",
    }).output();
    return new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  };
  const target = `${dir}/out/model.safetensors`;
  await Deno.mkdir(`${dir}/out`);
  const noWrite = await run([`--allow-read=${dir}`], "save", target);
  assert(
    /KanError: saveSafetensors: could not write ".*" \(failed to create the temporary file\).*\(run Deno with --allow-write and --allow-read \(the rename needs both\) for this path\)/
      .test(noWrite),
    noWrite,
  );
  const noRead = await run([`--allow-write=${dir}/out`], "save", target);
  assert(
    /KanError: saveSafetensors: could not write ".*" \(failed to rename the temporary file over it\).*\(run Deno with --allow-write and --allow-read \(the rename needs both\) for this path\)/
      .test(noRead),
    noRead,
  );
  assertEquals([...Deno.readDirSync(`${dir}/out`)], [], "the temporary file was removed");
  await saveSafetensors(target, sample());
  const noReadLoad = await run([], "load", target);
  assert(
    /KanError: loadSafetensors: could not read ".*".*\(run Deno with --allow-read for this path\)/.test(
      noReadLoad,
    ),
    noReadLoad,
  );
  assert(/no error/.test(await run([`--allow-read=${dir}`], "load", target)));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("safetensors teardown", () => {
  assertEquals(gpu.stats().liveBuffers, 0);
  gpu.destroy();
});

Deno.test("safetensors: I64 and I32 entries (torch's arange, num_batches_tracked) load when float32 holds them", () => {
  const ints = new DataView(new ArrayBuffer(8 * 3 + 4 * 2));
  [0n, -5n, 2n ** 24n].forEach((v, i) => ints.setBigInt64(8 * i, v, true));
  ints.setInt32(24, -(2 ** 24), true);
  ints.setInt32(28, 7, true);
  const body = new Uint8Array(ints.buffer);
  const header = `{"a":{"dtype":"I64","shape":[3],"data_offsets":[0,24]},` +
    `"b":{"dtype":"I32","shape":[2],"data_offsets":[24,32]}}`;
  const withData = (data: Uint8Array) => {
    const json = new TextEncoder().encode(header);
    const out = new Uint8Array(8 + json.length + data.length);
    new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
    out.set(json, 8);
    out.set(data, 8 + json.length);
    return out;
  };
  const { dict } = decodeSafetensors(withData(body));
  assertEquals([...dict.a.data], [0, -5, 2 ** 24]);
  assertEquals([...dict.b.data], [-(2 ** 24), 7]);
  const tooBig = body.slice();
  new DataView(tooBig.buffer).setBigInt64(8, 2n ** 24n + 1n, true);
  assertThrows(
    () => decodeSafetensors(withData(tooBig)),
    /entry "a" \(I64\) holds a value at flat index 1 beyond \+-2\^24: valid in safetensors, but unsupported here/,
  );
});
