/**
 * Exact answers at shapes past one invocation's loop-trip budget (llvmpipe,
 * the software Vulkan driver, silently ends an invocation's loops after 65,535
 * iterations: a kernel that loops longer returns a sum of part of its input).
 * Every layer class on both kernel paths, inputs up to 70,000 wide, batches
 * up to 100,000, grids up to G = 50, and the losses over 70,000 classes.
 *
 * - B-spline KAN with every spline weight at its Greville abscissa (B-splines
 *   reproduce linear functions): y = sum_i x_i exactly, dx = out, and with
 *   dy = 1 the spline-weight gradient sums over j to the batch size (partition
 *   of unity) and the scaler gradient is sum_b x_bi.
 * - Linear with ones: y = sum_i x_i, dx = out, dW = sum_b x, db = batch.
 * - FastKAN, FasterKAN, ReLU-KAN with every weight 1: the float64 reference.
 *
 * A truncated sum misses a large fraction of the answer; the bounds are float32
 * summation error with a wide margin (1e-4 relative to the largest value).
 */

import { BSplineKAN, FasterKAN, FastKAN, type Layer, Linear, ReLUKAN, Tensor } from "../mod.ts";
import { kernelPath } from "../src/layers/basis_linear.ts";
import { directBlock, forwardPlan } from "../src/layers/split_plan.ts";
import { recordLoss } from "../src/train/loss.ts";
import { assert, assertEquals } from "./assert.ts";
import { assertClose, testGpu } from "./helpers.ts";

const gpu = await testGpu();
const BOUND = 1e-4;
const PATHS = ["tiled", "direct"] as const;

/** Inputs in [lo, hi), a fixed irregular pattern. */
function inputs(batch: number, inDim: number, lo: number, hi: number): Float32Array {
  return Float32Array.from(
    { length: batch * inDim },
    (_, e) => lo + (hi - lo) * ((e * 0.6180339887 + Math.floor(e / inDim) * 0.3819660113) % 1),
  );
}

/** Sums of x over its inputs (per row) and over its batch (per input). */
function sums(x: Float32Array, batch: number, inDim: number): { rows: Float64Array; columns: Float64Array } {
  const rows = new Float64Array(batch);
  const columns = new Float64Array(inDim);
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < inDim; i++) {
      rows[b] += x[b * inDim + i];
      columns[i] += x[b * inDim + i];
    }
  }
  return { rows, columns };
}

/** Runs x through the layer with dy = 1; returns y, dx and the gradients. */
async function run(layer: Layer, x: Float32Array, batch: number) {
  const xt = Tensor.from(gpu, x, [batch, layer.inFeatures]);
  const dy = Tensor.from(gpu, new Float32Array(batch * layer.outFeatures).fill(1), [
    batch,
    layer.outFeatures,
  ]);
  const trace = layer.trace(xt);
  const dxt = trace.backward(dy, true)!;
  const [y, dx, grads] = [await trace.y.read(), await dxt.read(), await layer.gradDict()];
  trace.release();
  for (const t of [xt, dy, dxt, trace.y]) t.dispose();
  return { y, dx, grads };
}

interface SplineCase {
  inDim: number;
  outDim: number;
  batch: number;
  gridSize: number;
  bias?: boolean;
}

const splineCases: SplineCase[] = [
  { inDim: 784, outDim: 10, batch: 64, gridSize: 5 },
  { inDim: 70000, outDim: 1, batch: 2, gridSize: 5 },
  { inDim: 3000, outDim: 2, batch: 4, gridSize: 50 },
  { inDim: 2, outDim: 3, batch: 100000, gridSize: 50, bias: true },
];

for (const c of splineCases) {
  for (const path of PATHS) {
    const name = `${c.inDim}→${c.outDim} B=${c.batch} G=${c.gridSize}`;
    Deno.test(`exact sums, ${path}: BSplineKAN ${name}, Greville weights: y = sum x, dx = out, grads`, async () => {
      kernelPath.mode = path;
      const layer = new BSplineKAN(gpu, c.inDim, c.outDim, {
        gridSize: c.gridSize,
        baseActivation: "zero",
        bias: c.bias ?? false,
      });
      const nb = layer.basis.count;
      const dims = { batch: c.batch, inDim: c.inDim, outDim: c.outDim };
      const block = path === "direct" ? directBlock(c.batch, c.outDim) : null;
      assert(
        forwardPlan(layer.basis, dims, block).parts > 1 || c.batch > 65535,
        "the shape must need a split",
      );
      const dict = await layer.stateDict();
      const k = layer.options.splineOrder;
      const knots = dict.grid.data.subarray(0, nb + k + 1);
      const greville = Float64Array.from({ length: nb }, (_, j) => {
        let s = 0;
        for (let m = 1; m <= k; m++) s += knots[j + m];
        return s / k;
      });
      dict.spline_weight.data.forEach((_, e) => dict.spline_weight.data[e] = greville[e % nb]);
      dict.spline_scaler.data.fill(1);
      layer.loadStateDict(dict);

      const x = inputs(c.batch, c.inDim, 0.05, 0.95);
      const { rows, columns } = sums(x, c.batch, c.inDim);
      const { y, dx, grads } = await run(layer, x, c.batch);
      const wantY = Float64Array.from(y, (_, e) => rows[Math.floor(e / c.outDim)]);
      assertClose("y = sum_i x_i", y, wantY, BOUND, "max");
      assertClose("dx = out", dx, new Float64Array(dx.length).fill(c.outDim), BOUND, "max");
      const unity = new Float64Array(c.outDim * c.inDim);
      grads.spline_weight.data.forEach((v, e) => unity[Math.floor(e / nb)] += v);
      assertClose("sum_j grad spline_weight = batch", unity, unity.map(() => c.batch), BOUND, "max");
      const wantScaler = Float64Array.from(grads.spline_scaler.data, (_, e) => columns[e % c.inDim]);
      assertClose("grad spline_scaler = sum_b x", grads.spline_scaler.data, wantScaler, BOUND, "max");
      if (c.bias) {
        assertClose("grad bias = batch", grads.bias.data, [c.batch, c.batch, c.batch], BOUND, "max");
      }
      layer.dispose();
      kernelPath.mode = "auto";
    });
  }
}

const linearCases = [
  { inDim: 70000, outDim: 1, batch: 3 },
  { inDim: 3, outDim: 2, batch: 100000 },
];

for (const c of linearCases) {
  for (const path of PATHS) {
    Deno.test(`exact sums, ${path}: Linear ${c.inDim}→${c.outDim} B=${c.batch}, ones: y = sum x, dx, dW, db`, async () => {
      kernelPath.mode = path;
      const layer = new Linear(gpu, c.inDim, c.outDim);
      const dict = await layer.stateDict();
      dict.weight.data.fill(1);
      dict.bias.data.fill(0);
      layer.loadStateDict(dict);
      const x = inputs(c.batch, c.inDim, 0.05, 0.95);
      const { rows, columns } = sums(x, c.batch, c.inDim);
      const { y, dx, grads } = await run(layer, x, c.batch);
      assertClose("y", y, Float64Array.from(y, (_, e) => rows[Math.floor(e / c.outDim)]), BOUND, "max");
      assertClose("dx", dx, new Float64Array(dx.length).fill(c.outDim), BOUND, "max");
      const wantW = Float64Array.from(grads.weight.data, (_, e) => columns[e % c.inDim]);
      assertClose("grad weight = sum_b x", grads.weight.data, wantW, BOUND, "max");
      assertClose(
        "grad bias = batch",
        grads.bias.data,
        new Float64Array(c.outDim).fill(c.batch),
        BOUND,
        "max",
      );
      layer.dispose();
      kernelPath.mode = "auto";
    });
  }
}

interface ReferenceCase {
  name: string;
  batch: number;
  layer: () => Layer;
  range: [number, number];
}

const referenceCases: ReferenceCase[] = [
  {
    name: "FastKAN 30000→2 B=3 (LayerNorm over 30,000 features)",
    batch: 3,
    layer: () => new FastKAN(gpu, 30000, 2),
    range: [-1, 1],
  },
  {
    name: "FastKAN 3→2 B=100000",
    batch: 100000,
    layer: () => new FastKAN(gpu, 3, 2),
    range: [-2, 2],
  },
  {
    name: "FasterKAN 25000→3 B=2",
    batch: 2,
    layer: () => new FasterKAN(gpu, 25000, 3),
    range: [-1.5, 1.5],
  },
  {
    name: "ReLUKAN 20000→2 B=3",
    batch: 3,
    layer: () => new ReLUKAN(gpu, 20000, 2),
    range: [0, 1],
  },
  {
    name: "ReLUKAN 2→3 B=100000 g=10",
    batch: 100000,
    layer: () => new ReLUKAN(gpu, 2, 3, { g: 10 }),
    range: [0, 1],
  },
];

for (const c of referenceCases) {
  for (const path of PATHS) {
    Deno.test(`exact sums, ${path}: ${c.name}, weights 1, against the float64 reference`, async () => {
      kernelPath.mode = path;
      const layer = c.layer();
      const dict = await layer.stateDict();
      for (const key of ["spline_linear.weight", "equal_size_conv.weight"]) dict[key]?.data.fill(1);
      layer.loadStateDict(dict);
      const x = inputs(c.batch, layer.inFeatures, c.range[0], c.range[1]);
      const { y, dx, grads } = await run(layer, x, c.batch);
      const state = Object.fromEntries(Object.entries(dict).map(([key, v]) => [key, v.data]));
      const ref = layer.reference(state).forward(x, c.batch);
      const want = ref.backward(new Float64Array(c.batch * layer.outFeatures).fill(1));
      assertClose("y", y, ref.y, BOUND, "max");
      assertClose("dx", dx, want.dx, BOUND, "max");
      for (const [key, g] of Object.entries(grads)) {
        assertClose(`grad ${key}`, g.data, want.grads[key], BOUND, "max");
      }
      layer.dispose();
      kernelPath.mode = "auto";
    });
  }
}

Deno.test("exact sums: cross entropy over 70,000 classes (the label past the first chunk), MSE over 300,000 values", async () => {
  const rows = 3;
  const cols = 70000;
  const labels = [50001, 3, 69999];
  const z = new Float32Array(rows * cols);
  labels.forEach((t, r) => z[r * cols + t] = 5);
  const out = Tensor.zeros(gpu, [2]);
  const zt = Tensor.from(gpu, z, [rows, cols]);
  const target = Tensor.from(gpu, labels, [rows]);
  const dz = recordLoss(gpu, "crossEntropy", zt, target, out.binding, 0, 1);
  const [loss, accuracySum] = await out.read();
  const lse = Math.log(cols - 1 + Math.exp(5));
  assertClose("loss", [loss], [lse - 5], BOUND, "max");
  assertEquals(accuracySum, rows);
  const g = await dz.read();
  const want = Float64Array.from(g, (_, e) => {
    const [r, c] = [Math.floor(e / cols), e % cols];
    return ((c === labels[r] ? Math.exp(5) : 1) / Math.exp(lse) - (c === labels[r] ? 1 : 0)) / rows;
  });
  assertClose("dz", g, want, BOUND, "max");

  const n = 100000;
  const ones = Tensor.from(gpu, new Float32Array(3 * n).fill(1), [n, 3]);
  const zeros = Tensor.zeros(gpu, [n, 3]);
  const dm = recordLoss(gpu, "mse", ones, zeros, out.binding, 0);
  assertClose("mse", [(await out.read())[0]], [1], BOUND, "max");
  const gm = await dm.read();
  assertClose("mse dz", gm, new Float64Array(gm.length).fill(2 / (3 * n)), BOUND, "max");
  for (const t of [out, zt, target, dz, ones, zeros, dm]) t.dispose();
});

Deno.test("exact sums teardown: nothing left live", () => {
  assertEquals(gpu.stats().liveBuffers, 0);
  gpu.destroy();
});
