/**
 * The grid sweep: G = 5, 20, 50, 200 for every basis at [784, 64, 10], batch
 * 512, forward and backward (one pass per measured iteration and one wait).
 * The number of functions per input grows with G for every member (G + k
 * B-splines, G + k ReLU bumps, G + 3 Gaussians or switches); the B-spline's
 * direct kernels visit only the k + 1 that are non-zero at each input.
 *
 * Run: deno task bench (or deno bench --allow-env bench/grid_sweep_bench.ts)
 */

import { Gpu, kan, type KanOptions, MEMBERS, Tensor } from "../mod.ts";

const gpu = await Gpu.request();
const software = gpu.adapterInfo.isFallbackAdapter;
const runs = software ? { n: 1, warmup: 0 } : { n: 20, warmup: 2 };
const WIDTHS = [784, 64, 10];
const BATCH = 512;

function random(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1);
}

const x = Tensor.from(gpu, random(BATCH * WIDTHS[0], 1), [BATCH, WIDTHS[0]]);
const dy = Tensor.from(gpu, random(BATCH * WIDTHS[2], 2), [BATCH, WIDTHS[2]]);
// Every member with a grid (or degree), configured as the fitting experiment configures it for G.
const members: [string, (g: number) => KanOptions][] = MEMBERS.filter((m) => m.gridOption !== null).map((
  m,
) => [m.className, (g) => ({ basis: m.basis, ...m.fittingOptions(g) }) as KanOptions]);

for (const [name, options] of members) {
  for (const g of [5, 20, 50, 200]) {
    const model = kan(gpu, WIDTHS, options(g));
    Deno.bench(`${name} G=${g}: forward+backward`, { group: name, baseline: g === 5, ...runs }, async () => {
      const trace = model.trace(x);
      trace.backward(dy, false);
      trace.release();
      trace.y.dispose();
      await gpu.sync();
    });
  }
}
