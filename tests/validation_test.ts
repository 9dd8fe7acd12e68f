/**
 * `fit({ validation, validateEvery, patience, restoreBest })` and an `onProgress` that returns a promise.
 *
 * The model is `Linear(1, 1)` from w = b = 0, trained by SGD on y = 2x while the validation set follows
 * y = x (or y = -x): w climbs towards 2, so the validation loss falls until w passes 1 and rises after, at
 * steps a float64 run of the same SGD predicts. Early stopping must stop `patience` validations after that
 * best step, `restoreBest` must put back the weights of that step bit for bit (a run of exactly that many
 * steps), and the validation losses must equal the float64 ones.
 */

import { KanError, Linear, Sequential, SGD, Tensor } from "../mod.ts";
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { testGpu } from "./helpers.ts";

const gpu = await testGpu();

const X = Array.from({ length: 16 }, (_, i) => Math.fround(-1 + 2 * i / 15));
const XV = Array.from({ length: 8 }, (_, i) => Math.fround(-0.9 + 1.8 * i / 7));
const LR = 0.1;

/** Float64 SGD on mse(w x + b, 2x): (w, b) after each step, from (0, 0). */
function reference(steps: number): { w: number; b: number }[] {
  const out: { w: number; b: number }[] = [];
  let w = 0;
  let b = 0;
  for (let s = 0; s < steps; s++) {
    let gw = 0;
    let gb = 0;
    for (const x of X) {
      const r = w * x + b - Math.fround(2 * x);
      gw += 2 * r * x / X.length;
      gb += 2 * r / X.length;
    }
    w -= LR * gw;
    b -= LR * gb;
    out.push({ w, b });
  }
  return out;
}

function validationLoss(w: number, b: number, slope: number): number {
  return XV.reduce((sum, x) => sum + (w * x + b - Math.fround(slope * x)) ** 2, 0) / XV.length;
}

function setup(slope: number) {
  const model = new Sequential([new Linear(gpu, 1, 1)]);
  model.loadStateDict({
    "layers.0.weight": { shape: [1, 1], data: new Float32Array([0]) },
    "layers.0.bias": { shape: [1], data: new Float32Array([0]) },
  });
  const x = Tensor.from(gpu, X, [16, 1]);
  const y = Tensor.from(gpu, X.map((v) => 2 * v), [16, 1]);
  const vx = Tensor.from(gpu, XV, [8, 1]);
  const vy = Tensor.from(gpu, XV.map((v) => slope * v), [8, 1]);
  const dispose = () => {
    for (const t of [x, y, vx, vy]) t.dispose();
    model.dispose();
  };
  return { model, x, y, validation: { x: vx, y: vy }, dispose };
}

async function weights(model: Sequential): Promise<number[]> {
  const s = await model.stateDict();
  return [s["layers.0.weight"].data[0], s["layers.0.bias"].data[0]];
}

/** Weights after exactly `steps` steps of the same run, without validation. */
async function weightsAfter(steps: number, fused: boolean): Promise<number[]> {
  const { model, x, y, dispose } = setup(1);
  const optimizer = new SGD({ lr: LR });
  await model.fit({ x, y, loss: "mse", optimizer, steps, fused, progress: "none" });
  const w = await weights(model);
  optimizer.dispose();
  dispose();
  return w;
}

for (const fused of [true, false]) {
  Deno.test(`early stopping (fused ${fused}): best at the float64 run's best step, stopped 3 validations later, restoreBest puts that step's weights back bit for bit`, async () => {
    const ref = reference(40);
    const losses = ref.map(({ w, b }) => validationLoss(w, b, 1));
    const best = losses.indexOf(Math.min(...losses)) + 1;
    const sorted = [...losses].sort((a, b) => a - b);
    assert(sorted[1] > 2 * sorted[0], "the float64 best is clear of the runner-up");
    for (const restoreBest of [true, false]) {
      const { model, x, y, validation, dispose } = setup(1);
      const optimizer = new SGD({ lr: LR });
      const h = await model.fit({
        x,
        y,
        loss: "mse",
        optimizer,
        steps: 40,
        validation,
        patience: 3,
        restoreBest,
        fused,
        progress: "none",
      });
      const steps = Array.from({ length: best + 3 }, (_, i) => i + 1);
      console.log(
        `  restoreBest ${restoreBest}: best step ${h.bestStep} (float64 ${best}), stopped at ${h.stoppedAt}; ` +
          `validation losses ${h.validationLoss.map((v) => v.toExponential(2)).join(" ")}`,
      );
      assertEquals(h.bestStep, best);
      assertEquals(h.stoppedAt, best + 3);
      assertEquals(h.validationStep, steps);
      assertEquals(h.step, steps);
      const worst = Math.max(...h.validationLoss.map((v, i) => Math.abs(v - losses[i])));
      assert(worst <= 1e-6, `validation losses differ from float64 by ${worst}`);
      const got = await weights(model);
      const want = await weightsAfter(restoreBest ? best : best + 3, fused);
      assertEquals(got, want, `weights of step ${restoreBest ? best : best + 3}`);
      const w64 = ref[(restoreBest ? best : best + 3) - 1].w;
      assert(Math.abs(got[0] - w64) <= 1e-6, `w ${got[0]}, float64 ${w64}`);
      optimizer.dispose();
      dispose();
    }
  });
}

Deno.test("validateEvery 4 with logEvery 10: validated and logged steps; an async onProgress is awaited and gets the validation loss", async () => {
  const { model, x, y, validation, dispose } = setup(-1);
  const optimizer = new SGD({ lr: LR });
  const calls: { step: number; validationLoss?: number }[] = [];
  let settled = 0;
  const h = await model.fit({
    x,
    y,
    loss: "mse",
    optimizer,
    steps: 22,
    logEvery: 10,
    validation,
    validateEvery: 4,
    progress: "none",
    onProgress: async (p) => {
      assertEquals(settled, calls.at(-1)?.step ?? 0, "the previous call's promise settled first");
      calls.push({ step: p.step, validationLoss: p.validationLoss });
      await new Promise((resolve) => setTimeout(resolve, 5));
      settled = p.step;
    },
  });
  assertEquals(settled, 22);
  assertEquals(h.validationStep, [4, 8, 12, 16, 20, 22]);
  assertEquals(h.step, [4, 8, 10, 12, 16, 20, 22]);
  assertEquals(calls.map((c) => c.step), h.step);
  assertEquals(calls.filter((c) => c.validationLoss !== undefined).map((c) => c.step), h.validationStep);
  assertEquals(
    calls.filter((c) => c.validationLoss !== undefined).map((c) => c.validationLoss),
    h.validationLoss,
  );
  // y = -x: the validation loss only rises, so the first validation stays the best; nothing stops the run.
  assertEquals(h.bestStep, 4);
  assertEquals(h.stoppedAt, undefined);
  assertEquals(h.validationLoss.at(-1), (await model.evaluate(validation.x, validation.y, "mse")).loss);
  const ref = reference(22);
  const want = h.validationStep.map((s) => validationLoss(ref[s - 1].w, ref[s - 1].b, -1));
  const worst = Math.max(...h.validationLoss.map((v, i) => Math.abs(v - want[i]) / want[i]));
  console.log(
    `  validation losses ${h.validationLoss.map((v) => v.toFixed(4))}, relative to float64 ${worst}`,
  );
  assert(worst <= 1e-5, `validation losses off float64 by ${worst}`);
  const own = new Error("the user's own rejection");
  const e = await assertRejects(
    () =>
      model.fit({
        x,
        y,
        loss: "mse",
        optimizer,
        steps: 3,
        validation,
        progress: "none",
        onProgress: () => Promise.reject(own),
      }),
    /the user's own rejection/,
  );
  assert(e === own, "a rejected onProgress promise propagates unchanged");
  optimizer.dispose();
  dispose();
});

Deno.test("validation options: bad values are KanErrors naming the option", async () => {
  const { model, x, y, validation, dispose } = setup(1);
  const optimizer = new SGD({ lr: LR });
  const wide = Tensor.zeros(gpu, [8, 2]);
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ validateEvery: 2 }, /option "validateEvery" needs option "validation"/],
    [{ patience: 2 }, /option "patience" needs option "validation"/],
    [{ restoreBest: true }, /option "restoreBest" needs option "validation"/],
    [{ validation: validation.x }, /option "validation" must be \{ x, y \}/],
    [{ validation: { ...validation, w: 1 } }, /option "validation": unknown option "w"/],
    [{ validation: { x: wide, y: validation.y } }, /fit: option "validation".*x/],
    [{ validation: { x: validation.x } }, /fit: option "validation": y must be/],
    [{ validation, patience: 0 }, /option "patience" must be an integer >= 1, got 0/],
    [{ validation, validateEvery: 1.5 }, /option "validateEvery" must be an integer >= 1/],
    [{ validation, restoreBest: "yes" }, /option "restoreBest" must be true or false/],
  ];
  const before = await weights(model);
  for (const [extra, message] of cases) {
    const e = await assertRejects(
      () => model.fit({ x, y, loss: "mse", optimizer, steps: 2, progress: "none", ...extra }),
      KanError,
    );
    assert(message.test(e.message), `${e.message} does not match ${message}`);
  }
  assertEquals(await weights(model), before, "nothing ran");
  wide.dispose();
  optimizer.dispose();
  dispose();
});

Deno.test("validation teardown: no live buffers", () => {
  assertEquals(gpu.stats().liveBuffers, 0);
  gpu.destroy();
});
