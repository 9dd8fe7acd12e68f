/**
 * Checkpoints that resume exactly: for every optimizer (SGD with momentum and
 * Nesterov, SGD with dampening and weight decay, Adam, AdamW, LBFGS) on a
 * B-spline KAN, a ReLU-KAN and an MLP, `fit` 10 steps, `saveCheckpoint`, load
 * into a new model (another seed) and a new optimizer, `fit` 10 more: the
 * weights equal those of 20 steps straight, bit for bit (same kernels on the
 * same values in the same order: nothing may differ). Also across the fused
 * and the layer-by-layer step, with a frozen parameter, every member of the
 * family with a schedule, clipping, validation and minibatches, and every
 * refusal leaving model and optimizer as they were.
 */

import {
  Adam,
  AdamW,
  type ClosureOptimizer,
  type GpuOptimizer,
  kan,
  LBFGS,
  loadSafetensors,
  saveSafetensors,
  type Sequential,
  SGD,
  type StateDict,
  Tensor,
} from "../mod.ts";
import { KanError } from "../src/errors.ts";
import { loadCheckpoint, saveCheckpoint } from "../src/io/checkpoint.ts";
import { decodeCheckpoint, encodeCheckpoint, OPTIMIZER_PREFIX } from "../src/io/checkpoint_codec.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "./assert.ts";
import { seededUniform, testGpu } from "./helpers.ts";
import { MEMBERS } from "../src/layers/members.ts";

const gpu = await testGpu();
const dir = await Deno.makeTempDir({ prefix: "kan-checkpoint-test-" });

type Optimizer = GpuOptimizer | ClosureOptimizer;
type Basis = (typeof MEMBERS)[number]["basis"];

const OPTIMIZERS: Record<string, () => Optimizer> = {
  "SGD nesterov": () => new SGD({ lr: 0.05, momentum: 0.9, nesterov: true }),
  "SGD dampening": () => new SGD({ lr: 0.05, momentum: 0.8, dampening: 0.3, weightDecay: 1e-3 }),
  Adam: () => new Adam({ lr: 1e-2 }),
  AdamW: () => new AdamW({ lr: 1e-2, weightDecay: 0.1 }),
  LBFGS: () => new LBFGS({ maxIter: 3, historySize: 4 }),
};

const rand = seededUniform(5);
const N = 24;
const xs = Array.from({ length: N * 2 }, () => rand() * 2 - 1);
const ys = Array.from({ length: N }, (_, i) => Math.sin(2 * xs[2 * i]) * xs[2 * i + 1]);
const x = Tensor.from(gpu, xs, [N, 2]);
const y = Tensor.from(gpu, ys, [N, 1]);

function model(basis: Basis, seed: number): Sequential {
  return kan(gpu, [2, 3, 1], { basis, seed });
}

async function fit(m: Sequential, optimizer: Optimizer, steps: number, extra: Record<string, unknown> = {}) {
  await m.fit({ x, y, loss: "mse", optimizer, steps, progress: "none", ...extra });
}

/** Keys equal, shapes equal, data equal bit for bit (NaN payloads aside); returns the differing keys. */
function differences(a: StateDict, b: StateDict): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  const out: string[] = [];
  for (const k of keys) {
    const [ea, eb] = [a[k], b[k]];
    if (!ea || !eb || ea.shape.join() !== eb.shape.join() || ea.data.length !== eb.data.length) {
      out.push(k);
      continue;
    }
    for (let i = 0; i < ea.data.length; i++) {
      if (!Object.is(ea.data[i], eb.data[i])) {
        out.push(`${k}[${i}]: ${ea.data[i]} vs ${eb.data[i]}`);
        break;
      }
    }
  }
  return out;
}

function assertSameDict(label: string, a: StateDict, b: StateDict): void {
  const diff = differences(a, b);
  assert(diff.length === 0, `${label}: ${diff.length} entries differ: ${diff.slice(0, 4).join("; ")}`);
}

/** 20 steps straight against 10, a checkpoint, 10 in a new model and optimizer. */
async function resumeCase(basis: Basis, name: string, extra: Record<string, unknown> = {}): Promise<void> {
  const straight = model(basis, 1);
  const o1 = OPTIMIZERS[name]();
  await fit(straight, o1, 20, extra);
  const expected = await straight.stateDict();

  const first = model(basis, 1);
  const o2 = OPTIMIZERS[name]();
  await fit(first, o2, 10, extra);
  const path = `${dir}/${basis}-${name.replace(" ", "_")}.safetensors`;
  await saveCheckpoint(path, { model: first, optimizer: o2, step: 10, metadata: { basis } });

  const resumed = model(basis, 7);
  const o3 = OPTIMIZERS[name]();
  const before = await resumed.stateDict();
  assert(differences(before, expected).length > 0, "the new model starts elsewhere");
  const { step, metadata } = await loadCheckpoint(path, { model: resumed, optimizer: o3 });
  assertEquals(step, 10);
  assertEquals(metadata, { basis });
  await fit(resumed, o3, 10, extra);
  const got = await resumed.stateDict();
  assertSameDict(`${basis} ${name}`, got, expected);
  // The optimizers went on identically too.
  assertSameDict(`${basis} ${name} optimizer state`, await o3.stateDict(), await o1.stateDict());
  // And the run moved: 10 more steps changed the weights.
  const atTen = await first.stateDict();
  assert(differences(atTen, expected).length > 0, "steps 11..20 changed the weights");
  for (const m of [straight, first, resumed]) m.dispose();
  for (const o of [o1, o2, o3]) o.dispose();
}

for (const basis of ["bspline", "relu", "mlp"] as const) {
  Deno.test(`checkpoint: ${basis}, every optimizer, 10 + checkpoint + 10 = 20 steps exactly`, async () => {
    for (const name of Object.keys(OPTIMIZERS)) await resumeCase(basis, name);
  });
}

Deno.test("checkpoint: a frozen parameter (fit's freeze) resumes exactly", async () => {
  for (const name of ["Adam", "SGD nesterov", "LBFGS"]) {
    await resumeCase("bspline", name, { freeze: ["spline_scaler"] });
  }
});

Deno.test("checkpoint: shuffled minibatches with a schedule resume exactly with fit's startStep", async () => {
  // 24 rows in batches of 5: 5 steps per epoch, so step 10 is mid-run and 13 cuts an epoch.
  const schedule = (step: number, baseLr: number) => baseLr * 0.95 ** step;
  const extra = { batchSize: 5, shuffle: true, seed: 3, schedule };
  for (const name of ["Adam", "SGD nesterov"]) {
    for (const cut of [10, 13]) {
      const straight = model("fast", 1);
      const o1 = OPTIMIZERS[name]();
      await fit(straight, o1, 20, extra);
      const first = model("fast", 1);
      const o2 = OPTIMIZERS[name]();
      await fit(first, o2, cut, extra);
      const path = `${dir}/minibatch.safetensors`;
      await saveCheckpoint(path, { model: first, optimizer: o2, step: cut });
      const resumed = model("fast", 4);
      const o3 = OPTIMIZERS[name]();
      const { step } = await loadCheckpoint(path, { model: resumed, optimizer: o3 });
      await fit(resumed, o3, 20 - cut, { ...extra, startStep: step });
      assertSameDict(`fast ${name}, cut at ${cut}`, await resumed.stateDict(), await straight.stateDict());
      assertEquals(o3.lr, o1.lr);
      for (const m of [straight, first, resumed]) m.dispose();
      for (const o of [o1, o2, o3]) o.dispose();
    }
  }
});

Deno.test("every member: schedule, clipping, validation and minibatches resume exactly; predict; summary", async () => {
  // The training loop's features on every member of the family, through a checkpoint cut mid-epoch.
  const schedule = (step: number, baseLr: number) => baseLr * 0.9 ** step;
  const validation = { x, y };
  const extra = { batchSize: 8, seed: 2, schedule, clipGradNorm: 0.05, validation, validateEvery: 4 };
  for (const { basis } of MEMBERS) {
    const straight = model(basis, 1);
    const o1 = new Adam({ lr: 1e-2 });
    const history = await straight.fit({
      x,
      y,
      loss: "mse",
      optimizer: o1,
      steps: 12,
      progress: "none",
      ...extra,
    });
    assertEquals(history.validationStep, [4, 8, 12], basis);
    assert(history.validationLoss.every(Number.isFinite), `${basis}: ${history.validationLoss}`);
    const first = model(basis, 1);
    const o2 = new Adam({ lr: 1e-2 });
    await first.fit({ x, y, loss: "mse", optimizer: o2, steps: 5, progress: "none", ...extra });
    const path = `${dir}/member-${basis}.safetensors`;
    await saveCheckpoint(path, { model: first, optimizer: o2, step: 5 });
    const resumed = model(basis, 9);
    const o3 = new Adam({ lr: 1e-2 });
    const { step } = await loadCheckpoint(path, { model: resumed, optimizer: o3 });
    await resumed.fit({
      x,
      y,
      loss: "mse",
      optimizer: o3,
      steps: 7,
      startStep: step,
      progress: "none",
      ...extra,
    });
    const expected = await straight.stateDict();
    assertSameDict(`${basis}: 5 + checkpoint + 7 = 12`, await resumed.stateDict(), expected);
    assert(
      differences(await first.stateDict(), expected).length > 0,
      `${basis}: steps 6..12 moved the weights`,
    );
    assertEquals(o3.lr, o1.lr, basis);
    const rows = [[0.25, -0.5], [-0.75, 0.1]];
    const predicted = await resumed.predict(rows);
    const input = Tensor.from(gpu, rows.flat(), [2, 2]);
    const output = resumed.forward(input);
    assertEquals(predicted.flat(), [...await output.read()], basis);
    input.dispose();
    output.dispose();
    const table = resumed.summary().split("\n");
    assertEquals(table.length, 4, `${basis}: header, two layers, total`);
    assert(table[1].includes(resumed.layers[0].kind), `${basis}: ${table[1]}`);
    assertEquals(
      resumed.parameterCount().total,
      Object.values(expected).reduce((sum, e) => sum + e.data.length, 0),
      basis,
    );
    for (const m of [straight, first, resumed]) m.dispose();
    for (const o of [o1, o2, o3]) o.dispose();
  }
});

Deno.test("checkpoint: state carries across the fused and the layer-by-layer step", async () => {
  for (const name of ["Adam", "SGD nesterov"]) {
    // In one process: 10 fused steps, then 10 layer by layer, on the same objects.
    const straight = model("bspline", 1);
    const o1 = OPTIMIZERS[name]();
    await fit(straight, o1, 10, { fused: true });
    await fit(straight, o1, 10, { fused: false });
    const expected = await straight.stateDict();
    // The same with a checkpoint between them.
    const first = model("bspline", 1);
    const o2 = OPTIMIZERS[name]();
    await fit(first, o2, 10, { fused: true });
    const path = `${dir}/paths-${name.replace(" ", "_")}.safetensors`;
    await saveCheckpoint(path, { model: first, optimizer: o2, step: 10 });
    const resumed = model("bspline", 3);
    const o3 = OPTIMIZERS[name]();
    await loadCheckpoint(path, { model: resumed, optimizer: o3 });
    await fit(resumed, o3, 10, { fused: false });
    assertSameDict(`fused then layer-by-layer, ${name}`, await resumed.stateDict(), expected);
    // The two paths round differently, so the run does depend on which one ran.
    const other = model("bspline", 1);
    const o4 = OPTIMIZERS[name]();
    await fit(other, o4, 20, { fused: false });
    const unfused = await other.stateDict();
    console.log(
      `  ${name}: fused+unfused vs unfused differ in ${differences(unfused, expected).length} entries`,
    );
    for (const m of [straight, first, resumed, other]) m.dispose();
    for (const o of [o1, o2, o3, o4]) o.dispose();
  }
});

Deno.test("optimizer state dicts: LBFGS keeps every float64 bit", async () => {
  const m = model("mlp", 2);
  const o = new LBFGS({ maxIter: 3, historySize: 4 });
  await fit(m, o, 4);
  const dict = await o.stateDict();
  assert(dict["state.old_dirs"].shape[0] >= 1, "the history holds pairs");
  // Round trip through a file, then compare the decoded state with the original one value by value.
  const path = `${dir}/lbfgs.safetensors`;
  await saveSafetensors(path, dict);
  const again = new LBFGS({ maxIter: 3, historySize: 4 });
  again.loadStateDict(await loadSafetensors(path));
  assertSameDict("LBFGS state after a file round trip", await again.stateDict(), dict);
  // The encoding holds values float32 cannot.
  const { float64Entry, StateDictReader } = await import("../src/io/checkpoint_entries.ts");
  const values = [Math.PI, 1e300, -5e-324, -0, Number.NaN, -Infinity, 1 / 3, 2 ** 53 - 1];
  const read = new StateDictReader("test", { v: float64Entry(values, [values.length]) }).float64(
    "v",
    [-1],
    false,
  );
  values.forEach((v, i) => assert(Object.is(read.data[i], v), `value ${i}: ${read.data[i]} vs ${v}`));
  m.dispose();
  o.dispose();
});

Deno.test("optimizer state dicts: a fresh optimizer's dict loads; lr is restored; step counts are exact", async () => {
  const fresh = new Adam({ lr: 1e-2 });
  const again = new Adam({ lr: 1e-2 });
  again.loadStateDict(await fresh.stateDict());
  const sgd = new SGD({ lr: 0.1, momentum: 0.9 });
  sgd.lr = 0.0375;
  const sgd2 = new SGD({ lr: 0.1, momentum: 0.9 });
  sgd2.loadStateDict(await sgd.stateDict());
  assertEquals(sgd2.lr, 0.0375);
  assertEquals(sgd2.baseLr, 0.1);
  // A step count beyond float32's integers survives.
  const { countsEntry, StateDictReader } = await import("../src/io/checkpoint_entries.ts");
  const counts = [0, 1, 2 ** 24 + 1, 2 ** 40 + 3];
  assertEquals(new StateDictReader("test", { c: countsEntry(counts) }).counts("c"), counts);
});

/** Every way a dict can fail to fit; each must be refused and leave `target` as it was. */
Deno.test("optimizer state dicts: bad dicts are refused and change nothing", async () => {
  const m = model("bspline", 1);
  const adam = new Adam({ lr: 1e-2 });
  await fit(m, adam, 3);
  const good = await adam.stateDict();
  const target = new Adam({ lr: 1e-2 });
  const m2 = model("bspline", 2);
  await fit(m2, target, 2);
  const targetBefore = await target.stateDict();
  const withEntry = (key: string, entry: unknown) => ({ ...good, [key]: entry }) as StateDict;
  const without = (key: string) => Object.fromEntries(Object.entries(good).filter(([k]) => k !== key));
  const exp = Object.keys(good).find((k) => k.endsWith(".exp_avg"))!;
  const sq = exp.replace("exp_avg", "exp_avg_sq");
  const stepKey = exp.replace("exp_avg", "step");
  const cases: [string, unknown, RegExp][] = [
    ["not an object", 42, /expected a state dict/],
    ["missing exp_avg_sq", without(sq), /missing entry/],
    ["missing lr", without("lr"), /missing entry "lr"/],
    ["extra entry", withEntry("state.99.exp_avg", good[exp]), /unexpected entry "state\.99\.exp_avg"/],
    ["misshaped", withEntry(exp, { shape: [1], data: Float32Array.of(1) }), /has 1 values.*expected \d+/],
    ["wrong data length", withEntry(exp, { shape: good[exp].shape, data: Float32Array.of(1) }), /values/],
    ["NaN moment", withEntry(exp, { shape: good[exp].shape, data: good[exp].data.map(() => NaN) }), /NaN/],
    [
      "negative exp_avg_sq",
      withEntry(sq, { shape: good[sq].shape, data: good[sq].data.map(() => -1) }),
      />= 0/,
    ],
    ["step 0", withEntry(stepKey, { shape: [1, 2], data: Float32Array.of(0, 0) }), /at least 1/],
    ["step not an integer", withEntry(stepKey, { shape: [1, 2], data: Float32Array.of(0, 1.5) }), /integer/],
    ["other kind", await new AdamW({ lr: 1e-2 }).stateDict(), /optimizer "AdamW", this optimizer is Adam/],
    ["other settings", await new Adam({ lr: 1e-2, betas: [0.9, 0.99] }).stateDict(), /betas\[1\] = 0\.99/],
    ["lr of 0", withEntry("lr", { shape: [4], data: new Float32Array(4) }), /lr/],
  ];
  for (const [label, dict, pattern] of cases) {
    assertThrows(() => target.loadStateDict(dict as StateDict), pattern);
    const e = assertThrows(() => target.loadStateDict(dict as StateDict), KanError);
    assert(e.message.startsWith("Adam.loadStateDict: "), `${label}: ${e.message}`);
    assertSameDict(`after "${label}"`, await target.stateDict(), targetBefore);
  }
  // Parameters of another model: refused now when given, and at the next step when not.
  const other = kan(gpu, [2, 4, 1], { basis: "bspline" });
  const params = [...other.namedParameters().values()];
  assertThrows(() => target.loadStateDict(good, params), /parameter \d+ has \d+ values, got/);
  assertSameDict("after other parameters", await target.stateDict(), targetBefore);
  const x4 = Tensor.from(gpu, xs, [N, 2]);
  target.loadStateDict(good);
  await assertRejects(
    () => other.fit({ x: x4, y, loss: "mse", optimizer: target, steps: 1, progress: "none" }),
    /Adam\.step: the loaded state's parameter \d+ has/,
  );
  assertSameDict("still pending", await target.stateDict(), good);
  // SGD and LBFGS refuse too.
  const sgdDict = await new SGD({ lr: 0.1, momentum: 0.9 }).stateDict();
  assertThrows(() => new SGD({ lr: 0.1, momentum: 0.5 }).loadStateDict(sgdDict), /momentum = 0\.9/);
  assertThrows(() => new LBFGS().loadStateDict(sgdDict), /optimizer "SGD", this optimizer is LBFGS/);
  const lb = new LBFGS({ maxIter: 3, historySize: 4 });
  await fit(m, lb, 3);
  const lbDict = await lb.stateDict();
  assertThrows(
    () =>
      new LBFGS({ maxIter: 3, historySize: 4 }).loadStateDict({ ...lbDict, "state.d": lbDict["state.ro"] }),
    /state\.(d|prev_flat_grad|old_dirs)/,
  );
  // A state of n trainable values meets fewer (another freeze): refused at the step, nothing moved.
  const lb2 = new LBFGS({ maxIter: 3, historySize: 4 });
  lb2.loadStateDict(lbDict);
  const weights = await m.stateDict();
  await assertRejects(() => fit(m, lb2, 1, { freeze: ["base_weight"] }), /trainable parameters hold/);
  assertSameDict("weights after the refused LBFGS step", await m.stateDict(), weights);
  for (const mm of [m, m2, other]) mm.dispose();
  for (const o of [adam, target, lb, lb2]) o.dispose();
  x4.dispose();
});

Deno.test("checkpoint: bad files are refused and leave model and optimizer as they were", async () => {
  const m = model("relu", 1);
  const o = new Adam({ lr: 1e-2 });
  await fit(m, o, 4);
  const path = `${dir}/good.safetensors`;
  await saveCheckpoint(path, { model: m, optimizer: o, step: 4 });
  const bytes = await Deno.readFile(path);

  const target = model("relu", 9);
  const opt = new Adam({ lr: 1e-2 });
  await fit(target, opt, 2);
  const [modelBefore, optBefore] = [await target.stateDict(), await opt.stateDict()];
  const unchanged = async (label: string) => {
    assertSameDict(`${label}: model`, await target.stateDict(), modelBefore);
    assertSameDict(`${label}: optimizer`, await opt.stateDict(), optBefore);
  };
  const write = async (name: string, data: Uint8Array) => {
    await Deno.writeFile(`${dir}/${name}`, data);
    return `${dir}/${name}`;
  };
  const parts = decodeCheckpoint(bytes);
  const badOptimizer = structuredClone(parts);
  const exp = Object.keys(badOptimizer.optimizer).find((k) => k.endsWith(".exp_avg_sq"))!;
  badOptimizer.optimizer[exp].data.fill(-1);
  const plain = `${dir}/plain.safetensors`;
  await saveSafetensors(plain, await m.stateDict());
  const cases: [string, string, RegExp][] = [
    ["missing file", `${dir}/nope.safetensors`, /loadCheckpoint: .*could not read/],
    ["truncated", await write("truncated.safetensors", bytes.subarray(0, bytes.length - 5)), /not a usable/],
    ["not a checkpoint", plain, /not a checkpoint/],
    ["bad optimizer state", await write("bad-opt.safetensors", encodeCheckpoint(badOptimizer)), />= 0/],
  ];
  for (const [label, file, pattern] of cases) {
    await assertRejects(() => loadCheckpoint(file, { model: target, optimizer: opt }), pattern);
    await unchanged(label);
  }
  // The wrong model (another width) and the wrong optimizer kind.
  const wide = kan(gpu, [2, 5, 1], { basis: "relu" });
  const wideBefore = await wide.stateDict();
  await assertRejects(
    () => loadCheckpoint(path, { model: wide, optimizer: opt }),
    /the model's state: loadStateDict: entry "layers\.0\.[a-z_.]+" has shape/,
  );
  assertSameDict("wide model", await wide.stateDict(), wideBefore);
  await unchanged("wrong model");
  await assertRejects(
    () => loadCheckpoint(path, { model: target, optimizer: new AdamW({ lr: 1e-2 }) }),
    /holds the state of optimizer "Adam", got AdamW/,
  );
  await unchanged("wrong optimizer kind");
  await assertRejects(
    () => loadCheckpoint(path, { model: target, optimizer: new Adam({ lr: 1e-2, eps: 1e-6 }) }),
    /eps = 1e-8, this optimizer has 0\.000001/,
  );
  await unchanged("other optimizer settings");
  // Bad arguments to saveCheckpoint leave the file as it was.
  await assertRejects(
    () => saveCheckpoint(path, { model: m, optimizer: o, step: -1 }),
    /step must be an integer/,
  );
  await assertRejects(
    () => saveCheckpoint(path, { model: m, optimizer: o, step: 1, metadata: { step: "2" } }),
    /metadata key "step" is the checkpoint's own/,
  );
  await assertRejects(
    () => saveCheckpoint(path, { model: m, optimizer: o, step: 1, extra: 1 } as never),
    /unknown option/,
  );
  assertEquals(await Deno.readFile(path), bytes);
  // The model part loads alone once the optimizer's keys are dropped.
  const file = await loadSafetensors(path);
  const modelOnly = Object.fromEntries(Object.entries(file).filter(([k]) => !k.startsWith(OPTIMIZER_PREFIX)));
  target.loadStateDict(modelOnly);
  assertSameDict("model part", await target.stateDict(), await m.stateDict());
  for (const mm of [m, target, wide]) mm.dispose();
  o.dispose();
  opt.dispose();
});

Deno.test("checkpoint teardown: no buffer left", () => {
  x.dispose();
  y.dispose();
  const live = gpu.stats().liveBuffers;
  gpu.destroy();
  Deno.removeSync(dir, { recursive: true });
  assert(live === 0, `live buffers at the end: ${live}`);
});
