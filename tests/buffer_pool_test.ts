import { assert, assertEquals } from "./assert.ts";
import { sizeClass } from "../src/gpu/buffer_pool.ts";
import { Tensor } from "../mod.ts";
import { seededUniform, testGpu } from "./helpers.ts";

const gpu = await testGpu();

Deno.test("sizeClass: at least the request, at most 25% (or 256 bytes) more, monotone", () => {
  let previous = 0;
  for (let bytes = 1; bytes < 5_000_000; bytes = Math.ceil(bytes * 1.013) + 1) {
    const c = sizeClass(bytes);
    assert(c >= bytes && c >= 256, `class ${c} of ${bytes}`);
    assert(c <= Math.max(256, bytes * 1.25), `class ${c} of ${bytes} wastes more than 25%`);
    assert(c >= previous, "monotone");
    assertEquals(c % 4, 0);
    previous = c;
  }
});

Deno.test("10,000 acquire/release cycles leave live bytes where they started; the peak stays bounded", async () => {
  await gpu.sync();
  const start = gpu.stats();
  const random = seededUniform(7);
  const held: Tensor[] = [];
  let maxHeldBytes = 0;
  for (let i = 0; i < 10_000; i++) {
    const n = 1 + Math.floor(random() * 20_000);
    held.push(Tensor.empty(gpu, [n]));
    if (held.length > 8 || random() < 0.5) held.splice(Math.floor(random() * held.length), 1)[0].dispose();
    maxHeldBytes = Math.max(maxHeldBytes, held.reduce((s, t) => s + t.byteLength, 0));
  }
  for (const t of held) t.dispose();
  const end = gpu.stats();
  assertEquals(end.liveBuffers, start.liveBuffers);
  assertEquals(end.liveBytes, start.liveBytes);
  // At most 9 buffers of at most 80 kB are ever held at once; reuse by size
  // class keeps the pool near that, instead of growing with the 10,000 cycles.
  console.log(`  peak ${end.peakBytes} bytes; most held at once ${maxHeldBytes} bytes`);
  assert(end.peakBytes < 30 * 80_000 * 1.25, `peak ${end.peakBytes} grew with the cycle count`);
});

Deno.test("buffer_pool_test teardown", () => {
  gpu.destroy();
});
