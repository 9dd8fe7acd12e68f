/**
 * Gradient clipping by global norm (src/train/clip_grad_norm.ts, shaders/train/clip_grad_norm.wgsl) against
 * its float64 reference, `clip_grad_norm_`'s formula:
 *
 * - 200,000 floats in two blocks with a frozen run in the middle of one: the norm, every clipped gradient,
 *   the frozen run untouched; a `maxNorm` above the norm leaves every gradient bit for bit. At the default
 *   loop-trip budget and at one lowered to 20 (chunks of 19 floats, then levels of chunk sums), with the
 *   trips of every kernel counted.
 * - `fit({ clipGradNorm })`: a bound no gradient reaches changes nothing (fused step, bit for bit); the norm
 *   is never read back (one readback per logged step, as without clipping). Its trajectories against
 *   PyTorch are in tests/schedules_test.ts.
 */

import { Adam, Gpu, kan, KanError, Tensor } from "../mod.ts";
import { Parameter, ParameterBlock } from "../src/layers/parameter.ts";
import { clipGradNormReference, GradNormClipper } from "../src/train/clip_grad_norm.ts";
import { tripBudget } from "../src/gpu/loop_trips.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "./assert.ts";
import { assertClose, seededUniform, testGpu } from "./helpers.ts";

const gpu = await testGpu();

/** Two blocks of 150,000 and 50,000 floats; the first has a frozen run of 500 at 70,000. */
function setup(g: Gpu, seed: number) {
  const random = seededUniform(seed);
  const a = new ParameterBlock(g, new Float32Array(150_000));
  const parameters = [
    new Parameter("a1", [70_000], a, 0),
    new Parameter("frozen", [500], a, 70_000, false),
    new Parameter("a3", [79_500], a, 70_500),
    Parameter.of(g, "b", [50_000], new Float32Array(50_000)),
  ];
  const b = parameters[3].block;
  const gradA = Float32Array.from({ length: 150_000 }, () => random() * 2 - 1);
  const gradB = Float32Array.from({ length: 50_000 }, () => (random() * 2 - 1) * 3);
  g.write(a.grad.buffer, 0, gradA);
  g.write(b.grad.buffer, 0, gradB);
  const trainable = [gradA.subarray(0, 70_000), gradA.subarray(70_500), gradB].map((v) =>
    Float64Array.from(v)
  );
  return { a, b, parameters, gradA, gradB, trainable };
}

/** How many elements differ (a count, so that a failure does not print 150,000-element arrays). */
function mismatches(a: Float32Array, b: Float32Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) n++;
  return n + Math.abs(a.length - b.length);
}

async function clipAndCompare(maxNorm: number, seed: number): Promise<{ norm: number; coef: number }> {
  const { a, b, parameters, gradA, gradB, trainable } = setup(gpu, seed);
  const clipper = new GradNormClipper(gpu, parameters, maxNorm);
  try {
    clipper.record();
    const norm = await clipper.norm();
    const ref = clipGradNormReference(trainable, maxNorm);
    const gotA = await a.grad.read();
    const gotB = await b.grad.read();
    const relNorm = Math.abs(norm - ref.norm) / ref.norm;
    console.log(
      `  ${clipper.chunks} chunk sums; norm ${norm} vs float64 ${ref.norm} (relative ${
        relNorm.toExponential(2)
      }), coefficient ${ref.coef.toFixed(6)}`,
    );
    assert(relNorm <= 2e-6, `norm ${norm}, float64 ${ref.norm}`);
    if (ref.coef === 1) {
      assertEquals(
        mismatches(gotA, gradA) + mismatches(gotB, gradB),
        0,
        "no clipping: every gradient unchanged",
      );
    } else {
      const got = [gotA.subarray(0, 70_000), gotA.subarray(70_500), gotB].flatMap((v) => [...v]);
      assertClose("clipped gradients", got, trainable.flatMap((v) => [...v]), 1e-6, "max");
      assertEquals(
        gotA.subarray(70_000, 70_500),
        gradA.subarray(70_000, 70_500),
        "the frozen run is untouched",
      );
    }
    return ref;
  } finally {
    clipper.dispose();
    a.dispose();
    b.dispose();
  }
}

Deno.test("clip kernel: 200,000 floats in two blocks, a frozen run skipped: norm within 2e-6, gradients within 1e-6 of max |g| of float64", async () => {
  const clipped = await clipAndCompare(100, 1);
  assert(clipped.coef < 0.5, `the coefficient ${clipped.coef} clips`);
  const kept = await clipAndCompare(1e4, 2);
  assertEquals(kept.coef, 1);
});

Deno.test("clip kernel at a loop-trip budget of 20: chunks of 19 floats and levels of sums give the same; every kernel within the budget", async () => {
  const counting = await Gpu.request({ countLoopTrips: true });
  try {
    for (const budget of [60000, 20]) {
      tripBudget.trips = budget;
      try {
        await clipAndCompare(100, 3);
        const { a, b, parameters } = setup(counting, 3);
        await counting.loopTrips(true);
        const clipper = new GradNormClipper(counting, parameters, 100);
        clipper.record();
        const trips = await counting.loopTrips(true);
        const ran = Object.entries(trips).filter(([, n]) => n > 0);
        console.log(`  budget ${budget}: ${ran.map(([k, n]) => `${k} ${n}`).join(", ")}`);
        assertEquals(trips["clip_grad_norm.sum_squares:sum_squares"], budget === 20 ? 20 : 257);
        if (budget === 20) assert(trips["reduce_rows:main"] > 0, "levels of chunk sums ran");
        for (const [kernel, n] of ran) assert(n <= budget, `${kernel}: ${n} trips past ${budget}`);
        clipper.dispose();
        a.dispose();
        b.dispose();
      } finally {
        tripBudget.trips = 60000;
      }
    }
  } finally {
    counting.destroy();
  }
});

Deno.test("fit({ clipGradNorm }): a bound above every norm changes nothing (fused step, bit for bit); no readback of the norm", async () => {
  const random = seededUniform(9);
  const x = Tensor.from(gpu, Float32Array.from({ length: 64 }, () => random() * 2 - 1), [32, 2]);
  const y = Tensor.from(gpu, Float32Array.from({ length: 32 }, () => random()), [32, 1]);
  const models = [0, 1, 2].map(() => kan(gpu, [2, 3, 1], { basis: "bspline" }));
  const init = await models[0].stateDict();
  for (const m of models) m.loadStateDict(init);
  const options = {
    x,
    y,
    loss: "mse" as const,
    steps: 20,
    logEvery: 20,
    batchSize: 8,
    progress: "none" as const,
  };
  const results = [];
  for (const [i, clipGradNorm] of [undefined, 3e38, 1e-3].entries()) {
    const optimizer = new Adam({ lr: 0.01 });
    const before = gpu.stats().readbacks;
    const h = await models[i].fit({ ...options, optimizer, clipGradNorm });
    const readbacks = gpu.stats().readbacks - before;
    optimizer.dispose();
    results.push({ h, readbacks, state: await models[i].stateDict() });
  }
  const [plain, loose, tight] = results;
  console.log(`  readbacks per fit of 20 steps: ${plain.readbacks}, ${loose.readbacks}, ${tight.readbacks}`);
  assertEquals(loose.readbacks, plain.readbacks);
  assertEquals(tight.readbacks, plain.readbacks);
  for (const key of Object.keys(init)) assertEquals(loose.state[key].data, plain.state[key].data, key);
  const differ = Object.keys(init).some((k) =>
    tight.state[k].data.some((v, i) => v !== plain.state[k].data[i])
  );
  assert(differ, "a tight bound changes the run");
  for (const t of [x, y]) t.dispose();
  for (const m of models) m.dispose();
});

Deno.test("clipGradNorm: not a positive float32 number is a KanError naming it", async () => {
  const model = kan(gpu, [1, 1], { basis: "mlp" });
  const x = Tensor.from(gpu, [0.5], [1, 1]);
  const optimizer = new Adam();
  for (const bad of [0, -1, NaN, Infinity, "1", 1e39]) {
    const e = await assertRejects(
      () => model.fit({ x, y: x, loss: "mse", optimizer, steps: 1, clipGradNorm: bad as never }),
      KanError,
    );
    assert(/fit: option "clipGradNorm" must be a number > 0/.test(e.message), e.message);
  }
  const e = assertThrows(() => new GradNormClipper(gpu, model.parameters(), -2), KanError);
  assert(/^clipGradNorm: maxNorm must be a number > 0 .*, got -2$/.test(e.message), e.message);
  for (const t of [x, optimizer]) t.dispose();
  model.dispose();
});

Deno.test("clip grad norm teardown: no live buffers", () => {
  assertEquals(gpu.stats().liveBuffers, 0);
  gpu.destroy();
});
