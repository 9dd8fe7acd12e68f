/**
 * pykan's sparsity regularization on the GPU (src/interpret/regularization.ts): its value and every
 * gradient against the float64 reference (bound 1e-4 relative to the largest magnitude), the float64
 * reference against central finite differences, both against pykan's own `reg` + autograd on a
 * [3, 4, 2] model with the same weights (tests/testdata/regularization/pykan_reference.py, pykan
 * ecde4ec, float64), and shapes past the loop-trip budget.
 */

import { BSplineKAN, type Gpu, Tensor } from "../mod.ts";
import { KanError } from "../src/errors.ts";
import { tripBudget } from "../src/gpu/loop_trips.ts";
import { partialLimit } from "../src/ops/reduce_rows.ts";
import { edgeStatistics } from "../src/interpret/edge_statistics.ts";
import {
  addRegularization,
  recordRegularization,
  type RegularizationSettings,
} from "../src/interpret/regularization.ts";
import { regularizationReference } from "../src/interpret/reg_reference.ts";
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { pykan, pykanModel } from "./pykan_fixture.ts";
import { assertClose, seededUniform, testGpu } from "./helpers.ts";

const gpu: Gpu = await testGpu();

const SETTINGS: RegularizationSettings = {
  lamb: 0.7,
  lambL1: 1.3,
  lambEntropy: 2,
  lambCoef: 0.4,
  lambCoefdiff: 0.25,
};

function uniform(seed: number, n: number, lo = -1, hi = 1): Float32Array {
  const random = seededUniform(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * random());
}

function stateOf(dict: Record<string, { data: Float32Array }>): Record<string, Float32Array> {
  return Object.fromEntries(Object.entries(dict).map(([k, v]) => [k, v.data]));
}

/** Runs the regularization of `layer` on `x` alone (no loss): its value, parameter gradients and dx. */
async function gpuRegularization(
  layer: BSplineKAN,
  x: Tensor,
  settings: RegularizationSettings,
): Promise<{ value: number; grads: Record<string, Float32Array>; dx: Float32Array }> {
  layer.zeroGrad();
  const value = Tensor.zeros(gpu, [1]);
  const dx = Tensor.zeros(gpu, x.shape);
  const record = recordRegularization(layer, x, settings, { range: value.binding });
  record.backward(dx);
  record.release();
  const grads = stateOf(await layer.gradDict());
  const result = { value: (await value.read())[0], grads, dx: await dx.read() };
  value.dispose();
  dx.dispose();
  return result;
}

async function compareWithReference(layer: BSplineKAN, batch: number, seed: number, tol = 1e-4) {
  const xs = uniform(seed, batch * layer.inFeatures, -1.3, 1.1);
  const x = Tensor.from(gpu, xs, [batch, layer.inFeatures]);
  const got = await gpuRegularization(layer, x, SETTINGS);
  const ref = regularizationReference(layer, stateOf(await layer.stateDict()), xs, batch, SETTINGS);
  assertClose("lamb * reg", [got.value], [ref.value], tol, "max");
  for (const name of ["base_weight", "spline_weight", "spline_scaler"] as const) {
    assertClose(`d/d ${name}`, got.grads[name], ref.grads[name], tol, "max");
  }
  assertClose("d/dx", got.dx, ref.dx, tol, "max");
  x.dispose();
  return ref;
}

Deno.test("regularization: GPU value and gradients match the float64 reference (B 50, [3 -> 4], G 5, k 3)", async () => {
  const layer = new BSplineKAN(gpu, 3, 4, { seed: 3, scaleNoise: 3 });
  const ref = await compareWithReference(layer, 50, 1);
  assert(ref.value > 1, `a regularization worth testing: ${ref.value}`);
  layer.dispose();
});

Deno.test("regularization: identity base, G 7, k 2, frozen scaler (its gradient untouched)", async () => {
  const layer = new BSplineKAN(gpu, 2, 3, {
    seed: 5,
    gridSize: 7,
    splineOrder: 2,
    baseActivation: "identity",
    scaleNoise: 2,
  });
  layer.namedParameters().get("spline_scaler")!.trainable = false;
  const batch = 30;
  const xs = uniform(2, batch * 2);
  const x = Tensor.from(gpu, xs, [batch, 2]);
  const got = await gpuRegularization(layer, x, SETTINGS);
  const ref = regularizationReference(layer, stateOf(await layer.stateDict()), xs, batch, SETTINGS);
  assertClose("lamb * reg", [got.value], [ref.value], 1e-4, "max");
  assertClose("d/d base_weight", got.grads.base_weight, ref.grads.base_weight, 1e-4, "max");
  assertClose("d/d spline_weight", got.grads.spline_weight, ref.grads.spline_weight, 1e-4, "max");
  assertClose("d/dx", got.dx, ref.dx, 1e-4, "max");
  assertEquals(got.grads.spline_scaler, undefined);
  x.dispose();
  layer.dispose();
});

Deno.test("regularization: the float64 reference against central finite differences", async () => {
  const layer = new BSplineKAN(gpu, 2, 3, { seed: 9, scaleNoise: 3 });
  const batch = 12;
  const xs = Array.from(uniform(4, batch * 2));
  const state: Record<string, number[]> = Object.fromEntries(
    Object.entries(stateOf(await layer.stateDict())).map(([k, v]) => [k, Array.from(v)]),
  );
  const ref = regularizationReference(layer, state, xs, batch, SETTINGS);
  const h = 1e-6;
  const value = (s: Record<string, number[]>, x: number[]) =>
    regularizationReference(layer, s, x, batch, SETTINGS).value;
  let worst = 0;
  let largest = 0;
  const checkOne = (analytic: number, plus: number, minus: number) => {
    const numeric = (plus - minus) / (2 * h);
    worst = Math.max(worst, Math.abs(numeric - analytic));
    largest = Math.max(largest, Math.abs(analytic));
  };
  for (const name of ["base_weight", "spline_weight", "spline_scaler"] as const) {
    for (let k = 0; k < state[name].length; k++) {
      const at = (d: number) => {
        const s = { ...state, [name]: state[name].map((v, t) => t === k ? v + d : v) };
        return value(s, xs);
      };
      checkOne(ref.grads[name][k], at(h), at(-h));
    }
  }
  for (let k = 0; k < xs.length; k++) {
    const at = (d: number) => value(state, xs.map((v, t) => t === k ? v + d : v));
    checkOne(ref.dx[k], at(h), at(-h));
  }
  console.log(
    `  finite differences: max |diff| ${worst.toExponential(3)}, largest gradient ${largest.toFixed(4)}`,
  );
  assert(worst <= 1e-6 * largest, `finite differences differ by ${worst} (largest gradient ${largest})`);
  layer.dispose();
});

Deno.test("regularization: the float64 reference gives pykan's reg of each layer (ecde4ec, float64)", () => {
  const model = pykanModel(gpu);
  const settings = { lamb: 1, ...pykan.settings };
  let total = 0;
  model.layers.forEach((layer, l) => {
    const state = Object.fromEntries(
      Object.entries(pykan.state).filter(([k]) => k.startsWith(`layers.${l}.`)).map((
        [k, v],
      ) => [k.split(".")[2], v]),
    );
    const ref = regularizationReference(
      layer as BSplineKAN,
      state,
      pykan.layerInputs[l],
      pykan.batch,
      settings,
    );
    assertClose(`layer ${l} reg`, [ref.value], [pykan.layerReg[l]], 1e-9, "max");
    total += ref.value;
  });
  assertClose("model reg", [total], [pykan.reg], 1e-9, "max");
  model.dispose();
});

Deno.test("regularization: GPU through a [3, 4, 2] model matches pykan's reg and autograd gradients", async () => {
  const model = pykanModel(gpu);
  const [l0, l1] = model.layers as BSplineKAN[];
  const settings = { lamb: 1, ...pykan.settings };
  const x = Tensor.from(gpu, pykan.x, [pykan.batch, pykan.widths[0]]);
  model.zeroGrad();
  const value = Tensor.zeros(gpu, [1]);
  const t0 = l0.trace(x);
  const r0 = recordRegularization(l0, x, settings, { range: value.binding });
  const t1 = l1.trace(t0.y);
  const r1 = recordRegularization(l1, t0.y, settings, { range: value.binding, accumulate: true });
  const dy = Tensor.zeros(gpu, t1.y.shape);
  const dh = t1.backward(dy, true)!;
  r1.backward(dh);
  const dx = t0.backward(dh, true)!;
  r0.backward(dx);
  const loss = Tensor.from(gpu, [0.5], [1]);
  addRegularization(gpu, value.binding, loss.binding);
  assertClose("reg", await value.read(), [pykan.reg], 1e-4, "max");
  assertClose("loss + reg", await loss.read(), [0.5 + pykan.reg], 1e-4, "max");
  const grads = stateOf(await model.gradDict());
  for (const [key, expected] of Object.entries(pykan.grads)) {
    assertClose(`d reg / d ${key}`, grads[key], expected, 1e-4, "max");
  }
  assertClose("d reg / dx", await dx.read(), pykan.dx, 1e-4, "max");
  for (const r of [r0, r1]) r.release();
  for (const t of [t0, t1]) t.release();
  for (const t of [x, value, dy, dh, dx, loss, t0.y, t1.y]) t.dispose();
  model.dispose();
});

Deno.test("regularization: every split taken at a loop-trip budget of 300 (chunks of rows, parts of outputs, one part per group)", async () => {
  const layer = new BSplineKAN(gpu, 3, 5, { seed: 8, scaleNoise: 3 });
  const saved = [tripBudget.trips, partialLimit.floats];
  tripBudget.trips = 300;
  partialLimit.floats = 1;
  try {
    await compareWithReference(layer, 40, 6);
  } finally {
    [tripBudget.trips, partialLimit.floats] = saved;
  }
  layer.dispose();
});

Deno.test("regularization: batch 20,000 (25 times past one invocation's loop budget, split in chunks) against the float64 reference", async () => {
  const layer = new BSplineKAN(gpu, 2, 2, { seed: 4, scaleNoise: 3 });
  const ref = await compareWithReference(layer, 20_000, 12, 2e-4);
  const x = Tensor.from(gpu, uniform(12, 40_000, -1.3, 1.1), [20_000, 2]);
  const stats = await edgeStatistics(layer, x);
  x.dispose();
  assertClose("edge std", stats.edgeStd, ref.edgeStd, 1e-5, "max");
  assertClose("input std", stats.inputStd, ref.inputStd, 1e-5, "max");
  layer.dispose();
});

Deno.test("regularization: bad input is refused with a KanError naming it", async () => {
  const layer = new BSplineKAN(gpu, 2, 2, { seed: 1 });
  const value = Tensor.zeros(gpu, [1]);
  const one = Tensor.from(gpu, [0.1, 0.2], [1, 2]);
  const x = Tensor.from(gpu, [0.1, 0.2, 0.3, 0.4], [2, 2]);
  assertThrows(() => recordRegularization(layer, one, { lamb: 1 }, { range: value.binding }), /B >= 2/);
  assertThrows(
    () => recordRegularization(layer, x, { lamb: NaN }, { range: value.binding }),
    /option "lamb" must be a finite/,
  );
  assertThrows(
    () => recordRegularization(layer, x, { lamb: 1, lambL2: 1 } as never, { range: value.binding }),
    /unknown option "lambL2"/,
  );
  const err = assertThrows(
    () => recordRegularization({ kind: "FastKAN" } as never, x, { lamb: 1 }, { range: value.binding }),
    /expected a BSplineKAN layer .*got a FastKAN/,
  );
  assert(err instanceof KanError);
  const record = recordRegularization(layer, x, { lamb: 1 }, { range: value.binding });
  record.backward(null);
  assertThrows(() => record.backward(null), /already called/);
  record.release();
  for (const t of [value, one, x]) t.dispose();
  layer.dispose();
  await gpu.sync();
});

Deno.test("regularization: no buffer left behind", () => {
  assertEquals(gpu.stats().liveBuffers, 0);
  gpu.destroy();
});
