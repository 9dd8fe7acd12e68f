/**
 * Speed of every layer type, forward and forward + backward, at two shapes:
 * [784, 64, 10] with batch 512 (MNIST-like) and [1000, 1000, 1] with batch 100
 * (the independent KAN benchmark's shape). The MLP baseline's hidden width is
 * chosen so that it has about as many parameters as the B-spline KAN.
 *
 * One measured iteration records PASSES passes (forward, or forward and
 * backward) into one submit and then waits for the GPU once, so Deno's ~11 ms
 * GPU→CPU wait is paid once per PASSES passes; divide the time by PASSES for
 * one pass. PASSES is 20 on a GPU and 1 on a software adapter (lavapipe),
 * whose figures are for checking that the benchmark runs, never for speed.
 *
 * Run: deno task bench (or deno bench --allow-env bench/layers_bench.ts)
 */

import { Gpu, kan, type KanOptions, type Sequential, Tensor } from "../mod.ts";

const gpu = await Gpu.request();
const software = gpu.adapterInfo.isFallbackAdapter;
const PASSES = software ? 1 : 20;
const runs = software ? { n: 2, warmup: 1 } : { n: 30, warmup: 3 };

function countParameters(model: Sequential): number {
  return model.parameters().filter((p) => p.trainable).reduce((s, p) => s + p.size, 0);
}

/** The MLP hidden width whose parameter count is closest to `target` for [in, h, out]. */
function mlpWidth(inDim: number, outDim: number, target: number): number {
  return Math.max(1, Math.round((target - outDim) / (inDim + outDim + 1)));
}

function random(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1);
}

const shapes = [
  { name: "[784, 64, 10] batch 512", widths: [784, 64, 10], batch: 512 },
  { name: "[1000, 1000, 1] batch 100", widths: [1000, 1000, 1], batch: 100 },
];
const members: [string, Omit<KanOptions, "seed">][] = [
  ["BSplineKAN (G=5, k=3)", { basis: "bspline" }],
  ["FastKAN (8 grids)", { basis: "fast" }],
  ["FasterKAN (8 grids)", { basis: "faster" }],
  ["ReLUKAN (g=5, k=3)", { basis: "relu" }],
  ["WavKAN (Mexican hat)", { basis: "wavelet" }],
  ["ChebyKAN (degree 4)", { basis: "chebyshev" }],
  ["JacobiKAN (degree 3, a = b = 1)", { basis: "jacobi" }],
  ["FourierKAN (gridsize 5)", { basis: "fourier" }],
  ["RationalKAN (8 groups, GELU start)", { basis: "rational" }],
];

for (const shape of shapes) {
  const [inDim, , outDim] = shape.widths;
  const x = Tensor.from(gpu, random(shape.batch * inDim, 1), [shape.batch, inDim]);
  const dy = Tensor.from(gpu, random(shape.batch * outDim, 2), [shape.batch, outDim]);
  const bsplineParams = countParameters(kan(gpu, shape.widths, { basis: "bspline" }));
  const hidden = mlpWidth(inDim, outDim, bsplineParams);
  const models: [string, Sequential][] = [
    [`MLP [${inDim}, ${hidden}, ${outDim}] SiLU`, kan(gpu, [inDim, hidden, outDim], { basis: "mlp" })],
    ...members.map(([label, options]) =>
      [label, kan(gpu, shape.widths, options as KanOptions)] as [string, Sequential]
    ),
  ];
  for (const [label, model] of models) {
    const params = countParameters(model);
    Deno.bench(`${label}: forward ×${PASSES} (${params} params)`, {
      group: `${shape.name} forward`,
      baseline: label.startsWith("MLP"),
      ...runs,
    }, async () => {
      for (let p = 0; p < PASSES; p++) model.forward(x).dispose();
      await gpu.sync();
    });
    Deno.bench(`${label}: forward+backward ×${PASSES} (${params} params)`, {
      group: `${shape.name} forward+backward`,
      baseline: label.startsWith("MLP"),
      ...runs,
    }, async () => {
      for (let p = 0; p < PASSES; p++) {
        const trace = model.trace(x);
        trace.backward(dy, false);
        trace.release();
        trace.y.dispose();
      }
      await gpu.sync();
    });
  }
}
