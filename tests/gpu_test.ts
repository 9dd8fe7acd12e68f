import { assert, assertEquals, assertRejects, assertStrictEquals, assertThrows } from "./assert.ts";
import { Gpu, KanError, Tensor } from "../mod.ts";
import { axpy, linearGrid, packParams } from "../kernels.ts";
import { assertClose, seededUniform, testGpu } from "./helpers.ts";

const gpu = await testGpu();

const COUNTER_SOURCE = `
@group(0) @binding(0) var<storage, read_write> acc: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  if (gid.x < arrayLength(&acc)) { acc[gid.x] = acc[gid.x] + 1.0; }
}`;

Deno.test("Gpu.request: an adapter with its info, the optional features it offers, and zeroed counters", () => {
  assert(typeof gpu.adapterInfo.description === "string");
  assert(typeof gpu.adapterInfo.isFallbackAdapter === "boolean");
  console.log(`  adapter: ${gpu.adapterInfo.description}; features: ${[...gpu.features].join(", ")}`);
  for (const f of gpu.features) assert(["timestamp-query", "shader-f16"].includes(f));
  assert(gpu.device.limits.maxStorageBufferBindingSize >= 128 * 1024 * 1024);
  const s = gpu.stats();
  for (
    const key of ["liveBuffers", "liveBytes", "peakBytes", "dispatches", "submits", "readbacks"] as const
  ) {
    assert(Number.isInteger(s[key]) && s[key] >= 0, key);
  }
});

Deno.test("kernel round trip: upload, axpy on the GPU, read back, equal to the CPU", async () => {
  const random = seededUniform(1);
  const n = 100_003; // not a multiple of the workgroup size
  const xs = Float32Array.from({ length: n }, () => random() * 2 - 1);
  const ys = Float32Array.from({ length: n }, () => random() * 2 - 1);
  const x = Tensor.from(gpu, xs, [n]);
  const y = Tensor.from(gpu, ys, [n]);
  axpy(-1.5, x, y);
  axpy(0.25, x, y);
  const got = await y.read();
  const want = ys.map((v, i) => Math.fround(Math.fround(-1.5 * xs[i]) + v)).map((v, i) =>
    Math.fround(Math.fround(0.25 * xs[i]) + v)
  );
  assertClose("axpy vs CPU", got, want, 1e-6);
  x.dispose();
  y.dispose();
});

Deno.test("linearGrid covers counts past 65,535 workgroups and packParams lays out u32/i32/f32", () => {
  for (const n of [1, 256, 257, 65535 * 256, 65535 * 256 + 1, 50_000_000]) {
    const [x, y] = linearGrid(n, 256);
    assert(x <= 65535 && y <= 65535 && x * y * 256 >= n && (x * (y - 1)) * 256 < n, `n=${n}`);
  }
  const view = new DataView(packParams("uif", 7, -3, 0.5).buffer);
  assertEquals([view.getUint32(0, true), view.getInt32(4, true), view.getFloat32(8, true)], [7, -3, 0.5]);
  assertThrows(() => packParams("ux", 1, 2), KanError);
  assertThrows(() => packParams("uu", 1), KanError);
});

Deno.test("a pipeline is compiled once per (source, constants) and cached", async () => {
  const spec = { name: "counter", source: COUNTER_SOURCE, bindings: ["storage"] as const };
  const a = await gpu.compile(spec);
  const b = gpu.kernel({ ...spec });
  assertStrictEquals(a, b);
  const c = gpu.kernel({ ...spec, source: COUNTER_SOURCE + "\n// other" });
  assert(a !== c);
  const axpySpec = (wg: number) => ({
    name: "wg",
    source: "override WG: u32 = 64u;\n@compute @workgroup_size(WG) fn main() {}",
    bindings: [] as const,
    constants: { WG: wg },
  });
  assert(gpu.kernel(axpySpec(64)) !== gpu.kernel(axpySpec(128)));
  assertStrictEquals(gpu.kernel(axpySpec(64)), gpu.kernel(axpySpec(64)));
  await gpu.sync();
});

Deno.test("a WGSL syntax error is a KanError naming the kernel and quoting the WGSL message", async () => {
  const spec = {
    name: "broken_kernel",
    source: "@compute @workgroup_size(1) fn main( { }",
    bindings: [] as const,
  };
  const err = await assertRejects(() => gpu.compile(spec), KanError);
  assert(err.message.includes(`kernel "broken_kernel"`), err.message);
  assert(/expected|error/i.test(err.message), err.message);

  // The synchronous path: dispatching it throws at once, since the error is known now.
  const kernel = gpu.kernel(spec);
  assertThrows(() => gpu.dispatch(kernel, null, [], [1]), /broken_kernel/);
});

Deno.test("an invalid kernel used before its check completes surfaces at the next read, naming it", async () => {
  const kernel = gpu.kernel({
    name: "typo_kernel",
    source: "@group(0) @binding(0) var<storage, read_write> a: array<f32>;\n" +
      "@compute @workgroup_size(1) fn main() { a[0] = undefined_name; }",
    bindings: ["storage"],
  });
  const t = Tensor.zeros(gpu, [4]);
  if (kernel.error === undefined) gpu.dispatch(kernel, null, [t.binding], [1]);
  const err = await assertRejects(() => t.read(), KanError);
  assert(err.message.includes("typo_kernel"), err.message);
  t.dispose();
  // The error was reported once; the GPU stays usable.
  const u = Tensor.from(gpu, [1, 2], [2]);
  assertEquals([...await u.read()], [1, 2]);
  u.dispose();
});

Deno.test("a dispatch with bindings the kernel does not take is a KanError naming it", () => {
  const kernel = gpu.kernel({ name: "counter", source: COUNTER_SOURCE, bindings: ["storage"] });
  const t = Tensor.zeros(gpu, [4]);
  assertThrows(
    () => gpu.dispatch(kernel, null, [t.binding, t.binding], [1]),
    /kernel "counter": expected 1 buffers/,
  );
  assertThrows(() => gpu.dispatch(kernel, packParams("u", 1), [t.binding], [1]), /kernel "counter"/);
  assertThrows(() => gpu.dispatch(kernel, null, [t.binding], [70_000]), /workgroup count 70000/);
  t.dispose();
});

Deno.test("1,000 dispatches recorded into one submit cost exactly one submit and one readback", async () => {
  const kernel = await gpu.compile({ name: "counter", source: COUNTER_SOURCE, bindings: ["storage"] });
  const acc = Tensor.zeros(gpu, [1000]);
  await gpu.sync();
  const before = gpu.stats();
  for (let i = 0; i < 1000; i++) gpu.dispatch(kernel, null, [acc.binding], [Math.ceil(1000 / 64)]);
  const values = await acc.read();
  const after = gpu.stats();
  assertEquals(after.dispatches - before.dispatches, 1000);
  assertEquals(after.submits - before.submits, 1);
  assertEquals(after.readbacks - before.readbacks, 1);
  assert(values.every((v) => v === 1000), `every element counted 1000 dispatches, got ${values[0]}`);
  acc.dispose();
});

Deno.test("many dispatches with different parameters each see their own parameters", async () => {
  // 2,000 axpy calls with alpha = i: the uniform arena spans several chunks.
  const x = Tensor.from(gpu, [1, 2, 3], [3]);
  const y = Tensor.zeros(gpu, [3]);
  const before = gpu.stats().submits;
  for (let i = 0; i < 2000; i++) axpy(i, x, y);
  const got = await y.read();
  const sum = 1999 * 2000 / 2;
  assertEquals([...got], [sum, 2 * sum, 3 * sum]);
  assertEquals(gpu.stats().submits - before, 1);
  x.dispose();
  y.dispose();
});

Deno.test("a lost device makes the next call fail with a clear KanError instead of hanging", async () => {
  const other = await Gpu.request();
  const t = Tensor.from(other, [1, 2, 3], [3]);
  other.device.destroy(); // what a driver reset looks like to the module
  await other.device.lost;
  const err = await assertRejects(() => t.read(), KanError);
  assert(/lost/.test(err.message), err.message);
  assertThrows(() => Tensor.from(other, [1], [1]), /lost/);
  other.destroy();
});

Deno.test("after gpu.destroy() every call is a KanError", async () => {
  const other = await Gpu.request();
  const t = Tensor.from(other, [1], [1]);
  other.destroy();
  assertThrows(() => Tensor.from(other, [1], [1]), /destroyed/);
  await assertRejects(() => t.read(), KanError);
  other.destroy(); // twice is harmless
});

Deno.test("gpu_test teardown: nothing left live", () => {
  assertEquals(gpu.stats().liveBuffers, 0);
  gpu.destroy();
});
