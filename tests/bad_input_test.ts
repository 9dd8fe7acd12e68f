/**
 * Bad input is a KanError that names it: wrong input width, NaN or infinite
 * inputs, unknown options and option values out of range (layers, `kan`,
 * optimizers, `fit`), layers too large for the device, a LayerNorm over one
 * feature, state dicts with a missing, extra, misshaped, non-finite or
 * out-of-float32 entry or non-increasing knots (nothing is written then),
 * backward passes with a wrong `dy`; Symbols and BigInts where a state dict,
 * its entries, format options or safetensors paths belong; and
 * `fit({ signal })` stops a run.
 */

import {
  Adam,
  AdamW,
  BSplineKAN,
  encodeSafetensors,
  FasterKAN,
  FastKAN,
  kan,
  KanError,
  LBFGS,
  Linear,
  loadSafetensors,
  readSafetensors,
  ReLUKAN,
  saveSafetensors,
  Sequential,
  SGD,
  Tensor,
} from "../mod.ts";
import { bsplineReference } from "../src/basis/bspline.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "./assert.ts";
import { testGpu } from "./helpers.ts";

const gpu = await testGpu();

Deno.test("bad input: a wrong input width names both widths", () => {
  const layer = new BSplineKAN(gpu, 3, 2);
  const x = Tensor.from(gpu, [1, 2, 3, 4], [2, 2]);
  const e = assertThrows(() => layer.forward(x), KanError);
  assert(e.message.includes("[B, 3]") && e.message.includes("[2, 2]"), e.message);
  const flat = Tensor.from(gpu, [1, 2, 3], [3]);
  assertThrows(() => layer.forward(flat), /expected input of shape \[B, 3\]/);
  const model = kan(gpu, [2, 4, 1], { basis: "relu" });
  const wide = Tensor.from(gpu, [1, 2, 3], [1, 3]);
  assertThrows(() => model.forward(wide), /ReLUKAN\.forward: expected input of shape \[B, 2\]/);
  for (const t of [x, flat, wide]) t.dispose();
  layer.dispose();
  model.dispose();
});

Deno.test("bad input: NaN or infinite inputs are named with their position", () => {
  const layer = new FastKAN(gpu, 3, 2);
  const nan = Tensor.from(gpu, [0, 1, 2, 3, Number.NaN, 5], [2, 3]);
  assertThrows(() => layer.forward(nan), /non-finite value at flat index 4 \(\[1, 1\]\)/);
  const inf = Tensor.from(gpu, [Infinity, 1, 2], [1, 3]);
  const linear = new Linear(gpu, 3, 1);
  assertThrows(() => linear.forward(inf), /non-finite value at flat index 0 \(\[0, 0\]\)/);
  linear.dispose();
  const disposed = Tensor.from(gpu, [1, 2, 3], [1, 3]);
  disposed.dispose();
  assertThrows(() => layer.forward(disposed), /disposed/);
  nan.dispose();
  inf.dispose();
  layer.dispose();
});

Deno.test("bad input: unknown options and invalid option values name the option", () => {
  assertThrows(() => new BSplineKAN(gpu, 2, 2, { gridsize: 5 } as never), /unknown option "gridsize"/);
  assertThrows(() => new FastKAN(gpu, 2, 2, { num_grids: 8 } as never), /unknown option "num_grids"/);
  assertThrows(
    () => new FasterKAN(gpu, 2, 2, { inv_denominator: 1 } as never),
    /unknown option "inv_denominator"/,
  );
  assertThrows(() => new ReLUKAN(gpu, 2, 2, { G: 5 } as never), /unknown option "G"/);
  assertThrows(() => new Linear(gpu, 2, 2, { activation: "gelu" } as never), /"activation" must be one of/);
  assertThrows(
    () => new BSplineKAN(gpu, 2, 2, { splineOrder: 9 }),
    /option "splineOrder" must be an integer in 0\.\.7, got 9/,
  );
  assertThrows(() => new BSplineKAN(gpu, 2, 2, { gridRange: [1, -1] }), /"gridRange"/);
  assertThrows(() => new BSplineKAN(gpu, 0, 2), /inFeatures must be an integer >= 1, got 0/);
  assertThrows(() => kan(gpu, [2, 1], { basis: "spline" as never }), /option "basis" must be one of/);
  assertThrows(
    () => kan(gpu, [2, 1], { basis: "relu", gridSize: 5 } as never),
    /option "gridSize" belongs to basis "bspline", not "relu"/,
  );
});

Deno.test("bad input: a LayerNorm over one feature is refused instead of outputting zeros", () => {
  assertThrows(() => new FastKAN(gpu, 1, 3), /LayerNorm over 1 feature outputs zeros/);
  assertThrows(() => new FasterKAN(gpu, 1, 3), /LayerNorm over 1 feature/);
  new FastKAN(gpu, 1, 3, { useLayerNorm: false }).dispose();
});

Deno.test("bad input: state dicts with a missing, extra, misshaped or non-finite entry", async () => {
  const model = new Sequential([new BSplineKAN(gpu, 2, 3), new Linear(gpu, 3, 1)]);
  const good = await model.stateDict();
  const without = { ...good };
  delete without["layers.0.spline_scaler"];
  assertThrows(() => model.loadStateDict(without), /missing entry "layers\.0\.spline_scaler"/);
  assertThrows(
    () => model.loadStateDict({ ...good, "layers.1.extra": { shape: [1], data: new Float32Array(1) } }),
    /unexpected entry "layers\.1\.extra"/,
  );
  const misshaped = { ...good, "layers.0.spline_weight": { shape: [3, 2, 7], data: new Float32Array(42) } };
  assertThrows(
    () => model.loadStateDict(misshaped),
    /"layers\.0\.spline_weight" has shape \[3, 2, 7\], expected \[3, 2, 8\]/,
  );
  const short = { ...good, "layers.1.bias": { shape: [1], data: new Float32Array(0) } };
  assertThrows(() => model.loadStateDict(short), /"layers\.1\.bias" has 0 values, expected 1/);
  const nan = { ...good, "layers.1.weight": { shape: [1, 3], data: Float32Array.of(1, Number.NaN, 2) } };
  assertThrows(
    () => model.loadStateDict(nan),
    /"layers\.1\.weight" holds a non-finite value \(NaN\) at index 1/,
  );
  // A refused load writes nothing.
  assertEquals(await model.stateDict(), good);
  model.dispose();

  // A module's own check refuses before writing too: FasterKAN's inv_denominator must be positive.
  const faster = new Sequential([new Linear(gpu, 3, 2), new FasterKAN(gpu, 2, 1)]);
  const state = await faster.stateDict();
  const zeroed = Object.fromEntries(
    Object.entries(state).map(([k, e]) => [k, { ...e, data: e.data.map(() => 0) }]),
  );
  zeroed["layers.1.rbf.inv_denominator"] = { shape: [], data: Float32Array.of(-1) };
  assertThrows(
    () => faster.loadStateDict(zeroed),
    /"layers\.1\.rbf\.inv_denominator" must be a number > 0 .*, got -1/,
  );
  assertEquals(await faster.stateDict(), state);
  faster.dispose();
});

Deno.test("bad input: optimizer options out of range name the option and the value", () => {
  for (
    const [make, message] of [
      [() => new SGD({ lr: 0 }), /SGD: option "lr" must be a number > 0.*, got 0/],
      [() => new SGD(undefined as never), /SGD: option "lr" must be a number > 0.*, got undefined/],
      [() => new SGD({ lr: 0.1, momentum: 1 }), /option "momentum" must be a number in \[0, 1\), got 1/],
      [
        () => new SGD({ lr: 0.1, dampening: 1.5 }),
        /option "dampening" must be a number in \[0, 1\], got 1.5/,
      ],
      [() => new SGD({ lr: 0.1, weightDecay: -1 }), /option "weightDecay" must be a number >= 0, got -1/],
      [
        () => new SGD({ lr: 0.1, nesterov: "yes" as never }),
        /option "nesterov" must be true or false, got "yes"/,
      ],
      [() => new SGD({ lr: 0.1, nesterov: true }), /Nesterov momentum requires a momentum > 0/],
      [
        () => new Adam({ betas: [0.9, 1] }),
        /Adam: option "betas" must be \[a, b\] with each a number in \[0, 1\)/,
      ],
      [() => new AdamW({ eps: 0 }), /AdamW: option "eps" must be a number > 0/],
      [() => new Adam({ lr: 1e39 }), /option "lr" must be a number > 0.*, got 1e\+39/],
      [() => new Adam({ amsgrad: true } as never), /Adam: unknown option "amsgrad"/],
      [() => new LBFGS({ maxIter: 1.5 }), /LBFGS: option "maxIter" must be an integer >= 1, got 1.5/],
      [() => new LBFGS({ historySize: 0 }), /option "historySize" must be an integer >= 1, got 0/],
      [() => new LBFGS({ toleranceGrad: -1 }), /option "toleranceGrad" must be a number >= 0, got -1/],
      [
        () => new LBFGS({ lineSearch: "armijo" as never }),
        /option "lineSearch" must be one of strong_wolfe, null/,
      ],
    ] as const
  ) {
    const e = assertThrows(make, KanError);
    assert(message.test(e.message), e.message);
  }
  // Valid edge values are accepted.
  assertEquals(new SGD({ lr: 0.1, momentum: 0, dampening: 1 }).options.dampening, 1);
  assertEquals(new LBFGS({ lineSearch: null, toleranceGrad: 0 }).settings.lineSearch, null);
});

Deno.test("bad input: layer and kan() options of the wrong type or range, or of another basis", () => {
  const linear = new Linear(gpu, 2, 2);
  const live = gpu.stats().liveBuffers;
  for (
    const [make, message] of [
      [
        () => new Linear(gpu, 2, 2, { bias: 0 as never }),
        /Linear: option "bias" must be true or false, got 0/,
      ],
      [() => new ReLUKAN(gpu, 2, 2, { k: -1 }), /ReLUKAN: option "k" must be an integer >= 0, got -1/],
      [
        () => new FastKAN(gpu, 2, 2, { numGrids: 1 }),
        /option "denominator" \(default .*\) must be .*, got Infinity/,
      ],
      [
        () => new FastKAN(gpu, 2, 2, { gridMin: 3 }),
        /option "gridMin" \(3\) must be less than "gridMax" \(2\)/,
      ],
      [
        () => new FasterKAN(gpu, 2, 2, { invDenominator: 1e-40 }),
        /option "invDenominator" must be a number > 0/,
      ],
      [() => new BSplineKAN(gpu, 2, 2, { gridRange: [-3e38, 3e38] }), /puts knots beyond float32's range/],
      [() => new BSplineKAN(gpu, 2, 2, { gridRange: [0, 1e-39] }), /must be strictly increasing/],
      [() => new BSplineKAN(gpu, 2, 2, { seed: 1.5 }), /option "seed" must be a finite integer, got 1.5/],
      [
        () => new BSplineKAN(null as never, 2, 2),
        /BSplineKAN: gpu must be a Gpu from Gpu.request\(\), got null/,
      ],
      [() => new Linear(gpu, 2, 2, [] as never), /Linear: options must be a plain object, got \[\]/],
      [() => kan(gpu, [2, 0, 1], { basis: "mlp" }), /kan: widths must be .*, got \[2, 0, 1\]/],
      [
        () => kan(gpu, [2, 1], { basis: "fast", g: 5 } as never),
        /option "g" belongs to basis "relu", not "fast"/,
      ],
      [
        () => kan(gpu, [2, 1], { basis: "mlp", activation: "gelu" } as never),
        /kan: option "activation" must be/,
      ],
      [() => new Sequential([linear, "layer" as never]), /Sequential: layers must be/],
    ] as const
  ) {
    const e = assertThrows(make, KanError);
    assert(message.test(e.message), e.message);
  }
  assertEquals(gpu.stats().liveBuffers, live, "refused constructors allocate nothing");
  linear.dispose();
});

Deno.test("bad input: a layer too large for the device is refused in its constructor, naming the tensor and the limit", () => {
  const limit = gpu.device.limits.maxStorageBufferBindingSize;
  const live = gpu.stats().liveBuffers;
  const wide = Math.ceil(limit / 4 / 2) + 1;
  const e = assertThrows(() => new Linear(gpu, wide, 2), KanError);
  assert(
    e.message.includes(`Linear: parameter "weight" [2, ${wide}]`) &&
      e.message.includes(`maxStorageBufferBindingSize (${limit} bytes)`),
    e.message,
  );
  assertThrows(
    () => new BSplineKAN(gpu, 4, 4, { gridSize: limit }),
    /parameter "grid" .*maxStorageBufferBindingSize/,
  );
  assertThrows(() => new ReLUKAN(gpu, wide, 1), /ReLUKAN: parameter "phase_low and phase_height"/);
  assertEquals(gpu.stats().liveBuffers, live);
});

Deno.test("bad input: extreme but valid options construct quickly (banded least squares, bounded truncated normal)", async () => {
  // efficient-kan's noise fit over 20,000 intervals: the spline interpolates noise of size scaleNoise / (2 G).
  const g = 20000;
  const layer = new BSplineKAN(gpu, 1, 2, { gridSize: g });
  const s = await layer.stateDict();
  let worst = 0;
  for (const p of [0, 1, 7777, g]) {
    const x = s.grid.data[3 + p];
    for (let o = 0; o < 2; o++) {
      let v = 0;
      for (let j = p; j <= Math.min(p + 3, g + 2); j++) {
        v += s.spline_weight.data[o * (g + 3) + j] * bsplineReference(s.grid.data, 0, 3, j, x)[0];
      }
      worst = Math.max(worst, Math.abs(v));
    }
  }
  assert(worst <= 0.1 / g / 2 * 1.01 && worst > 0, `spline values at grid points reach ${worst}`);
  layer.dispose();
  // A huge std: torch's trunc_normal_ on [-2, 2] is then almost uniform there.
  const fast = new FastKAN(gpu, 2, 64, { splineWeightInitScale: 1e30 });
  const w = (await fast.stateDict())["spline_linear.weight"].data;
  assert(
    w.every((v) => Math.abs(v) <= 2) && Math.max(...w) > 1.8 && Math.min(...w) < -1.8,
    "uniform on [-2, 2]",
  );
  fast.dispose();
});

Deno.test("bad input: state dicts beyond float32, with non-increasing knots or strings are refused before writing", async () => {
  const model = new Sequential([new BSplineKAN(gpu, 2, 2), new ReLUKAN(gpu, 2, 1)]);
  const good = await model.stateDict();
  const huge = { ...good, "layers.0.spline_scaler": { shape: [2, 2], data: Float64Array.of(1, 2, 1e39, 3) } };
  assertThrows(
    () => model.loadStateDict(huge as never),
    /"layers\.0\.spline_scaler" holds 1e\+39, beyond float32's range .* at index 2/,
  );
  const strings = { ...good, "layers.1.equal_size_conv.bias": { shape: [1], data: ["0.5"] } };
  assertThrows(() => model.loadStateDict(strings as never), /holds "0.5", not a number, at index 0/);
  const grid = Float32Array.from(good["layers.0.grid"].data);
  grid[12 + 5] = grid[12 + 4];
  assertThrows(
    () => model.loadStateDict({ ...good, "layers.0.grid": { shape: [2, 12], data: grid } }),
    /"layers\.0\.grid" row 1 must be strictly increasing .* knot 4 is -0\.6.* knot 5 is -0\.6/,
  );
  const tiny = Float32Array.from(good["layers.0.grid"].data);
  tiny[1] = tiny[0] + 1e-40;
  assertThrows(
    () => model.loadStateDict({ ...good, "layers.0.grid": { shape: [2, 12], data: tiny } }),
    /row 0/,
  );
  assertEquals(await model.stateDict(), good);
  // A ReLU-KAN bump with phase_height <= phase_low is zero everywhere, in torch too: it loads.
  const phases = Float32Array.from(good["layers.1.phase_height"].data);
  phases[0] = good["layers.1.phase_low"].data[0] - 1;
  model.loadStateDict({ ...good, "layers.1.phase_height": { shape: [2, 8], data: phases } });
  assertEquals((await model.stateDict())["layers.1.phase_height"].data, phases);
  model.dispose();
});

Deno.test("bad input: trace(x).backward(dy) checks dy and records nothing when it refuses", async () => {
  const model = kan(gpu, [2, 3, 1], { basis: "fast" });
  const x = Tensor.from(gpu, [0.1, 0.2, 0.3, -0.4], [2, 2]);
  const trace = model.trace(x);
  await model.gradDict();
  const grads = await model.gradDict();
  const disposed = Tensor.zeros(gpu, [2, 1]);
  disposed.dispose();
  for (
    const [dy, inputGrad, message] of [
      [Tensor.zeros(gpu, [2, 2]), false, /dy has shape \[2, 2\], expected the output's \[2, 1\]/],
      [disposed, false, /dy \(shape \[2, 1\]\) was disposed/],
      [Tensor.from(gpu, [1, Number.NaN], [2, 1]), false, /dy holds a non-finite value at flat index 1/],
      ["dy", false, /dy must be a Tensor, got "dy"/],
      [Tensor.zeros(gpu, [2, 1]), "yes", /inputGrad must be true or false, got "yes"/],
    ] as const
  ) {
    assertThrows(() => trace.backward(dy as Tensor, inputGrad as boolean), message);
    if (dy instanceof Tensor) dy.dispose();
  }
  assertEquals(await model.gradDict(), grads);
  const dy = Tensor.from(gpu, [1, -1], [2, 1]);
  const dx = trace.backward(dy, true)!;
  assertEquals([...dx.shape], [2, 2]);
  trace.release();
  assertThrows(() => trace.backward(dy, false), /the trace was released/);
  for (const t of [dx, dy, x, trace.y]) t.dispose();
  model.dispose();
});

Deno.test("bad input: fit({ signal }) stops before the next step with finite weights; the user's onProgress error propagates", async () => {
  const model = kan(gpu, [2, 4, 1], { basis: "mlp" });
  const x = Tensor.from(gpu, [0.1, 0.2, 0.3, -0.4, 0.5, -0.6], [3, 2]);
  const y = Tensor.from(gpu, [1, 0, -1], [3, 1]);
  const before = await model.stateDict();
  const optimizer = new Adam({ lr: 1e-2 });
  const base = { x, y, loss: "mse" as const, optimizer, progress: "none" as const };

  const stopped = new AbortController();
  const reason = new Error("stop now");
  stopped.abort(reason);
  const refused = await assertRejects(
    () => model.fit({ ...base, steps: 5, signal: stopped.signal }),
    KanError,
  );
  assert(refused.message.includes("aborted before step 1 of 5") && refused.cause === reason, refused.message);
  assertEquals(await model.stateDict(), before);
  await assertRejects(
    () => model.fit({ ...base, steps: 5, signal: "stop" as never }),
    /"signal" must be an AbortSignal/,
  );

  // A run of many steps with no readback: a timer aborts it, and it stops at a step boundary.
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 300);
  const started = performance.now();
  const e = await assertRejects(
    () => model.fit({ ...base, steps: 5000, logEvery: 1e9, signal: controller.signal }),
    KanError,
  );
  clearTimeout(timer);
  const step = Number(/aborted before step (\d+) of 5000/.exec(e.message)?.[1]);
  console.log(`  aborted before step ${step} after ${(performance.now() - started).toFixed(0)} ms`);
  assert(step > 1 && step < 5000, e.message);
  assert(e.cause instanceof DOMException && e.cause.name === "AbortError", `cause ${e.cause}`);
  const after = await model.stateDict();
  assert(Object.values(after).every((v) => v.data.every(Number.isFinite)), "finite weights after the abort");
  assert(after["layers.0.weight"].data.some((v, i) => v !== before["layers.0.weight"].data[i]), "it trained");

  const mine = new Error("mine");
  const thrown = await assertRejects(() =>
    model.fit({
      ...base,
      steps: 2,
      onProgress: () => {
        throw mine;
      },
    }), Error);
  assert(thrown === mine, "the user's exception propagates unchanged");
  await assertRejects(
    () => model.fit({ ...base, steps: 1, freeze: ["weight", "bias"] }),
    /option "freeze" \["weight", "bias"\] leaves no parameter to train/,
  );
  await assertRejects(
    () => model.fit({ ...base, steps: 1, freeze: "weight" as never }),
    /"freeze" must be an array of strings/,
  );
  await assertRejects(
    () => model.fit({ ...base, steps: 1, shuffle: 1 as never }),
    /"shuffle" must be true or false, got 1/,
  );
  await assertRejects(
    () => model.fit({ ...base, steps: 1, progress: "fancy" as never }),
    /"progress" must be one of auto/,
  );
  optimizer.dispose();
  for (const t of [x, y]) t.dispose();
  model.dispose();
});

Deno.test("bad input: Symbols and BigInts in state dicts, format options and safetensors arguments are KanErrors", async () => {
  const model = new Sequential([new BSplineKAN(gpu, 2, 3), new BSplineKAN(gpu, 3, 1)]);
  const own = await model.stateDict();
  const ek = await model.stateDict({ to: "efficient-kan" });
  const grid = own["layers.0.grid"];
  const sym = Symbol("s");
  /** Why `call` is not refused with a KanError matching `pattern`, or null. */
  const wrong = async (call: () => unknown, pattern: RegExp): Promise<string | null> => {
    try {
      await call();
    } catch (e) {
      if (e instanceof KanError && pattern.test(e.message)) return null;
      return `${pattern}: got ${e instanceof Error ? `${e.constructor.name}: ${e.message}` : String(e)}`;
    }
    return `${pattern}: nothing was thrown`;
  };
  const cases: [() => unknown, RegExp][] = [
    [
      () => model.loadStateDict(own, sym as never),
      /loadStateDict: options must be an object .*, got Symbol\(s\)/,
    ],
    [() => model.stateDict(sym as never), /stateDict: options must be an object .*, got Symbol\(s\)/],
    [() => model.stateDict(10n as never), /stateDict: options must be an object .*, got 10n/],
    [
      () => model.loadStateDict(own, { from: sym as never }),
      /option "from" must be one of .*, got Symbol\(s\)/,
    ],
    [
      () => model.loadStateDict(sym as never, { from: "pykan" }),
      /\{ from: "pykan" \}\): expected a state dict .*, got Symbol\(s\)/,
    ],
    [
      () =>
        model.loadStateDict({ ...ek, "layers.0.grid": { shape: [sym], data: grid.data } } as never, {
          from: "efficient-kan",
        }),
      /entry "layers\.0\.grid" has shape \[Symbol\(s\)\], expected \[2, 12\]/,
    ],
    [
      () =>
        model.loadStateDict({ ...ek, "layers.0.grid": { shape: [2, 12], data: sym } } as never, {
          from: "efficient-kan",
        }),
      /entry "layers\.0\.grid" has data Symbol\(s\), expected 24 numbers/,
    ],
    [
      () =>
        model.loadStateDict({ ...ek, "layers.0.grid": { shape: [2, 12], data: { length: sym } } } as never, {
          from: "efficient-kan",
        }),
      /entry "layers\.0\.grid" has Symbol\(s\) values, expected 24/,
    ],
    [
      () =>
        model.loadStateDict({
          ...ek,
          "layers.0.spline_scaler": { shape: [3, 2], data: [1, 2, 3, 4, 5, sym] },
        } as never, { from: "efficient-kan" }),
      /entry "layers\.0\.spline_scaler" holds Symbol\(s\), not a number, at index 5/,
    ],
    [
      () => model.loadStateDict({ ...own, "layers.0.grid": { shape: [sym, 1n], data: grid.data } } as never),
      /loadStateDict: entry "layers\.0\.grid" has shape \[Symbol\(s\), 1n\], expected \[2, 12\]/,
    ],
    [() => encodeSafetensors(sym as never), /encodeSafetensors: dict must be an object .*, got Symbol\(s\)/],
    [() => encodeSafetensors({ a: sym } as never), /entry "a" must be \{shape, data\}, got Symbol\(s\)/],
    [() => encodeSafetensors({}, sym as never), /metadata must be an object of strings, got Symbol\(s\)/],
    [
      () => encodeSafetensors({ a: { shape: [1n], data: new Float32Array(1) } } as never),
      /entry "a" has shape \[1n\], expected an array of non-negative integers/,
    ],
    [
      () => encodeSafetensors({ a: { shape: [sym], data: new Float32Array(1) } } as never),
      /entry "a" has shape \[Symbol\(s\)\], expected/,
    ],
    [() => saveSafetensors(1n as never, {}), /saveSafetensors: path must be a non-empty string, got 1n/],
    [() => saveSafetensors(sym as never, {}), /saveSafetensors: path must be a non-empty string, got Symbol/],
    [() => saveSafetensors("unused.safetensors", sym as never), /dict must be an object .*, got Symbol\(s\)/],
    [() => loadSafetensors(1n as never), /loadSafetensors: path must be a non-empty string, got 1n/],
    [() => readSafetensors(sym as never), /loadSafetensors: path must be a non-empty string, got Symbol/],
  ];
  const failures: string[] = [];
  for (const [call, pattern] of cases) {
    const why = await wrong(call, pattern);
    if (why !== null) failures.push(why);
  }
  assertEquals(failures, []);
  assertEquals(await model.stateDict(), own);
  model.dispose();
});

Deno.test("bad input teardown", () => {
  assertEquals(gpu.stats().liveBuffers, 0);
  gpu.destroy();
});
