/**
 * Training on the GPU: the optimizers step for step against their float64
 * references from every parity vector's state, the readbacks and memory of
 * long fits, determinism, and the checks of fit's input.
 */

import { Adam, AdamW, kan, KanError, type Sequential, SGD, Tensor } from "../mod.ts";
import { functionSplit } from "../src/data/synthetic.ts";
import { adamReferenceStep } from "../src/train/adam.ts";
import { crossEntropyReference, mseReference, recordLoss } from "../src/train/loss.ts";
import { sgdReferenceStep } from "../src/train/sgd.ts";
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { assertClose, testGpu } from "./helpers.ts";
import { buildModel, parityFiles as files, type ParityVector, readVector, stateArrays } from "./vectors.ts";

const gpu = await testGpu();

async function load(file: string): Promise<{ v: ParityVector; model: Sequential; x: Tensor; y: Tensor }> {
  const v = await readVector(file);
  return {
    v,
    model: buildModel(gpu, v),
    x: Tensor.from(gpu, v.x.data, v.x.shape),
    y: Tensor.from(gpu, v.target.data, v.target.shape),
  };
}

function cleanup(...things: { dispose(): void }[]): void {
  for (const t of things) t.dispose();
}

for (const file of files) {
  Deno.test(`optimizers ${file}: one SGD step equals state - lr * grad (PyTorch's grad) and the float64 reference`, async () => {
    const { v, model, x, y } = await load(file);
    const lr = 0.1;
    const options = { lr, momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: false };
    await model.fit({ x, y, loss: "mse", optimizer: new SGD(options), steps: 1, progress: "none" });
    const after = await model.stateDict();
    const ref = model.reference(stateArrays(v));
    const trace = ref.forward(v.x.data, v.x.shape[0]);
    const { grads } = trace.backward(mseReference(trace.y, v.target.data).dz);
    for (const [key, g] of Object.entries(v.grad)) {
      const fromTorch = v.state[key].data.map((p, i) => p - lr * g.data[i]);
      assertClose(`${v.name} ${key} vs state - lr*grad`, after[key].data, fromTorch, 1e-5, "max");
      const p = Float64Array.from(v.state[key].data);
      sgdReferenceStep(options, p, grads[key], new Float64Array(p.length), true);
      assertClose(`${v.name} ${key} vs float64 SGD`, after[key].data, p, 1e-5, "max");
    }
    for (const key of Object.keys(v.state).filter((k) => !(k in v.grad))) {
      assertEquals(after[key].data, Float32Array.from(v.state[key].data), `${key} is not trained and stays`);
    }
    cleanup(model, x, y);
  });

  Deno.test(`optimizers ${file}: ten Adam steps equal the float64 reference (1e-5 relative)`, async () => {
    const { v, model, x, y } = await load(file);
    const optimizer = new Adam({ lr: 1e-3 });
    await model.fit({ x, y, loss: "mse", optimizer, steps: 10, logEvery: 10, progress: "none" });
    const after = await model.stateDict();
    const state = stateArrays(v);
    const moments = Object.fromEntries(
      Object.keys(v.grad).map((
        k,
      ) => [k, [new Float64Array(state[k].length), new Float64Array(state[k].length)]]),
    );
    for (let t = 1; t <= 10; t++) {
      const trace = model.reference(state).forward(v.x.data, v.x.shape[0]);
      const { grads } = trace.backward(mseReference(trace.y, v.target.data).dz);
      for (const key of Object.keys(v.grad)) {
        adamReferenceStep(optimizer.settings, t, state[key], grads[key], moments[key][0], moments[key][1]);
      }
    }
    for (const key of Object.keys(v.grad)) {
      assertClose(`${v.name} ${key} after 10 Adam steps`, after[key].data, state[key], 1e-5, "max");
    }
    cleanup(model, x, y, optimizer);
  });
}

Deno.test("optimizers: AdamW decays decoupled and SGD with weight decay and Nesterov match their references", async () => {
  const { v, model, x, y } = await load("mlp_silu.json");
  const adamw = new AdamW({ lr: 1e-2, weightDecay: 0.1 });
  await model.fit({ x, y, loss: "mse", optimizer: adamw, steps: 3, progress: "none" });
  const sgdOptions = { lr: 0.05, momentum: 0.8, dampening: 0, weightDecay: 0.01, nesterov: true };
  await model.fit({ x, y, loss: "mse", optimizer: new SGD(sgdOptions), steps: 3, progress: "none" });
  const after = await model.stateDict();
  const state = stateArrays(v);
  const keys = Object.keys(v.grad);
  const zeros = () => Object.fromEntries(keys.map((k) => [k, new Float64Array(state[k].length)]));
  const [m, s, buf] = [zeros(), zeros(), zeros()];
  for (let t = 1; t <= 6; t++) {
    const trace = model.reference(state).forward(v.x.data, v.x.shape[0]);
    const { grads } = trace.backward(mseReference(trace.y, v.target.data).dz);
    for (const k of keys) {
      if (t <= 3) adamReferenceStep(adamw.settings, t, state[k], grads[k], m[k], s[k]);
      else sgdReferenceStep(sgdOptions, state[k], grads[k], buf[k], t === 4);
    }
  }
  for (const k of keys) assertClose(`${k} after AdamW then SGD`, after[k].data, state[k], 1e-5, "max");
  cleanup(model, x, y, adamw);
});

Deno.test("losses: crossEntropy's value, gradient and accuracy equal the float64 reference", async () => {
  const rows = 37;
  const cols = 5;
  const z = Float32Array.from({ length: rows * cols }, (_, i) => Math.sin(i * 1.7) * 4);
  const labels = Float32Array.from({ length: rows }, (_, r) => (r * 3) % cols);
  const zt = Tensor.from(gpu, z, [rows, cols]);
  const yt = Tensor.from(gpu, labels, [rows]);
  const out = Tensor.zeros(gpu, [2]);
  const dz = recordLoss(gpu, "crossEntropy", zt, yt, out.binding, 0, 1);
  const ref = crossEntropyReference(z, labels, rows, cols);
  const [loss, correct] = await out.read();
  assertClose("cross entropy", [loss], [ref.loss], 1e-6);
  assertEquals(correct, ref.correct);
  assertClose("cross entropy gradient", await dz.read(), ref.dz, 1e-6, "max");
  cleanup(zt, yt, out, dz);
});

Deno.test("fit: a 500-step fit of kan([4, 4, 2, 1], relu g=10 k=3) on f6 with logEvery 100 reads back at most 10 times", async () => {
  const { train } = functionSplit("f6", { seed: 0 });
  const x = Tensor.from(gpu, train.x, [train.rows, 4]);
  const y = Tensor.from(gpu, train.y, [train.rows, 1]);
  const model = kan(gpu, [4, 4, 2, 1], { basis: "relu", g: 10, k: 3 });
  const before = gpu.stats();
  const history = await model.fit({
    x,
    y,
    loss: "mse",
    optimizer: new Adam({ lr: 1e-3 }),
    steps: 500,
    logEvery: 100,
    progress: "none",
  });
  const after = gpu.stats();
  console.log(
    `  readbacks ${after.readbacks - before.readbacks}, submits ${after.submits - before.submits}; losses ${
      history.loss.map((l) => l.toExponential(2))
    }`,
  );
  assert(after.readbacks - before.readbacks <= 10, `${after.readbacks - before.readbacks} readbacks`);
  assertEquals(history.step, [100, 200, 300, 400, 500]);
  assert(history.loss[4] < history.loss[0], "the loss went down");
  cleanup(model, x, y);
});

Deno.test("fit: a 2,000-step minibatch fit ends with the live bytes it had after its first step", async () => {
  const { train } = functionSplit("f4", { seed: 1 });
  const x = Tensor.from(gpu, train.x, [train.rows, 2]);
  const y = Tensor.from(gpu, train.y, [train.rows, 1]);
  const model = kan(gpu, [2, 5, 1], { basis: "bspline" });
  const optimizer = new Adam({ lr: 1e-2 });
  const options = { x, y, loss: "mse" as const, optimizer, batchSize: 100, progress: "none" as const };
  await model.fit({ ...options, steps: 1 });
  const first = gpu.stats();
  const history = await model.fit({ ...options, steps: 1999, logEvery: 500 });
  const last = gpu.stats();
  console.log(
    `  live ${first.liveBytes} → ${last.liveBytes} bytes, peak ${last.peakBytes}; final loss ${
      history.loss.at(-1)
    }`,
  );
  assertEquals(last.liveBytes, first.liveBytes);
  assertEquals(last.liveBuffers, first.liveBuffers);
  assert(history.loss.at(-1)! < 0.05, `loss ${history.loss.at(-1)}`);
  cleanup(model, x, y, optimizer);
});

Deno.test("fit: the same seed gives the same losses, bit for bit; another seed other losses", async () => {
  const { train } = functionSplit("f5", { seed: 2 });
  const run = async (seed: number) => {
    const x = Tensor.from(gpu, train.x, [train.rows, 2]);
    const y = Tensor.from(gpu, train.y, [train.rows, 1]);
    const model = kan(gpu, [2, 5, 1], { basis: "fast", seed: 3 });
    const h = await model.fit({
      x,
      y,
      loss: "mse",
      optimizer: new Adam({ lr: 1e-2 }),
      steps: 60,
      batchSize: 64,
      seed,
      logEvery: 20,
      progress: "none",
    });
    cleanup(model, x, y);
    return h.loss;
  };
  const [a, b, c] = [await run(5), await run(5), await run(6)];
  assertEquals(a, b);
  assert(a.some((v, i) => v !== c[i]), "another shuffling seed changes the losses");
});

Deno.test("fit and evaluate: bad options and data are KanErrors naming them", async () => {
  const model = kan(gpu, [2, 3, 1], { basis: "relu" });
  const x = Tensor.from(gpu, [0.1, 0.2, 0.3, 0.4], [2, 2]);
  const y = Tensor.from(gpu, [1, 2], [2, 1]);
  const optimizer = new Adam();
  const base = { x, y, loss: "mse" as const, optimizer, steps: 1, progress: "none" as const };
  await assertRejects(() => model.fit({ ...base, stepz: 3 } as never), /unknown option "stepz"/);
  await assertRejects(() => model.fit({ ...base, epochs: 2 }), /exactly one of "steps" and "epochs"/);
  await assertRejects(
    () => model.fit({ ...base, loss: "l1" as never }),
    /loss must be one of mse, crossEntropy/,
  );
  await assertRejects(
    () => model.fit({ ...base, y: Tensor.from(gpu, [1, 2, 3], [3, 1]) }),
    /target has shape \[3, 1\], expected \[2, 1\]/,
  );
  await assertRejects(
    () => model.fit({ ...base, freeze: ["nothing_like_this"] }),
    /freeze entry "nothing_like_this" matches no/,
  );
  await assertRejects(() => model.fit({ ...base, batchSize: 0 }), /"batchSize" must be an integer >= 1/);
  await assertRejects(
    () => model.fit({ ...base, x: Tensor.from(gpu, [1, Number.NaN, 3, 4], [2, 2]) }),
    /x holds a non-finite value at flat index 1/,
  );
  const classifier = kan(gpu, [2, 3], { basis: "mlp" });
  await assertRejects(
    () => classifier.fit({ ...base, loss: "crossEntropy", y: Tensor.from(gpu, [0, 3], [2]) }),
    /class id y\[1\] = 3 is not an integer in 0\.\.2/,
  );
  await assertRejects(
    () => classifier.evaluate(x, Tensor.from(gpu, [0.5, 1], [2]), "crossEntropy"),
    KanError,
  );
  const diverging = kan(gpu, [2, 1], { basis: "mlp" });
  await assertRejects(
    () =>
      diverging.fit({
        ...base,
        y: Tensor.from(gpu, [1e30, -1e30], [2, 1]),
        optimizer: new SGD({ lr: 1e10 }),
        steps: 20,
        logEvery: 5,
      }),
    /the loss became (NaN|Infinity)/,
  );
  cleanup(model, classifier, diverging, x, y);
});

Deno.test("fit: freeze leaves the named entries untouched and trains the rest", async () => {
  const { train } = functionSplit("f1", { seed: 3 });
  const x = Tensor.from(gpu, train.x, [train.rows, 1]);
  const y = Tensor.from(gpu, train.y, [train.rows, 1]);
  const model = kan(gpu, [1, 1], { basis: "bspline", baseActivation: "zero", gridSize: 10 });
  const before = await model.stateDict();
  await model.fit({
    x,
    y,
    loss: "mse",
    optimizer: new Adam({ lr: 1e-2 }),
    steps: 20,
    freeze: ["base_weight", "spline_scaler"],
    progress: "none",
  });
  const after = await model.stateDict();
  assertEquals(after["layers.0.base_weight"], before["layers.0.base_weight"]);
  assertEquals(after["layers.0.spline_scaler"], before["layers.0.spline_scaler"]);
  assert(after["layers.0.spline_weight"].data.some((v, i) => v !== before["layers.0.spline_weight"].data[i]));
  assert(
    model.parameters().find((p) => p.name === "spline_scaler")!.trainable,
    "trainability is restored after fit",
  );
  cleanup(model, x, y);
});

Deno.test("evaluate: mean loss and accuracy over chunks equal one full-batch float64 evaluation", async () => {
  const rows = 9000; // more than one 8,192-row chunk
  const model = kan(gpu, [3, 4], { basis: "mlp", seed: 4 });
  const xs = Float32Array.from({ length: rows * 3 }, (_, i) => Math.sin(i * 0.37));
  const ys = Float32Array.from({ length: rows }, (_, r) => r % 4);
  const x = Tensor.from(gpu, xs, [rows, 3]);
  const y = Tensor.from(gpu, ys, [rows]);
  const result = await model.evaluate(x, y, "crossEntropy");
  const ref = model.reference(
    Object.fromEntries(Object.entries(await model.stateDict()).map(([k, e]) => [k, e.data])),
  );
  const want = crossEntropyReference(ref.forward(xs, rows).y, ys, rows, 4);
  assertClose("evaluate loss", [result.loss], [want.loss], 1e-5);
  assertEquals(result.accuracy, want.correct / rows);
  cleanup(model, x, y);
});

Deno.test("train_test teardown", () => {
  gpu.destroy();
});
