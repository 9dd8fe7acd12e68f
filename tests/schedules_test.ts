/**
 * Learning-rate schedules (src/train/schedules.ts) and `fit({ schedule, clipGradNorm, startStep })` against
 * PyTorch (tests/testdata/schedules, written by generate.py there):
 *
 * - The rates of LambdaLR (a warm-up), CosineAnnealingLR (past T_max), StepLR, ExponentialLR and a
 *   SequentialLR of a warm-up and a cosine over 30 steps, within 1e-12 relative.
 * - Scheduled, clipped training runs of a Linear 3 -> 2 (SGD with momentum, Adam, LBFGS; clipping active on
 *   some steps only), every step's loss and the parameters after every step (one `fit` per step with
 *   `startStep`, and one `fit` of the whole run, on the fused and the layer-by-layer path) against torch's
 *   float64 run. The same runs without clipping are far off, so the bounds can fail.
 * - `startStep`: `fit` of 10 steps then `fit` of 10 with `startStep: 10` gives the weights of one `fit` of
 *   20, with shuffled minibatches whose epochs do not split at step 10, a schedule and clipping.
 * - Bad schedules and schedule arguments are KanErrors naming what is wrong.
 */

import {
  Adam,
  type ClosureOptimizer,
  type GpuOptimizer,
  KanError,
  LBFGS,
  Linear,
  Sequential,
  SGD,
  Tensor,
} from "../mod.ts";
import { cosineDecay, exponentialDecay, type Schedule, stepDecay, warmup } from "../src/train/schedules.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "./assert.ts";
import type { VectorTensor } from "./vectors.ts";
import { maxAbs, maxAbsDiff, seededUniform, testGpu } from "./helpers.ts";

const gpu = await testGpu();

/** A schedule as the fixture names it. */
interface ScheduleSpec {
  kind: "warmup" | "cosine" | "step" | "exponential" | "warmup_then";
  steps?: number;
  minLr?: number;
  every?: number;
  gamma?: number;
  then?: ScheduleSpec;
}

interface Run {
  name: string;
  optimizer: "SGD" | "Adam" | "LBFGS";
  options: Record<string, unknown>;
  schedule: ScheduleSpec;
  clip_grad_norm: number;
  steps: number;
  lr: number[];
  loss: number[];
  norm: number[];
  clipped: boolean[];
  params: Record<string, number[]>[];
  torch_float32_deviation: number;
}

interface Fixture {
  base_lr: number;
  schedules: { name: string; schedule: ScheduleSpec; lr: number[] }[];
  x: VectorTensor;
  y: VectorTensor;
  state: Record<string, VectorTensor>;
  runs: Run[];
}

const fixture: Fixture = JSON.parse(
  Deno.readTextFileSync(new URL("./testdata/schedules/schedules.json", import.meta.url)),
);

function scheduleOf(spec: ScheduleSpec): Schedule {
  switch (spec.kind) {
    case "warmup":
      return warmup(spec.steps!);
    case "warmup_then":
      return warmup(spec.steps!, scheduleOf(spec.then!));
    case "cosine":
      return cosineDecay({ steps: spec.steps!, minLr: spec.minLr });
    case "step":
      return stepDecay({ every: spec.every!, gamma: spec.gamma! });
    case "exponential":
      return exponentialDecay({ gamma: spec.gamma! });
  }
}

for (const { name, schedule, lr } of fixture.schedules) {
  Deno.test(`schedule ${name}: 30 rates equal torch's within 1e-12 relative`, () => {
    const ours = scheduleOf(schedule);
    let worst = 0;
    lr.forEach((want, step) => {
      const got = ours(step, fixture.base_lr);
      const rel = Math.abs(got - want) / want;
      worst = Math.max(worst, rel);
      assert(rel <= 1e-12, `${name}: step ${step}: ${got}, torch ${want} (relative ${rel})`);
    });
    console.log(`  ${name}: ${lr[0]} .. ${lr.at(-1)}, worst relative difference ${worst.toExponential(2)}`);
  });
}

Deno.test("schedules: bad arguments are KanErrors naming them", () => {
  const cases: [() => unknown, RegExp][] = [
    [() => warmup(0), /warmup: steps must be an integer >= 1, got 0/],
    [() => warmup(2.5), /warmup: steps/],
    [() => warmup(3, 0.1 as never), /warmup: then must be a function/],
    [() => cosineDecay({ steps: 0 }), /cosineDecay: option "steps"/],
    [() => cosineDecay({ steps: 10, minLr: -1 }), /cosineDecay: option "minLr" must be a number >= 0/],
    [() => cosineDecay(undefined as never), /cosineDecay: expected options/],
    [() => cosineDecay({ steps: 10, min: 1 } as never), /cosineDecay: unknown option "min"/],
    [() => stepDecay({ every: 0, gamma: 0.5 }), /stepDecay: option "every"/],
    [() => stepDecay({ every: 3, gamma: 0 }), /stepDecay: option "gamma" must be a number > 0/],
    [() => exponentialDecay({ gamma: NaN }), /exponentialDecay: option "gamma"/],
    [() => exponentialDecay({ gamma: -0.5 }), /exponentialDecay: option "gamma"/],
    [
      () => exponentialDecay({ gamma: 0.9 })(-1, 0.1),
      /exponentialDecay: step must be an integer >= 0, got -1/,
    ],
    [() => warmup(3)(1, 0), /warmup: baseLr must be a number > 0/],
  ];
  for (const [call, message] of cases) {
    const e = assertThrows(call, KanError);
    assert(message.test(e.message), `${e.message} does not match ${message}`);
  }
});

function problem() {
  const x = Tensor.from(gpu, fixture.x.data, fixture.x.shape);
  const y = Tensor.from(gpu, fixture.y.data, fixture.y.shape);
  const model = new Sequential([new Linear(gpu, 3, 2)]);
  model.loadStateDict(
    Object.fromEntries(
      Object.entries(fixture.state).map(([k, e]) => [k, { shape: e.shape, data: Float32Array.from(e.data) }]),
    ),
  );
  return { x, y, model };
}

function optimizerOf(run: Run): GpuOptimizer | ClosureOptimizer {
  const o = run.options as never;
  return run.optimizer === "SGD" ? new SGD(o) : run.optimizer === "Adam" ? new Adam(o) : new LBFGS(o);
}

const KEYS = Object.keys(fixture.state).sort();

async function parameters(model: Sequential): Promise<number[]> {
  const state = await model.stateDict();
  return KEYS.flatMap((k) => [...state[k].data]);
}

/** max|ours - torch| / max|torch| over all parameters. */
function paramDiff(got: number[], want: Record<string, number[]>): number {
  const w = KEYS.flatMap((k) => want[k]);
  return maxAbsDiff(got, w) / maxAbs(w);
}

/**
 * Bounds on `max|ours - torch float64| / max|torch float64|` at every step, measured on lavapipe (worst of
 * the per-step and the whole-run fits): SGD 1.4e-7 and Adam 1.2e-7 (torch float32's own 2.5e-7 and 1.6e-7),
 * LBFGS 6.5e-6 (torch float32's own 2.1e-5: the line search amplifies float32 noise). Losses: SGD and Adam
 * 5.3e-7 relative, LBFGS 7.6e-6 (its last loss is the smallest, 0.084). Bounds: 1e-6 (SGD, Adam), 3e-5
 * (LBFGS), losses 1e-5 (3e-5 for LBFGS). Without clipping the same runs end 0.025 to 0.17 of max |p| away.
 */
const BOUND: Record<Run["optimizer"], { params: number; loss: number }> = {
  SGD: { params: 1e-6, loss: 1e-5 },
  Adam: { params: 1e-6, loss: 1e-5 },
  LBFGS: { params: 3e-5, loss: 3e-5 },
};

for (const run of fixture.runs) {
  const { params: bound, loss: lossBound } = BOUND[run.optimizer];
  Deno.test(
    `scheduled, clipped run ${run.name}: ${run.steps} steps (clipped ${
      run.clipped.map((c) => c ? "x" : ".").join("")
    }) follow torch within ${bound} of max |p|, one fit per step with startStep and one fit for all`,
    async () => {
      assert(run.clipped.some((c) => c) && run.clipped.some((c) => !c), "clipping on some steps only");
      const { x, y, model } = problem();
      const schedule = scheduleOf(run.schedule);
      const common = {
        x,
        y,
        loss: "mse" as const,
        schedule,
        clipGradNorm: run.clip_grad_norm,
        progress: "none" as const,
      };
      const init = await model.stateDict();
      try {
        // One step per fit: the schedule sees the global step through startStep.
        let optimizer = optimizerOf(run);
        const diffs: number[] = [];
        for (let step = 0; step < run.steps; step++) {
          const h = await model.fit({ ...common, optimizer, steps: 1, startStep: step });
          assertEquals(h.step, [step + 1]);
          const rel = Math.abs(h.loss[0] - run.loss[step]) / run.loss[step];
          assert(rel <= lossBound, `step ${step + 1}: loss ${h.loss[0]}, torch ${run.loss[step]}`);
          assert(
            Math.abs(optimizer.lr - run.lr[step]) <= 1e-12 * run.lr[step],
            `step ${step + 1}: lr ${optimizer.lr}`,
          );
          diffs.push(paramDiff(await parameters(model), run.params[step]));
        }
        optimizer.dispose();
        console.log(
          `  per step: worst ${Math.max(...diffs).toExponential(2)} of max |p| (torch float32: ${
            run.torch_float32_deviation.toExponential(2)
          }); loss ${run.loss[0].toFixed(4)} -> ${run.loss.at(-1)!.toFixed(4)}`,
        );
        diffs.forEach((d, i) => assert(d <= bound, `after step ${i + 1}: ${d} of max |p| (bound ${bound})`));
        // One fit for the whole run, fused and layer by layer; and without clipping, far off.
        for (const fused of [true, false]) {
          model.loadStateDict(init);
          optimizer = optimizerOf(run);
          const h = await model.fit({ ...common, optimizer, steps: run.steps, logEvery: 1, fused });
          optimizer.dispose();
          const d = paramDiff(await parameters(model), run.params.at(-1)!);
          const worstLoss = Math.max(...h.loss.map((l, i) => Math.abs(l - run.loss[i]) / run.loss[i]));
          console.log(
            `  one fit (fused ${fused}): ${d.toExponential(2)} of max |p|, losses ${
              worstLoss.toExponential(2)
            }`,
          );
          assert(
            d <= bound && worstLoss <= lossBound,
            `one fit (fused ${fused}): ${d}, losses ${worstLoss}`,
          );
        }
        model.loadStateDict(init);
        optimizer = optimizerOf(run);
        await model.fit({ ...common, clipGradNorm: undefined, optimizer, steps: run.steps });
        optimizer.dispose();
        const unclipped = paramDiff(await parameters(model), run.params.at(-1)!);
        console.log(`  without clipping: ${unclipped.toExponential(2)} of max |p|`);
        assert(unclipped > 100 * bound, `without clipping the run ends only ${unclipped} away`);
      } finally {
        model.dispose();
        x.dispose();
        y.dispose();
      }
    },
  );
}

Deno.test("startStep: fit 10 + fit 10 from step 10 = fit 20 (shuffled batches of 7 of 24 rows, schedule, clipping), bit for bit", async () => {
  const random = seededUniform(11);
  const x = Tensor.from(gpu, Float32Array.from({ length: 72 }, () => random() * 2 - 1), [24, 3]);
  const y = Tensor.from(gpu, Float32Array.from({ length: 48 }, () => random()), [24, 2]);
  const models = [0, 1, 2].map(() =>
    new Sequential([new Linear(gpu, 3, 4, { activation: "tanh" }), new Linear(gpu, 4, 2)])
  );
  const [a, b, c] = models;
  const init = await a.stateDict();
  b.loadStateDict(init);
  c.loadStateDict(init);
  const options = {
    x,
    y,
    loss: "mse" as const,
    batchSize: 7,
    seed: 5,
    logEvery: 5,
    schedule: warmup(3, exponentialDecay({ gamma: 0.9 })),
    clipGradNorm: 0.05,
    progress: "none" as const,
  };
  const [oa, ob, oc] = [0, 1, 2].map(() => new Adam({ lr: 0.05 }));
  const whole = await a.fit({ ...options, optimizer: oa, steps: 20 });
  const first = await b.fit({ ...options, optimizer: ob, steps: 10 });
  const second = await b.fit({ ...options, optimizer: ob, steps: 10, startStep: 10 });
  assertEquals(first.step, [5, 10]);
  assertEquals(second.step, [15, 20]);
  assertEquals([...first.loss, ...second.loss], whole.loss);
  const wa = await allParameters(a);
  const moved = maxAbsDiff(wa, flatState(init));
  console.log(`  weights moved ${moved.toExponential(2)}; losses ${whole.loss.map((l) => l.toFixed(4))}`);
  assertEquals(await allParameters(b), wa);
  assert(moved > 1e-2, `the weights moved only ${moved}`);
  // Without startStep the second half replays the first epochs' orders and the schedule's first steps.
  await c.fit({ ...options, optimizer: oc, steps: 10 });
  await c.fit({ ...options, optimizer: oc, steps: 10 });
  const off = maxAbsDiff(await allParameters(c), wa);
  console.log(`  without startStep: max |diff| ${off.toExponential(2)}`);
  assert(off > 1e-4, `without startStep the weights differ by only ${off}`);
  for (const t of [x, y, oa, ob, oc]) t.dispose();
  for (const m of models) m.dispose();
});

function flatState(state: Record<string, { data: Float32Array }>): number[] {
  return Object.keys(state).sort().flatMap((k) => [...state[k].data]);
}

async function allParameters(model: Sequential): Promise<number[]> {
  return flatState(await model.stateDict());
}

Deno.test("fit({ schedule }): a rate that is not positive and finite is a KanError naming the step; the schedule's own error propagates", async () => {
  const { x, y, model } = problem();
  const optimizer = new SGD({ lr: 0.1 });
  const before = await parameters(model);
  for (const [value, shown] of [[0, "0"], [NaN, "NaN"], [Infinity, "Infinity"], [-1e-3, "-0.001"]] as const) {
    const e = await assertRejects(
      () =>
        model.fit({
          x,
          y,
          loss: "mse",
          optimizer,
          steps: 5,
          startStep: 7,
          schedule: (step, baseLr) => step === 9 ? value : baseLr,
          progress: "none",
        }),
      KanError,
    );
    assert(e.message.includes(`returned ${shown} for step 9`), e.message);
  }
  const own = new Error("the schedule's own");
  const e = await assertRejects(
    () =>
      model.fit({
        x,
        y,
        loss: "mse",
        optimizer,
        steps: 1,
        schedule: () => {
          throw own;
        },
        progress: "none",
      }),
    /the schedule's own/,
  );
  assert(e === own, "the schedule's own error propagates unchanged");
  const bad = await assertRejects(
    () => model.fit({ x, y, loss: "mse", optimizer, steps: 1, schedule: 0.1 as never }),
    KanError,
  );
  assert(/option "schedule" must be a function/.test(bad.message), bad.message);
  for (const startStep of [-1, 1.5, "3"]) {
    const s = await assertRejects(
      () => model.fit({ x, y, loss: "mse", optimizer, steps: 1, startStep: startStep as never }),
      KanError,
    );
    assert(/option "startStep" must be an integer >= 0/.test(s.message), s.message);
  }
  // Each refused run stopped before its third step (step 9 = startStep 7 + 2): two steps of lr 0.1 each.
  assert(maxAbsDiff(await parameters(model), before) > 0, "the steps before the refused one ran");
  for (const t of [x, y, optimizer]) t.dispose();
  model.dispose();
});

Deno.test("schedules teardown: no live buffers", () => {
  assertEquals(gpu.stats().liveBuffers, 0);
  gpu.destroy();
});
