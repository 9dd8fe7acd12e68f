import { assert, assertEquals, assertRejects, assertThrows } from "./assert.ts";
import { KanError, Tensor } from "../mod.ts";
import { testGpu } from "./helpers.ts";

const gpu = await testGpu();

Deno.test("Tensor.from / read: the values and shape come back exactly", async () => {
  const data = [0.5, -1, 3.25, 1e-30, 7, 8];
  const t = Tensor.from(gpu, data, [2, 3]);
  assertEquals(t.shape, [2, 3]);
  assertEquals(t.size, 6);
  assertEquals([...await t.read()], data.map(Math.fround));
  const z = Tensor.zeros(gpu, [5]);
  assertEquals([...await z.read()], [0, 0, 0, 0, 0]);
  const empty = Tensor.from(gpu, [], [0, 3]);
  assertEquals((await empty.read()).length, 0);
  for (const x of [t, z, empty]) x.dispose();
});

Deno.test("Tensor.from with a wrong data length is a KanError naming both counts", () => {
  const err = assertThrows(() => Tensor.from(gpu, [1, 2, 3], [2, 2]), KanError);
  assert(err.message.includes("3 values") && err.message.includes("[2, 2]") && err.message.includes("4"));
});

Deno.test("a negative or fractional dimension is a KanError", () => {
  assertThrows(() => Tensor.from(gpu, [1, 2], [-1, -2]), /non-negative integer, got -1/);
  assertThrows(() => Tensor.from(gpu, [1, 2], [2.5]), /non-negative integer, got 2.5/);
  assertThrows(() => Tensor.empty(gpu, [Number.NaN]), KanError);
});

Deno.test("read() and binding after dispose() are KanErrors; dispose twice is harmless", async () => {
  const t = Tensor.from(gpu, [1, 2], [2]);
  t.dispose();
  t.dispose();
  assert(t.disposed);
  await assertRejects(() => t.read(), /used after dispose/);
  assertThrows(() => t.binding, KanError);
});

Deno.test("tensor_test teardown: nothing left live", () => {
  assertEquals(gpu.stats().liveBuffers, 0);
  gpu.destroy();
});
