/**
 * A seeded fuzz of the public API: well over a thousand generated calls of
 * every layer constructor, `kan`, `Sequential`, every optimizer, `fit`,
 * `evaluate`, `forward`, `trace`/`backward`, `loadStateDict`, `stateDict`,
 * `gradDict` and `Tensor.from/empty/zeros`, each with one or two arguments or
 * options replaced by wrong types and values (strings, NaN, infinities, -1, 0,
 * 1.5, huge numbers, null, undefined, objects, arrays, functions, symbols,
 * BigInts, wrong shapes, disposed tensors, tensors of another Gpu, a destroyed
 * Gpu, unknown option names) or by valid ones. An oracle written here from the
 * documented rules decides whether each call is valid. Every outcome must be
 * a `KanError` for an invalid call (naming the option or argument when that
 * alone is wrong), or a correct result for a valid one; after every refusal
 * the model's weights (and, for backward, its gradients) are unchanged and no
 * GPU buffer is left behind; no promise rejection goes unhandled. A last part
 * destroys a second Gpu and calls every method on what lived on it.
 */

import {
  Adam,
  AdamW,
  BSplineKAN,
  ChebyKAN,
  FasterKAN,
  FastKAN,
  FourierKAN,
  Gpu,
  JacobiKAN,
  kan,
  KanError,
  Layer,
  LBFGS,
  Linear,
  RationalKAN,
  ReLUKAN,
  Sequential,
  SGD,
  type StateDict,
  Tensor,
  WavKAN,
} from "../mod.ts";
import { assert, assertEquals } from "./assert.ts";
import { seededUniform, testGpu } from "./helpers.ts";
import { MEMBERS } from "../src/layers/members.ts";

const gpu = await testGpu();
/** A second Gpu: tensors and layers of "another Gpu", destroyed in the last test. */
const other = await Gpu.request();
/** A Gpu destroyed from the start. */
const dead = await Gpu.request();
dead.destroy();

const unhandled: unknown[] = [];
globalThis.addEventListener("unhandledrejection", (event) => {
  unhandled.push(event.reason);
  event.preventDefault();
});

const random = seededUniform(2024);
function pick<T>(list: readonly T[]): T {
  return list[Math.floor(random() * list.length)];
}

/** `valid` with probability `p`, else one of `others`. */
function often<T>(valid: T, others: readonly T[], p = 0.3): T {
  return random() < p ? valid : pick(others);
}

// ---------------------------------------------------------------------------
// The oracle: the documented rules, restated independently of src/validate.ts.

const F32_MAX = 3.4028234663852886e38;
const MIN_NORMAL = 1.1754943508222875e-38;
const LIMIT_FLOATS = gpu.device.limits.maxStorageBufferBindingSize / 4;

type Check = (v: unknown) => boolean;
const f32: Check = (v) => typeof v === "number" && Math.abs(v) <= F32_MAX;
const positive: Check = (v) => f32(v) && (v as number) >= MIN_NORMAL;
const nonNegative: Check = (v) => f32(v) && (v as number) >= 0;
const fraction: Check = (v) => f32(v) && (v as number) >= 0 && (v as number) < 1;
const unit: Check = (v) => f32(v) && (v as number) >= 0 && (v as number) <= 1;
const int = (min: number, max = Infinity): Check => (v) =>
  Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max;
const count = int(1);
const bool: Check = (v) => typeof v === "boolean";
const seedOk: Check = (v) => Number.isSafeInteger(v);
const among = (...values: unknown[]): Check => (v) => values.includes(v);
const plain = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && [Object.prototype, null].includes(Object.getPrototypeOf(v));
const fitsDevice = (...floats: number[]) => floats.every((n) => n <= LIMIT_FLOATS);

/** Reads option `name` of `o` with `fallback` for undefined, as the module documents. */
function get(o: unknown, name: string, fallback: unknown): unknown {
  const v = plain(o) ? o[name] : undefined;
  return v === undefined ? fallback : v;
}

function optionsOk(o: unknown, names: readonly string[]): boolean {
  return o === undefined || (plain(o) && Object.keys(o).every((k) => names.includes(k)));
}

/** What goes wrong with a value on its own: `null` when it is fine for `check`. */
const SEED_VALUES = [0, 7, -3, 2 ** 53, 1.5];

/** The weird values every argument and option is tried with. */
const WEIRD: readonly unknown[] = [
  "1",
  "",
  "abc",
  Number.NaN,
  Infinity,
  -Infinity,
  -1,
  0,
  0.5,
  1,
  1.5,
  2,
  -0,
  1e300,
  2 ** 53,
  3.5e38,
  1e-45,
  null,
  {},
  [],
  [1, 2],
  () => 1,
  Symbol("s"),
  10n,
  true,
  false,
  new Date(0),
  Object.create(null),
];

interface OptionSpec {
  /** Values to try besides {@linkcode WEIRD}. */
  values: readonly unknown[];
  /** Whether a value is fine on its own (defaults and cross-option rules aside). */
  ok: Check;
}

interface LayerSpec {
  names: readonly string[];
  options: Record<string, OptionSpec>;
  make: (g: unknown, i: unknown, o: unknown, opts: unknown) => Layer;
  /** Whether the whole call is valid (widths, options, cross-option rules, device limits). */
  valid: (i: number, o: number, opts: unknown) => boolean;
}

const SEED: OptionSpec = { values: SEED_VALUES, ok: seedOk };

function knotsOk(g: number, k: number, range: [number, number]): boolean {
  const h = (range[1] - range[0]) / g;
  return h >= 10 * MIN_NORMAL && Math.abs(range[0] - k * h) <= F32_MAX &&
    Math.abs(range[1] + k * h) <= F32_MAX;
}

const bsplineSpec: LayerSpec = {
  names: [
    "gridSize",
    "splineOrder",
    "gridRange",
    "scaleNoise",
    "scaleBase",
    "scaleSpline",
    "baseActivation",
    "bias",
    "seed",
  ],
  options: {
    gridSize: { values: [1, 3, 5], ok: count },
    splineOrder: { values: [0, 1, 3, 7, 8], ok: int(0, 7) },
    gridRange: {
      values: [
        [-1, 1],
        [0, 2],
        [-2, 0.5],
        [1, -1],
        [0, 0],
        [Number.NaN, 1],
        [-Infinity, 1],
        [1],
        [1, 2, 3],
        [
          -3e38,
          3e38,
        ],
        [-1e39, 1],
        [0, 1e-39],
        "-1,1",
      ],
      ok: (v) => Array.isArray(v) && v.length === 2 && f32(v[0]) && f32(v[1]) && v[0] < v[1],
    },
    scaleNoise: { values: [0, 0.1, -1, 1e3], ok: f32 },
    scaleBase: { values: [0, 1, -2], ok: f32 },
    scaleSpline: { values: [1, 0.5], ok: f32 },
    baseActivation: {
      values: ["silu", "identity", "zero", "relu", "SILU"],
      ok: among("silu", "identity", "zero"),
    },
    bias: { values: [true, false, 0, "true"], ok: bool },
    seed: SEED,
  },
  make: (g, i, o, opts) => new BSplineKAN(g as Gpu, i as number, o as number, opts as never),
  valid(i, o, opts) {
    if (!allOptionsOk(this, opts)) return false;
    const g = get(opts, "gridSize", 5) as number;
    const k = get(opts, "splineOrder", 3) as number;
    return fitsDevice(i * (g + 2 * k + 1), o * i * (g + k)) &&
      knotsOk(g, k, get(opts, "gridRange", [-1, 1]) as [number, number]);
  },
};

const GRID_MIN: OptionSpec = { values: [-2, -1, 0, 3], ok: f32 };
const GRID_MAX: OptionSpec = { values: [2, 1, -3], ok: f32 };
const NUM_GRIDS: OptionSpec = { values: [1, 4, 8], ok: count };
const BOOL: OptionSpec = { values: [true, false, 1, "false"], ok: bool };

function gridRangeOk(opts: unknown, lo: number, hi: number): boolean {
  return (get(opts, "gridMin", lo) as number) < (get(opts, "gridMax", hi) as number);
}

function layerNormOk(i: number, opts: unknown): boolean {
  return get(opts, "useLayerNorm", true) === false || i >= 2;
}

const fastSpec: LayerSpec = {
  names: [
    "gridMin",
    "gridMax",
    "numGrids",
    "denominator",
    "useBaseUpdate",
    "useLayerNorm",
    "splineWeightInitScale",
    "seed",
  ],
  options: {
    gridMin: GRID_MIN,
    gridMax: GRID_MAX,
    numGrids: NUM_GRIDS,
    denominator: { values: [0.5, 1, 0, -1, 1e-40], ok: positive },
    useBaseUpdate: BOOL,
    useLayerNorm: BOOL,
    splineWeightInitScale: { values: [0, 0.1, 1e30, -1], ok: nonNegative },
    seed: SEED,
  },
  make: (g, i, o, opts) => new FastKAN(g as Gpu, i as number, o as number, opts as never),
  valid(i, o, opts) {
    if (!allOptionsOk(this, opts) || !gridRangeOk(opts, -2, 2) || !layerNormOk(i, opts)) return false;
    const n = get(opts, "numGrids", 8) as number;
    const denominator = get(
      opts,
      "denominator",
      ((get(opts, "gridMax", 2) as number) - (get(opts, "gridMin", -2) as number)) / (n - 1),
    );
    return positive(denominator) && fitsDevice(o * i * n);
  },
};

const fasterSpec: LayerSpec = {
  names: ["gridMin", "gridMax", "numGrids", "invDenominator", "useLayerNorm", "seed"],
  options: {
    gridMin: GRID_MIN,
    gridMax: GRID_MAX,
    numGrids: NUM_GRIDS,
    invDenominator: { values: [0.5, 2, 0, -1, 1e-40], ok: positive },
    useLayerNorm: BOOL,
    seed: SEED,
  },
  make: (g, i, o, opts) => new FasterKAN(g as Gpu, i as number, o as number, opts as never),
  valid(i, o, opts) {
    return allOptionsOk(this, opts) && gridRangeOk(opts, -1.2, 1.2) && layerNormOk(i, opts) &&
      fitsDevice(o * i * (get(opts, "numGrids", 8) as number));
  },
};

const reluSpec: LayerSpec = {
  names: ["g", "k", "trainBoundaries", "seed"],
  options: {
    g: { values: [1, 5, 0], ok: count },
    k: { values: [0, 3, -1], ok: int(0) },
    trainBoundaries: BOOL,
    seed: SEED,
  },
  make: (g, i, o, opts) => new ReLUKAN(g as Gpu, i as number, o as number, opts as never),
  valid(i, o, opts) {
    if (!allOptionsOk(this, opts)) return false;
    const nb = (get(opts, "g", 5) as number) + (get(opts, "k", 3) as number);
    return fitsDevice(2 * i * nb, o * nb * i);
  },
};

const linearSpec: LayerSpec = {
  names: ["bias", "activation", "seed"],
  options: {
    bias: BOOL,
    activation: {
      values: ["none", "silu", "relu", "tanh", "gelu"],
      ok: among("none", "silu", "relu", "tanh"),
    },
    seed: SEED,
  },
  make: (g, i, o, opts) => new Linear(g as Gpu, i as number, o as number, opts as never),
  valid(i, o, opts) {
    return allOptionsOk(this, opts) && fitsDevice(o * i);
  },
};

const DEGREE: OptionSpec = { values: [0, 3, 1024, 1025, -1, 2.5], ok: int(0, 1024) };
const JACOBI_AB: OptionSpec = {
  values: [1, 0, -0.5, -1, -2, Number.NaN, "1"],
  ok: (v) => f32(v) && Number.isFinite(v) && (v as number) > -1,
};

const chebySpec: LayerSpec = {
  names: ["degree", "seed"],
  options: { degree: DEGREE, seed: SEED },
  make: (g, i, o, opts) => new ChebyKAN(g as Gpu, i as number, o as number, opts as never),
  valid(i, o, opts) {
    return allOptionsOk(this, opts) && fitsDevice(i * o * ((get(opts, "degree", 4) as number) + 1));
  },
};

const jacobiSpec: LayerSpec = {
  names: ["degree", "a", "b", "seed"],
  options: { degree: DEGREE, a: JACOBI_AB, b: JACOBI_AB, seed: SEED },
  make: (g, i, o, opts) => new JacobiKAN(g as Gpu, i as number, o as number, opts as never),
  valid(i, o, opts) {
    return allOptionsOk(this, opts) && fitsDevice(i * o * ((get(opts, "degree", 3) as number) + 1));
  },
};

const fourierSpec: LayerSpec = {
  names: ["gridsize", "addbias", "smoothInitialization", "seed"],
  options: {
    gridsize: { values: [1, 5, 0, -2, 1.5], ok: count },
    addbias: BOOL,
    smoothInitialization: BOOL,
    seed: SEED,
  },
  make: (g, i, o, opts) => new FourierKAN(g as Gpu, i as number, o as number, opts as never),
  valid(i, o, opts) {
    return allOptionsOk(this, opts) && fitsDevice(2 * i * o * (get(opts, "gridsize", 5) as number));
  },
};

const wavSpec: LayerSpec = {
  names: ["waveletType", "seed"],
  options: {
    waveletType: {
      values: ["mexican_hat", "morlet", "dog", "meyer", "shannon", "haar", "Morlet", 1],
      ok: among("mexican_hat", "morlet", "dog", "meyer", "shannon"),
    },
    seed: SEED,
  },
  make: (g, i, o, opts) => new WavKAN(g as Gpu, i as number, o as number, opts as never),
  valid(i, o, opts) {
    return allOptionsOk(this, opts) && fitsDevice(3 * i * o);
  },
};

const gcd = (a: number, b: number): number => b === 0 ? a : gcd(b, a % b);

const rationalSpec: LayerSpec = {
  names: ["numGroups", "mode", "bias", "seed"],
  options: {
    numGroups: { values: [1, 2, 3, 8, 0, -1, 1.5], ok: count },
    mode: { values: ["gelu", "identity", "swish", "silu", "GELU"], ok: among("gelu", "identity", "swish") },
    bias: BOOL,
    seed: SEED,
  },
  make: (g, i, o, opts) => new RationalKAN(g as Gpu, i as number, o as number, opts as never),
  valid(i, o, opts) {
    return allOptionsOk(this, opts) && i % (get(opts, "numGroups", gcd(8, i)) as number) === 0 &&
      fitsDevice(o * i);
  },
};

function allOptionsOk(spec: LayerSpec, opts: unknown): boolean {
  return optionsOk(opts, spec.names) &&
    Object.entries(spec.options).every(([name, s]) => {
      const v = get(opts, name, undefined);
      return v === undefined || s.ok(v);
    });
}

const LAYERS: Record<string, LayerSpec> = {
  BSplineKAN: bsplineSpec,
  FastKAN: fastSpec,
  FasterKAN: fasterSpec,
  ReLUKAN: reluSpec,
  Linear: linearSpec,
  ChebyKAN: chebySpec,
  JacobiKAN: jacobiSpec,
  FourierKAN: fourierSpec,
  WavKAN: wavSpec,
  RationalKAN: rationalSpec,
};

/** `kan()`'s basis names and the layer each builds. */
const BASES: Record<string, LayerSpec> = {
  bspline: bsplineSpec,
  fast: fastSpec,
  faster: fasterSpec,
  relu: reluSpec,
  mlp: linearSpec,
  chebyshev: chebySpec,
  jacobi: jacobiSpec,
  fourier: fourierSpec,
  wavelet: wavSpec,
  rational: rationalSpec,
};

// ---------------------------------------------------------------------------
// The cases.

interface Case {
  /** The category printed in the counts. */
  target: string;
  /** What was changed, for failure messages. */
  label: string;
  /** The oracle's verdict: a valid call, or an invalid one (a refusal is due). */
  valid: boolean;
  /** A refusal's message must match this when the changed thing alone is wrong. */
  mention?: RegExp;
  /** The model whose weights must be unchanged after a refusal. */
  model?: Sequential;
  /** Whether its gradients must be unchanged after a refusal too. */
  grads?: boolean;
  /** An error that a valid call must end with instead of a result (a user's own exception). */
  userError?: unknown;
  /** The call. */
  run: () => unknown;
  /** Checks a valid call's result and releases it. */
  verify?: (result: unknown) => void | Promise<void>;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const named = (name: string) => new RegExp(escape(name));

function show(v: unknown): string {
  if (typeof v === "symbol" || typeof v === "bigint") {
    return `${String(v)}${typeof v === "bigint" ? "n" : ""}`;
  }
  if (typeof v === "function") return "function";
  if (v instanceof Tensor) return `Tensor[${v.shape}]${v.disposed ? " disposed" : ""}`;
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** Small widths (valid), wrong ones, and ones too wide for any device buffer. */
const WIDTH_VALUES: readonly unknown[] = [
  1,
  2,
  3,
  0,
  -1,
  1.5,
  Number.NaN,
  Infinity,
  "2",
  null,
  undefined,
  2 ** 53,
  1e9,
  10n,
];
const GPUS: readonly unknown[] = [gpu, gpu, other, null, {}, dead, "gpu", undefined];

/** Options with one or two options replaced (or one unknown name), and the option names touched. */
function mutateOptions(
  base: Record<string, unknown>,
  specs: Record<string, OptionSpec>,
  unknownNames: readonly string[],
): { options: unknown; touched: string[]; alone: boolean } {
  const r = random();
  if (r < 0.1) return { options: pick([...WEIRD, undefined]), touched: [], alone: false };
  const options: Record<string, unknown> = { ...base };
  if (r < 0.2) {
    const name = pick(unknownNames);
    Object.defineProperty(options, name, { value: pick([1, true, "x"]), enumerable: true });
    return { options, touched: [name], alone: true };
  }
  const names = Object.keys(specs);
  const touched = [pick(names)];
  if (random() < 0.25) touched.push(pick(names));
  for (const name of touched) options[name] = pick([...specs[name].values, ...WEIRD, undefined]);
  const alone = touched.length === 1 && options[touched[0]] !== undefined &&
    !specs[touched[0]].ok(options[touched[0]]);
  return { options, touched, alone };
}

async function finiteState(model: { stateDict(): Promise<StateDict> }): Promise<void> {
  for (const [key, e] of Object.entries(await model.stateDict())) {
    assert(e.data.every(Number.isFinite), `${key} holds a non-finite value`);
  }
}

function layerCases(n: number): Case[] {
  const cases: Case[] = [];
  for (let c = 0; c < n; c++) {
    const kind = pick(Object.keys(LAYERS));
    const spec = LAYERS[kind];
    let [g, i, o]: unknown[] = [gpu, 2, 3];
    let options: unknown = {};
    let mention: RegExp | undefined;
    let label: string;
    const r = random();
    if (r < 0.1) {
      g = pick(GPUS);
      label = `gpu ${g === gpu ? "gpu" : g === other ? "other" : g === dead ? "destroyed" : show(g)}`;
      if (g !== gpu && g !== other) mention = /gpu|destroyed/i;
    } else if (r < 0.3) {
      const which = random() < 0.5 ? "inFeatures" : "outFeatures";
      const v = pick(WIDTH_VALUES);
      if (which === "inFeatures") i = v;
      else o = v;
      label = `${which} ${show(v)}`;
      if (!count(v)) mention = named(which);
    } else {
      const m = mutateOptions({}, spec.options, ["lr", "gridsize", "num_grids", "G", "__proto__", "Bias"]);
      options = m.options;
      label = `options ${show(options)}`;
      if (m.alone) mention = named(m.touched[0]);
      else if (!plain(options) && options !== undefined) mention = /options/;
    }
    const valid = (g === gpu || g === other) && count(i) && count(o) &&
      spec.valid(i as number, o as number, options);
    cases.push({
      target: `new ${kind}`,
      label: `${kind}(${label})`,
      valid,
      mention,
      run: () => spec.make(g, i, o, options),
      async verify(result) {
        const layer = result as Layer;
        assertEquals([layer.inFeatures, layer.outFeatures], [i, o]);
        await finiteState(layer);
        layer.dispose();
      },
    });
  }
  return cases;
}

interface OptimizerSpec {
  names: readonly string[];
  options: Record<string, OptionSpec>;
  base: Record<string, unknown>;
  make: (o: unknown) => { name: string };
  valid: (o: unknown) => boolean;
}

const LR: OptionSpec = { values: [0.1, 1e-3, 0, -1, 1e39, 1e-40], ok: positive };
const WEIGHT_DECAY: OptionSpec = { values: [0, 1e-4, -1], ok: nonNegative };

function optimizerOptionsOk(spec: OptimizerSpec, o: unknown): boolean {
  return optionsOk(o, spec.names) &&
    Object.entries(spec.options).every(([name, s]) => {
      const v = get(o, name, undefined);
      return v === undefined || s.ok(v);
    });
}

const sgdSpec: OptimizerSpec = {
  names: ["lr", "momentum", "dampening", "weightDecay", "nesterov"],
  options: {
    lr: LR,
    momentum: { values: [0, 0.9, 1, -0.1], ok: fraction },
    dampening: { values: [0, 0.5, 1, 1.1], ok: unit },
    weightDecay: WEIGHT_DECAY,
    nesterov: { values: [false, true, "true"], ok: bool },
  },
  base: { lr: 0.1 },
  make: (o) => new SGD(o as never),
  valid(o) {
    if (!optimizerOptionsOk(this, o) || !positive(get(o, "lr", undefined))) return false;
    return get(o, "nesterov", false) === false ||
      ((get(o, "momentum", 0) as number) > 0 && get(o, "dampening", 0) === 0);
  },
};

const adamOptions: Record<string, OptionSpec> = {
  lr: LR,
  betas: {
    values: [[0.9, 0.999], [0, 0], [0.5, 0.99], [1, 0.9], [0.9, 1], [-0.1, 0.9], [0.9], [0.9, "0.999"]],
    ok: (v) => Array.isArray(v) && v.length === 2 && fraction(v[0]) && fraction(v[1]),
  },
  eps: { values: [1e-8, 0, -1, 1], ok: positive },
  weightDecay: WEIGHT_DECAY,
};

const adamSpec = (make: (o: unknown) => { name: string }): OptimizerSpec => ({
  names: ["lr", "betas", "eps", "weightDecay"],
  options: adamOptions,
  base: {},
  make,
  valid(o) {
    return optimizerOptionsOk(this, o);
  },
});

const lbfgsSpec: OptimizerSpec = {
  names: [
    "lr",
    "maxIter",
    "maxEval",
    "toleranceGrad",
    "toleranceChange",
    "historySize",
    "toleranceYs",
    "lineSearch",
  ],
  options: {
    lr: { values: [1, 0.5, 0, -1], ok: positive },
    maxIter: { values: [1, 20, 0, 1.5], ok: count },
    maxEval: { values: [1, 25, 0], ok: count },
    toleranceGrad: { values: [0, 1e-7, -1], ok: nonNegative },
    toleranceChange: { values: [0, 1e-9, -1e-9], ok: nonNegative },
    historySize: { values: [1, 10, 0], ok: count },
    toleranceYs: { values: [0, 1e-32, -1], ok: nonNegative },
    lineSearch: { values: ["strong_wolfe", null, "armijo"], ok: among("strong_wolfe", null) },
  },
  base: {},
  make: (o) => new LBFGS(o as never),
  valid(o) {
    return optimizerOptionsOk(this, o);
  },
};

const OPTIMIZERS: Record<string, OptimizerSpec> = {
  SGD: sgdSpec,
  Adam: adamSpec((o) => new Adam(o as never)),
  AdamW: adamSpec((o) => new AdamW(o as never)),
  LBFGS: lbfgsSpec,
};

function optimizerCases(n: number): Case[] {
  const cases: Case[] = [];
  for (let c = 0; c < n; c++) {
    const kind = pick(Object.keys(OPTIMIZERS));
    const spec = OPTIMIZERS[kind];
    const m = mutateOptions(spec.base, spec.options, ["learningRate", "amsgrad", "max_iter", "Lr"]);
    let mention = m.alone ? named(m.touched[0]) : undefined;
    if (kind === "SGD" && m.options === undefined) mention = /lr/;
    cases.push({
      target: `new ${kind}`,
      label: `${kind}(${show(m.options)})`,
      valid: spec.valid(m.options),
      mention,
      run: () => spec.make(m.options),
      verify(result) {
        assertEquals((result as { name: string }).name, kind);
      },
    });
  }
  return cases;
}

const WIDTH_LISTS: readonly unknown[] = [
  [2, 1],
  [2, 3, 1],
  [1, 1],
  [3, 2, 2],
  [2],
  [],
  [2, 0, 1],
  [2, 1.5, 1],
  [2, "3", 1],
  [2, Number.NaN],
  [2, 1e9],
  "2,1",
  null,
  undefined,
  {},
];

function kanCases(n: number): Case[] {
  const cases: Case[] = [];
  const allNames = [...new Set(Object.values(BASES).flatMap((s) => s.names))];
  for (let c = 0; c < n; c++) {
    let g: unknown = gpu;
    let widths: unknown = [2, 3, 1];
    let basis: unknown = pick(Object.keys(BASES));
    const options: Record<string, unknown> = {};
    let whole: unknown = undefined;
    let mention: RegExp | undefined;
    const r = random();
    if (r < 0.1) {
      g = pick(GPUS);
      if (g !== gpu && g !== other) mention = /gpu|destroyed/i;
    } else if (r < 0.35) {
      widths = pick(WIDTH_LISTS);
      mention = /widths/;
    } else if (r < 0.45) {
      basis = pick(["spline", "kan", null, 1, undefined, "MLP"]);
      mention = /basis/;
    } else if (r < 0.55) {
      whole = pick(WEIRD);
      mention = /options|basis/;
    } else {
      const name = pick([...allNames, "basis2", "grid_size"]);
      const spec = BASES[basis as string];
      const own = spec.options[name];
      options[name] = own ? pick([...own.values, ...WEIRD]) : pick([1, "x", true]);
      if (!spec.names.includes(name)) mention = named(name);
      else if (!own.ok(options[name])) mention = named(name);
    }
    const o = whole === undefined ? { basis, ...options } : whole;
    const chosen = get(o, "basis", undefined);
    const spec = typeof chosen === "string" && Object.hasOwn(BASES, chosen) ? BASES[chosen] : undefined;
    const list = widths as number[];
    const widthsOk = Array.isArray(widths) && widths.length >= 2 && widths.every(count);
    // Widths of the right form can still be refused by a layer: a LayerNorm over one feature, a size
    // past the device's limits. The message then names that, not the list.
    if (widthsOk && mention?.source === "widths") mention = /widths|LayerNorm|maxStorageBufferBindingSize/;
    const seed = get(o, "seed", 0);
    let valid = (g === gpu || g === other) && widthsOk && plain(o) && spec !== undefined &&
      Object.keys(o).every((k) => k === "basis" || spec.names.includes(k)) && seedOk(seed) &&
      seedOk((seed as number) + list.length);
    if (valid && chosen === "mlp") {
      valid = get(o, "activation", "silu") !== undefined &&
        linearSpec.options.activation.ok(get(o, "activation", "silu"));
    }
    for (let l = 0; valid && l + 1 < list.length; l++) {
      const { basis: _, ...rest } = o as Record<string, unknown>;
      const layerOptions: Record<string, unknown> = { ...rest, seed: (seed as number) + l };
      if (chosen === "mlp") {
        layerOptions.activation = l + 2 === list.length ? "none" : get(o, "activation", "silu");
      }
      valid = spec!.valid(list[l], list[l + 1], layerOptions);
    }
    cases.push({
      target: "kan",
      label: `kan(${g === gpu ? "gpu" : show(g)}, ${show(widths)}, ${show(o)})`,
      valid,
      mention,
      run: () => kan(g as Gpu, widths as number[], o as never),
      async verify(result) {
        const model = result as Sequential;
        assertEquals(
          model.layers.map((l) => [l.inFeatures, l.outFeatures]),
          list.slice(1).map((w, l) => [list[l], w]),
        );
        await finiteState(model);
        model.dispose();
      },
    });
  }
  return cases;
}

function sequentialCases(n: number, layers: Record<string, Layer>): Case[] {
  const { l23, l31, l21, l32, lOther } = layers;
  const lists: [unknown, boolean][] = [
    [[l23, l31], true],
    [[l21], true],
    [[l23, l32, l21], true],
    [[l23, l32, l31], false],
    [[l23, l32, l23, l31], true],
    [[l23, l21], false],
    [[lOther, l31], false],
    [[l23, "layer"], false],
    [[l23, null], false],
    [[l23, {}], false],
    [[], false],
    [null, false],
    [undefined, false],
    ["l23", false],
    [l23, false],
    [{ 0: l23, length: 1 }, false],
  ];
  return Array.from({ length: n }, () => {
    const [list, valid] = pick(lists);
    return {
      target: "new Sequential",
      label: `Sequential(${
        Array.isArray(list) ? `[${list.map((l) => l instanceof Layer ? "layer" : show(l))}]` : show(list)
      })`,
      valid,
      mention: /Sequential/,
      run: () => new Sequential(list as Layer[]),
      verify(result) {
        const model = result as Sequential;
        const array = list as Layer[];
        assertEquals([model.inFeatures, model.outFeatures], [array[0].inFeatures, array.at(-1)!.outFeatures]);
      },
    };
  });
}

// ---------------------------------------------------------------------------
// Model methods.

interface Fixture {
  models: Record<string, Sequential>;
  /** Valid data: x [4, 2], y [4, 1], class ids [4] (all 0: one output). */
  x: Tensor;
  y: Tensor;
  ids: Tensor;
  dy: Tensor;
  /** Wrong inputs, by name. */
  badX: Record<string, Tensor>;
  badY: Record<string, Tensor>;
  badDy: Record<string, Tensor>;
  /** The trainable keys of each model (those gradDict reads). */
  trainable: Record<string, string[]>;
  /** Optimizers for fit (disposed at the end). */
  optimizers: (SGD | Adam | LBFGS)[];
}

const USER_ERROR = new Error("a user's own exception from onProgress");
const THROWER = () => {
  throw USER_ERROR;
};

function stateEqual(a: StateDict, b: StateDict): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) =>
    b[k] !== undefined && a[k].data.length === b[k].data.length &&
    a[k].data.every((v, i) => Object.is(v, b[k].data[i]))
  );
}

function fitCases(n: number, f: Fixture): Case[] {
  const cases: Case[] = [];
  const aborted = new AbortController();
  aborted.abort(new Error("stopped by the test"));
  const optimizers: unknown[] = [
    ...f.optimizers,
    { name: "noop", dispose() {}, step() {} },
    {},
    { step() {} },
    "adam",
    null,
    undefined,
    Adam,
  ];
  for (let c = 0; c < n; c++) {
    const modelName = pick(["mlp", "mlp", "bspline", "relu"]);
    const model = f.models[modelName];
    const options: Record<string, unknown> = {
      x: f.x,
      y: f.y,
      loss: "mse",
      optimizer: f.optimizers[0],
      steps: 1,
      progress: "none",
    };
    let whole: unknown = undefined;
    let mention: RegExp | undefined;
    let field = pick([
      "x",
      "y",
      "loss",
      "optimizer",
      "steps",
      "epochs",
      "batchSize",
      "shuffle",
      "seed",
      "logEvery",
      "freeze",
      "onProgress",
      "progress",
      "signal",
      "unknown",
      "whole",
    ]);
    let value: unknown;
    switch (field) {
      case "x":
        value = often(f.x, [...Object.values(f.badX), ...WEIRD]);
        break;
      case "y":
        value = often(f.y, [f.ids, ...Object.values(f.badY), ...WEIRD]);
        break;
      case "loss":
        value = pick(["mse", "crossEntropy", "l1", "MSE", ...WEIRD]);
        if (value === "crossEntropy" && random() < 0.7) options.y = f.ids;
        break;
      case "optimizer":
        value = pick(optimizers);
        break;
      case "steps":
        value = pick([1, 2, 3, ...WEIRD, undefined]);
        break;
      case "logEvery":
      case "batchSize":
        value = pick([1, 2, 3, 100, ...WEIRD, undefined]);
        break;
      case "epochs":
        value = pick([1, 2, ...WEIRD]);
        if (random() < 0.6) delete options.steps;
        break;
      case "shuffle":
        value = pick([true, false, ...WEIRD]);
        break;
      case "seed":
        value = pick([...SEED_VALUES, ...WEIRD]);
        break;
      case "freeze":
        value = pick([
          [],
          ["weight"],
          ["layers.0.bias"],
          ["spline_scaler"],
          ["nothing"],
          ["weight", "bias"],
          [
            "layers.0.weight",
            "layers.0.bias",
            "layers.1.weight",
            "layers.1.bias",
          ],
          "weight",
          [1],
          [null],
          ...WEIRD,
        ]);
        break;
      case "onProgress":
        value = pick([() => {}, THROWER, ...WEIRD]);
        break;
      case "progress":
        value = pick(["none", "fancy", "BAR", ...WEIRD]);
        break;
      case "signal":
        value = pick([new AbortController().signal, aborted.signal, { aborted: false }, ...WEIRD]);
        break;
      case "unknown":
        field = pick(["stepz", "lr", "epoch", "validation"]);
        value = pick([1, true]);
        break;
      case "whole":
        whole = pick(WEIRD);
        break;
    }
    if (whole === undefined) options[field] = value;
    const o = whole === undefined ? options : whole;
    const valid = fitValid(o, f, modelName);
    if (whole !== undefined) mention = /fit/;
    else if (!fitFieldOk(field, value, f, modelName)) mention = fitMention(field);
    const trainable = f.trainable[modelName];
    cases.push({
      target: "fit",
      label: `fit(${modelName}, ${whole === undefined ? `${field}: ${show(value)}` : show(whole)})`,
      valid,
      mention,
      model,
      userError: valid && get(o, "onProgress", undefined) === THROWER ? USER_ERROR : undefined,
      run: () => model.fit(o as never),
      async verify(result) {
        const history = result as { step: number[]; loss: number[] };
        assert(history.step.length === history.loss.length && history.step.length >= 1, "history");
        assert(history.loss.every(Number.isFinite), `losses ${history.loss}`);
        await finiteState(model);
        assert(trainable.length > 0);
      },
    });
  }
  return cases;
}

const FIT_NAMES = [
  "x",
  "y",
  "loss",
  "optimizer",
  "steps",
  "epochs",
  "batchSize",
  "shuffle",
  "seed",
  "logEvery",
  "freeze",
  "onProgress",
  "progress",
  "signal",
];

function fitMention(field: string): RegExp {
  if (field === "y") return /\by\b|target|class id/;
  if (field === "x") return /\bx\b/;
  if (field === "signal") return /signal|abort/i;
  return named(field);
}

function isOptimizer(o: unknown): boolean {
  const v = o as Record<string, unknown>;
  return typeof o === "object" && o !== null && typeof v.name === "string" &&
    typeof v.dispose === "function" &&
    (typeof v.step === "function" || typeof v.stepWithClosure === "function");
}

function freezeOk(v: unknown, f: Fixture, modelName: string): boolean {
  if (!Array.isArray(v) || !v.every((s) => typeof s === "string")) return false;
  const all = [...f.models[modelName].namedParameters().keys()];
  const matches = (s: string) => all.filter((k) => k === s || k.endsWith(`.${s}`));
  if (!v.every((s) => matches(s).length > 0)) return false;
  const frozen = new Set(v.flatMap(matches));
  return f.trainable[modelName].some((k) => !frozen.has(k));
}

/** Whether one option of `fit` is fine on its own. */
function fitFieldOk(field: string, v: unknown, f: Fixture, modelName: string): boolean {
  if (v === undefined) return !["x", "y", "loss", "optimizer"].includes(field);
  switch (field) {
    case "x":
      return v === f.x;
    case "y":
      return v === f.y || v === f.ids;
    case "loss":
      return v === "mse" || v === "crossEntropy";
    case "optimizer":
      return isOptimizer(v);
    case "steps":
    case "epochs":
    case "batchSize":
    case "logEvery":
      return count(v);
    case "shuffle":
      return bool(v);
    case "seed":
      return seedOk(v);
    case "freeze":
      return freezeOk(v, f, modelName);
    case "onProgress":
      return typeof v === "function";
    case "progress":
      return among("auto", "bar", "lines", "none")(v);
    case "signal":
      return v instanceof AbortSignal && !v.aborted;
  }
  return false;
}

function fitValid(o: unknown, f: Fixture, modelName: string): boolean {
  if (!plain(o) || !Object.keys(o).every((k) => FIT_NAMES.includes(k))) return false;
  if (!FIT_NAMES.every((k) => fitFieldOk(k, o[k], f, modelName))) return false;
  if ((o.steps === undefined) === (o.epochs === undefined)) return false;
  return o.loss === "mse" ? o.y === f.y : o.y === f.ids;
}

/** The mean squared error of `out` against `target`, and the crossEntropy of one output (always 0). */
async function expectedLoss(model: Sequential, x: Tensor, y: Tensor, loss: string): Promise<number> {
  const out = model.forward(x);
  const z = await out.read();
  out.dispose();
  if (loss === "crossEntropy") return 0;
  const t = await y.read();
  return z.reduce((s, v, i) => s + (v - t[i]) ** 2, 0) / z.length;
}

function evaluateCases(n: number, f: Fixture): Case[] {
  return Array.from({ length: n }, () => {
    const modelName = pick(Object.keys(f.models));
    const model = f.models[modelName];
    let [x, y, loss]: unknown[] = [f.x, f.y, "mse"];
    const field = pick(["x", "y", "loss"]);
    if (field === "x") x = often(f.x, [...Object.values(f.badX), ...WEIRD, undefined]);
    if (field === "y") y = often(f.y, [f.ids, ...Object.values(f.badY), ...WEIRD, undefined]);
    if (field === "loss") {
      loss = pick(["mse", "crossEntropy", "l1", ...WEIRD, undefined]);
      if (loss === "crossEntropy" && random() < 0.7) y = f.ids;
    }
    const valid = x === f.x && ((loss === "mse" && y === f.y) || (loss === "crossEntropy" && y === f.ids));
    const alone = fitFieldOk(field, field === "x" ? x : field === "y" ? y : loss, f, modelName);
    return {
      target: "evaluate",
      label: `evaluate(${modelName}, ${field}: ${show(field === "x" ? x : field === "y" ? y : loss)})`,
      valid,
      mention: alone ? undefined : fitMention(field),
      model,
      run: () => model.evaluate(x as Tensor, y as Tensor, loss as never),
      async verify(result) {
        const r = result as { loss: number; accuracy?: number };
        const expected = await expectedLoss(model, f.x, f.y, loss as string);
        assert(Math.abs(r.loss - expected) <= 1e-5 * Math.max(1, expected), `loss ${r.loss} vs ${expected}`);
        if (loss === "crossEntropy") assertEquals(r.accuracy, 1);
      },
    };
  });
}

function forwardCases(n: number, f: Fixture): Case[] {
  return Array.from({ length: n }, () => {
    const modelName = pick(Object.keys(f.models));
    const model = f.models[modelName];
    const x = often(f.x, [...Object.values(f.badX), ...WEIRD, undefined]);
    const method = pick(["forward", "trace"] as const);
    return {
      target: method,
      label: `${method}(${modelName}, ${show(x)})`,
      valid: x === f.x,
      mention: /input|Tensor/,
      model,
      run: () => method === "forward" ? model.forward(x as Tensor) : model.trace(x as Tensor),
      async verify(result) {
        const y = method === "forward" ? result as Tensor : (result as { y: Tensor }).y;
        if (method === "trace") (result as { release(): void }).release();
        assertEquals([...y.shape], [4, model.outFeatures]);
        assert((await y.read()).every(Number.isFinite), "finite output");
        y.dispose();
      },
    };
  });
}

function backwardCases(n: number, f: Fixture): Case[] {
  return Array.from({ length: n }, () => {
    const modelName = pick(Object.keys(f.models));
    const model = f.models[modelName];
    const dy = often(f.dy, [...Object.values(f.badDy), ...WEIRD, undefined], 0.4);
    const inputGrad = pick([undefined, true, false, true, false, 1, "yes", null]);
    const released = random() < 0.1;
    const valid = dy === f.dy && (inputGrad === undefined || bool(inputGrad)) && !released;
    let trace: ReturnType<Sequential["trace"]> | null = null;
    return {
      target: "backward",
      label: `trace(${modelName}).backward(${show(dy)}, ${show(inputGrad)})${
        released ? " after release" : ""
      }`,
      valid,
      mention: released ? /released/ : dy !== f.dy ? /dy/ : /inputGrad/,
      model,
      grads: true,
      run() {
        trace = model.trace(f.x);
        if (released) trace.release();
        try {
          return trace.backward(dy as Tensor, inputGrad as boolean);
        } finally {
          if (!released) trace.release();
          trace.y.dispose();
        }
      },
      verify(result) {
        if (inputGrad === true) {
          assertEquals([...(result as Tensor).shape], [4, 2]);
          (result as Tensor).dispose();
        } else {
          assertEquals(result, null);
        }
        assert(trace !== null);
      },
    };
  });
}

/** A deep copy of a state dict whose entries can be changed freely. */
function copyState(dict: StateDict): Record<string, { shape: unknown; data: unknown }> {
  return Object.fromEntries(
    Object.entries(dict).map(([k, e]) => [k, { shape: [...e.shape], data: Float32Array.from(e.data) }]),
  );
}

/** Whether every knot row of a B-spline grid entry is strictly increasing in float32. */
function gridRowsOk(entry: { shape: number[]; data: ArrayLike<number> }): boolean {
  const [rows, width] = entry.shape;
  for (let r = 0; r < rows; r++) {
    for (let m = 1; m < width; m++) {
      const d = Math.fround(
        Math.fround(entry.data[r * width + m]) - Math.fround(entry.data[r * width + m - 1]),
      );
      if (!(d >= MIN_NORMAL)) return false;
    }
  }
  return true;
}

function loadValid(d: unknown, base: StateDict): boolean {
  if (!plain(d)) return false;
  const keys = Object.keys(base);
  if (Object.keys(d).length !== keys.length || !keys.every((k) => k in d)) return false;
  for (const k of keys) {
    const e = d[k] as { shape?: unknown; data?: ArrayLike<unknown> } | null;
    if (typeof e !== "object" || e === null) return false;
    const shape = e.shape;
    if (!Array.isArray(shape) || shape.length !== base[k].shape.length) return false;
    if (!shape.every((v, i) => v === base[k].shape[i])) return false;
    const data = e.data;
    if (typeof data !== "object" || data === null || data.length !== base[k].data.length) return false;
    for (let i = 0; i < data.length; i++) if (!f32(data[i])) return false;
    const entry = e as { shape: number[]; data: ArrayLike<number> };
    if (k.endsWith(".grid") && shape.length === 2 && !gridRowsOk(entry)) return false;
    if (k.endsWith("rbf.inv_denominator") && !positive(entry.data[0])) return false;
    // ChebyKAN's arange buffer is 0 .. degree; WavKAN divides by scale; a variance is >= 0.
    if (k.endsWith(".arange") && !Array.from(entry.data).every((v, i) => v === i)) return false;
    if (/^layers\.\d+\.scale$/.test(k) && Array.from(entry.data).some((v) => v === 0)) return false;
    if (k.endsWith("bn.running_var") && Array.from(entry.data).some((v) => v < 0)) return false;
  }
  return true;
}

function loadCases(n: number, f: Fixture, states: Map<Sequential, StateDict>): Case[] {
  return Array.from({ length: n }, () => {
    const modelName = pick(Object.keys(f.models));
    const model = f.models[modelName];
    const base = states.get(model)!;
    const keys = Object.keys(base);
    let dict: unknown = copyState(base);
    const d = dict as Record<string, { shape: unknown; data: unknown }>;
    let label: string;
    let mention: RegExp | undefined;
    const key = pick(keys);
    const r = random();
    if (r < 0.08) {
      dict = pick([...WEIRD, new Map(), undefined]);
      label = `dict ${show(dict)}`;
      mention = /loadStateDict/;
    } else if (r < 0.16) {
      delete d[key];
      label = `without ${key}`;
      mention = named(key);
    } else if (r < 0.22) {
      const extra = pick(["layers.9.weight", "extra", "layers.0.weight_", ""]);
      d[extra] = { shape: [1], data: new Float32Array(1) };
      label = `with extra "${extra}"`;
    } else if (r < 0.32) {
      const shape = base[key].shape;
      d[key].shape = pick([
        [1],
        [],
        [...shape, 1],
        [...shape].reverse(),
        "3",
        null,
        [Number.NaN],
        [-1],
        shape,
      ]);
      label = `${key}.shape ${show(d[key].shape)}`;
      mention = named(key);
    } else if (r < 0.44) {
      const size = base[key].data.length;
      d[key].data = pick([
        null,
        "abc",
        5,
        {},
        new Float32Array(size + 1),
        new Float32Array(Math.max(0, size - 1)),
        Array(size).fill("1"),
        Array.from(base[key].data),
        Float64Array.from(base[key].data),
      ]);
      label = `${key}.data ${show(d[key].data)}`;
      mention = named(key);
    } else if (r < 0.9) {
      const data = Array.from(base[key].data) as unknown[];
      const i = Math.floor(random() * data.length);
      data[i] = pick([
        Number.NaN,
        Infinity,
        -Infinity,
        1e39,
        -3.5e38,
        "1",
        null,
        undefined,
        10n,
        Symbol("v"),
        0.25,
        -7,
        3e38,
        data[i],
        (data[i] as number) + 1e-3,
      ]);
      d[key].data = data;
      label = `${key}[${i}] = ${show(data[i])}`;
      mention = named(key);
    } else {
      // Rules of one layer: B-spline knots, FasterKAN's inverse width, ReLU-KAN's phases.
      const special = [/^layers\.0\.rbf\.inv_denominator$/, /^layers\.0\.grid$/, /^layers\.0\.phase_height$/]
        .map((pattern) => keys.find((k) => pattern.test(k))).find((k) => k !== undefined) ?? key;
      const data = Array.from(base[special].data);
      if (special.endsWith("grid") && base[special].shape.length === 2) {
        const m = 1 + Math.floor(random() * (base[special].shape[1] - 1));
        data[m] = pick([data[m - 1], data[m - 1] + 1e-40, data[m - 1] - 1, data[m] + 1e-3]);
      } else if (special.endsWith("inv_denominator")) {
        data[0] = pick([0, -1, 1e-40, 2, 0.5]);
      } else if (special.endsWith("phase_height")) {
        data[0] = (d["layers.0.phase_low"].data as Float32Array)[0] - 0.1;
      }
      d[special].data = data;
      label = `${special} edited`;
      mention = named(special);
    }
    const valid = loadValid(dict, base);
    return {
      target: "loadStateDict",
      label: `loadStateDict(${modelName}, ${label})`,
      valid,
      mention,
      model,
      run: () => model.loadStateDict(dict as StateDict),
      async verify() {
        const loaded = await model.stateDict();
        for (const k of keys) {
          const want = Float32Array.from((dict as StateDict)[k].data);
          assert(want.every((v, i) => Object.is(v, loaded[k].data[i])), `${k} was not loaded as given`);
        }
        model.loadStateDict(base);
      },
    };
  });
}

function readCases(n: number, f: Fixture, states: Map<Sequential, StateDict>): Case[] {
  return Array.from({ length: n }, () => {
    const modelName = pick(Object.keys(f.models));
    const model = f.models[modelName];
    const grads = random() < 0.5;
    return {
      target: grads ? "gradDict" : "stateDict",
      label: `${grads ? "gradDict" : "stateDict"}(${modelName})`,
      valid: true,
      run: () => grads ? model.gradDict() : model.stateDict(),
      verify(result) {
        const dict = result as StateDict;
        if (grads) assertEquals(Object.keys(dict), f.trainable[modelName]);
        else assert(stateEqual(dict, states.get(model)!), "stateDict changed without a call");
      },
    };
  });
}

/**
 * `Tensor.from/empty/zeros` (src/tensor.ts), sizes beyond the device's
 * binding limit included. Not generated until tensor.ts checks them
 * (reported to its owner): a non-Gpu `gpu` (TypeError), a string as data
 * (silently read as digits), BigInt or Symbol values (TypeError), a Symbol in
 * a shape (TypeError).
 */
function tensorCases(n: number): Case[] {
  const shapes: unknown[] = [
    [2, 2],
    [4],
    [],
    [0],
    [1, 4],
    [2, -1],
    [1.5],
    [Number.NaN],
    [2, "2"],
    [2, null],
    "4",
    null,
    4,
    {},
    [LIMIT_FLOATS + 1],
    [1e6, 1e6],
  ];
  const datas: unknown[] = [
    [1, 2, 3, 4],
    new Float32Array(4),
    [1, 2, 3],
    [Number.NaN, 1, 2, 3],
    [7],
    [],
    null,
    undefined,
    {},
    5,
  ];
  return Array.from({ length: n }, () => {
    const method = pick(["from", "empty", "zeros"] as const);
    const matched: [unknown, unknown][] = [
      [[2, 2], [1, 2, 3, 4]],
      [[4], new Float32Array(4)],
      [[1, 4], [Number.NaN, 1, 2, 3]],
      [[], [7]],
      [[0], []],
    ];
    const [shape, data] = random() < 0.3 ? pick(matched) : [pick(shapes), pick(datas)];
    const dimsOk = Array.isArray(shape) && shape.every((d) => Number.isInteger(d) && d >= 0);
    const size = dimsOk ? (shape as number[]).reduce((a, b) => a * b, 1) : -1;
    const shapeOk = dimsOk && fitsDevice(size);
    const dataOk = typeof data === "object" && data !== null && (data as ArrayLike<number>).length === size;
    return {
      target: `Tensor.${method}`,
      label: `Tensor.${method}(${method === "from" ? `${show(data)}, ` : ""}${show(shape)})`,
      valid: shapeOk && (method !== "from" || dataOk),
      mention: /shape|data/,
      run: () =>
        method === "from"
          ? Tensor.from(gpu, data as number[], shape as number[])
          : Tensor[method](gpu, shape as number[]),
      async verify(result) {
        const t = result as Tensor;
        assertEquals([...t.shape], shape);
        const values = await t.read();
        if (method === "from") {
          const want = Float32Array.from(data as number[]);
          assert(want.every((v, i) => Object.is(v, values[i])), "Tensor.from holds its data");
        }
        if (method === "zeros") assert(values.every((v) => v === 0), "zeros");
        t.dispose();
      },
    };
  });
}

// ---------------------------------------------------------------------------
// Running the cases.

interface Tally {
  refused: number;
  accepted: number;
}

async function runCases(
  cases: Case[],
  states: Map<Sequential, StateDict>,
  failures: string[],
  tally: Record<string, Tally>,
): Promise<void> {
  for (const c of cases) {
    const before = c.grads && c.model ? await c.model.gradDict() : null;
    // Recorded work holds its parameter buffers until submitted: submit before counting.
    gpu.flush();
    const live = gpu.stats().liveBuffers;
    let result: unknown;
    let error: unknown = null;
    let threw = false;
    try {
      result = await c.run();
    } catch (e) {
      threw = true;
      error = e;
    }
    const t = tally[c.target] ??= { refused: 0, accepted: 0 };
    const fail = (why: string) => failures.push(`${c.label}: ${why}`);
    if (threw && c.userError !== undefined) {
      if (error !== c.userError) fail(`expected the user's own exception, got ${error}`);
      t.accepted++;
      if (c.model) states.set(c.model, await c.model.stateDict());
      continue;
    }
    if (threw) {
      t.refused++;
      if (!(error instanceof KanError)) {
        fail(`not a KanError: ${(error as Error)?.constructor?.name}: ${(error as Error)?.message ?? error}`);
        continue;
      }
      if (c.valid) fail(`refused a valid call: ${error.message}`);
      else if (c.mention && !c.mention.test(error.message)) {
        fail(`the message does not name ${c.mention}: ${error.message}`);
      }
      gpu.flush();
      if (gpu.stats().liveBuffers !== live) fail(`leaked ${gpu.stats().liveBuffers - live} buffers`);
      if (c.model) {
        if (!stateEqual(await c.model.stateDict(), states.get(c.model)!)) fail("the weights changed");
        if (before && !stateEqual(await c.model.gradDict(), before)) fail("the gradients changed");
      }
      continue;
    }
    t.accepted++;
    if (!c.valid) {
      fail("silently accepted");
      (result as { dispose?: () => void })?.dispose?.();
      if (c.model) states.set(c.model, await c.model.stateDict());
      continue;
    }
    if (c.userError !== undefined) fail("the user's exception was swallowed");
    try {
      await c.verify?.(result);
    } catch (e) {
      fail(`wrong result: ${(e as Error).message}`);
    }
    if (c.model) states.set(c.model, await c.model.stateDict());
  }
}

function wrongTensors(): Pick<Fixture, "badX" | "badY" | "badDy"> {
  const disposed = (shape: number[]) => {
    const t = Tensor.zeros(gpu, shape);
    t.dispose();
    return t;
  };
  return {
    badX: {
      nan: Tensor.from(gpu, [0.1, Number.NaN, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8], [4, 2]),
      disposed: disposed([4, 2]),
      wide: Tensor.zeros(gpu, [4, 3]),
      flat: Tensor.zeros(gpu, [8]),
      empty: Tensor.zeros(gpu, [0, 2]),
      other: Tensor.zeros(other, [4, 2]),
    },
    badY: {
      nan: Tensor.from(gpu, [0, Infinity, 0, 0], [4, 1]),
      disposed: disposed([4, 1]),
      short: Tensor.zeros(gpu, [3, 1]),
      ids: Tensor.from(gpu, [0, 1, 0, 0], [4]),
      other: Tensor.zeros(other, [4, 1]),
    },
    badDy: {
      nan: Tensor.from(gpu, [1, Number.NaN, 1, 1], [4, 1]),
      disposed: disposed([4, 1]),
      wide: Tensor.zeros(gpu, [4, 2]),
      flat: Tensor.zeros(gpu, [4]),
      other: Tensor.zeros(other, [4, 1]),
    },
  };
}

Deno.test("api fuzz: every generated bad call is a KanError that leaves the weights alone; valid ones work", async () => {
  const start = performance.now();
  const models: Record<string, Sequential> = {};
  for (const { basis } of MEMBERS) {
    models[basis] = kan(gpu, [2, 3, 1], { basis, seed: 1 });
  }
  // In eval mode a forward pass leaves WavKAN's running statistics alone, so a refused call that follows
  // one (trace, then a bad backward) must leave every state entry as it was; fit switches to training mode.
  models.wavelet.eval();
  const trainable: Record<string, string[]> = {};
  const states = new Map<Sequential, StateDict>();
  for (const [name, model] of Object.entries(models)) {
    trainable[name] = Object.keys(await model.gradDict());
    states.set(model, await model.stateDict());
  }
  const fixture: Fixture = {
    models,
    x: Tensor.from(gpu, [0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.7, -0.8], [4, 2]),
    y: Tensor.from(gpu, [0.5, -0.5, 0.25, 0], [4, 1]),
    ids: Tensor.from(gpu, [0, 0, 0, 0], [4]),
    dy: Tensor.from(gpu, [1, -1, 0.5, 0.25], [4, 1]),
    trainable,
    optimizers: [new SGD({ lr: 0.01 }), new Adam({ lr: 1e-3 }), new LBFGS({ maxIter: 2 })],
    ...wrongTensors(),
  };
  const layers = {
    l23: new Linear(gpu, 2, 3),
    l31: new Linear(gpu, 3, 1),
    l21: new Linear(gpu, 2, 1),
    l32: new Linear(gpu, 3, 2),
    lOther: new Linear(other, 2, 3),
  };
  const cases = [
    ...layerCases(430),
    ...optimizerCases(220),
    ...kanCases(140),
    ...sequentialCases(40, layers),
    ...fitCases(260, fixture),
    ...evaluateCases(80, fixture),
    ...forwardCases(90, fixture),
    ...backwardCases(80, fixture),
    ...loadCases(260, fixture, states),
    ...readCases(13, fixture, states),
    ...tensorCases(80),
  ];
  const failures: string[] = [];
  const tally: Record<string, Tally> = {};
  await runCases(cases, states, failures, tally);
  await new Promise((resolve) => setTimeout(resolve, 50));

  let refused = 0;
  for (const [target, t] of Object.entries(tally)) {
    console.log(
      `  ${target.padEnd(18)} ${String(t.refused).padStart(4)} refused  ${
        String(t.accepted).padStart(4)
      } valid`,
    );
    refused += t.refused;
  }
  console.log(
    `  ${cases.length} calls, ${refused} refused, in ${((performance.now() - start) / 1000).toFixed(1)} s`,
  );
  assert(refused >= 1000, `${cases.length} calls, only ${refused} of them bad calls (refused)`);
  assert(failures.length === 0, `${failures.length} wrong outcomes:\n${failures.slice(0, 40).join("\n")}`);
  assertEquals(unhandled, [], "unhandled rejections");

  for (const t of [fixture.x, fixture.y, fixture.ids, fixture.dy]) t.dispose();
  for (const group of [fixture.badX, fixture.badY, fixture.badDy]) {
    for (const t of Object.values(group)) t.dispose();
  }
  for (const model of Object.values(models)) model.dispose();
  for (const layer of Object.values(layers)) layer.dispose();
  for (const optimizer of fixture.optimizers) optimizer.dispose();
});

Deno.test("api fuzz: after gpu.destroy() every method is a KanError, and nothing is left unhandled", async () => {
  const model = kan(other, [2, 3, 1], { basis: "mlp" });
  const x = Tensor.from(other, [0.1, 0.2, 0.3, 0.4], [2, 2]);
  const y = Tensor.from(other, [0, 1], [2, 1]);
  const dy = Tensor.from(other, [1, 1], [2, 1]);
  const trace = model.trace(x);
  const dict = await model.stateDict();
  const optimizer = new Adam();
  other.destroy();
  const calls: [string, () => unknown][] = [
    ["forward", () => model.forward(x)],
    ["trace", () => model.trace(x)],
    ["backward", () => trace.backward(dy, true)],
    ["fit", () => model.fit({ x, y, loss: "mse", optimizer, steps: 1, progress: "none" })],
    ["evaluate", () => model.evaluate(x, y, "mse")],
    ["stateDict", () => model.stateDict()],
    ["gradDict", () => model.gradDict()],
    ["loadStateDict", () => model.loadStateDict(dict)],
    ["new Linear", () => new Linear(other, 2, 3)],
    ["new BSplineKAN", () => new BSplineKAN(other, 2, 3)],
    ["kan", () => kan(other, [2, 1], { basis: "relu" })],
    ["Tensor.read", () => x.read()],
  ];
  for (const [name, call] of calls) {
    let error: unknown = null;
    try {
      await call();
    } catch (e) {
      error = e;
    }
    assert(error instanceof KanError, `${name} after destroy: ${error}`);
    assert(/destroyed/.test(error.message), `${name}: ${error.message}`);
  }
  // Releasing what lived on it stays possible.
  trace.release();
  model.dispose();
  optimizer.dispose();
  await new Promise((resolve) => setTimeout(resolve, 50));
  assertEquals(unhandled, [], "unhandled rejections");
});

Deno.test("api fuzz teardown", () => {
  assertEquals(gpu.stats().liveBuffers, 0);
  gpu.destroy();
});
