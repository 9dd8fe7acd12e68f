/**
 * ChebyKAN, JacobiKAN and FourierKAN: parity with their PyTorch originals
 * (tests/testdata/parity/family, made by tests/testdata/generate/generate_*.py),
 * finite differences of the float64 bases, GPU against float64 on random
 * shapes on both kernel paths (and with the loop-trip budget lowered so that
 * every kernel splits), an exact all-ones sum, the original's layouts at the
 * state-dict boundary, the fused step, and bad input.
 */

import { Adam, kan, KanError, type Layer, Tensor } from "../mod.ts";
import { ChebyKAN } from "../src/layers/cheby_kan.ts";
import { FourierKAN } from "../src/layers/fourier_kan.ts";
import { JacobiKAN } from "../src/layers/jacobi_kan.ts";
import { chebyshevBasis } from "../src/basis/chebyshev.ts";
import { fourierBasis } from "../src/basis/fourier.ts";
import { jacobiBasis } from "../src/basis/jacobi.ts";
import { fusedModel } from "../src/fused/fused_step.ts";
import { tripBudget } from "../src/gpu/loop_trips.ts";
import { kernelPath } from "../src/layers/basis_linear.ts";
import { partialLimit } from "../src/ops/reduce_rows.ts";
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { assertClose, seededUniform, testGpu } from "./helpers.ts";
import { assertMatchesVector, buildModel, type ParityVector, readVector, vectorFiles } from "./vectors.ts";

const TOLERANCE = 1e-4;

/** Asserts that `fn` throws a KanError whose message matches `pattern`. */
function assertKanError(fn: () => unknown, pattern: RegExp): void {
  const error = assertThrows(fn, pattern);
  assert(error instanceof KanError, `not a KanError: ${error}`);
}
const gpu = await testGpu();
const files = vectorFiles("family/");

Deno.test("family parity: three vectors per member", () => {
  for (const prefix of ["chebyshev_", "jacobi_", "fourier_"]) {
    assertEquals(files.filter((f) => f.startsWith(prefix)).length, 3, prefix);
  }
});

for (const file of files) {
  Deno.test(`family parity ${file}: y, every gradient and grad_x equal the original's (1e-4 of the max)`, async () => {
    const v: ParityVector & { original_grad_x_nan?: number[] } = await readVector(file, "family/");
    const model = buildModel(gpu, v);
    // Where the original's grad_x is NaN (ChebyKAN, tanh x = +-1), the vector holds the exact derivative.
    if (v.name === "chebyshev_saturated") assertEquals(v.original_grad_x_nan?.length, 7);
    await assertMatchesVector(gpu, model, v, TOLERANCE);
    // The state dict comes back in the original's layout, as loaded.
    const back = await model.stateDict();
    for (const [key, want] of Object.entries(v.state)) {
      assertClose(`state ${key}`, back[key].data, want.data, 0);
    }
    model.dispose();
  });
}

Deno.test("float64 bases: d/dx equals central differences; values at known points", () => {
  const bases = [
    chebyshevBasis(6),
    jacobiBasis(5, 1, 1),
    jacobiBasis(5, 0, 0),
    jacobiBasis(4, -0.5, 2.5),
    fourierBasis(4),
  ];
  let worst = 0;
  for (const basis of bases) {
    for (const x of [-3, -1.1, -0.3, 0, 0.2, 0.77, 2.5, 6]) {
      for (let j = 0; j < basis.count; j++) {
        const h = 1e-6;
        const fd = (basis.value(0, j, x + h, [], 1) - basis.value(0, j, x - h, [], 1)) / (2 * h);
        const d = Math.abs(fd - basis.dx(0, j, x, [], 1));
        worst = Math.max(worst, d / Math.max(1, Math.abs(fd)));
      }
    }
  }
  console.log(`  worst relative |fd - dx| = ${worst.toExponential(2)}`);
  assert(worst < 1e-7, `finite differences differ by ${worst}`);
  // T_3(t) = 4t^3 - 3t; Legendre P_2 = (3t^2 - 1)/2; Jacobi(1,1) P_2 = 15t^2/4 - 3/4; sin(2x).
  const t = Math.tanh(0.4);
  assertClose("T_3", [chebyshevBasis(3).value(0, 3, 0.4, [], 1)], [4 * t ** 3 - 3 * t], 1e-14);
  assertClose("P_2", [jacobiBasis(2, 0, 0).value(0, 2, 0.4, [], 1)], [(3 * t * t - 1) / 2], 1e-14);
  assertClose("P_2^(1,1)", [jacobiBasis(2, 1, 1).value(0, 2, 0.4, [], 1)], [15 * t * t / 4 - 0.75], 1e-14);
  assertClose("sin 2x", [fourierBasis(3).value(0, 4, 0.4, [], 1)], [Math.sin(0.8)], 1e-15);
  // The exact derivative where tanh saturates: finite and about 0.
  assert(Math.abs(chebyshevBasis(4).dx(0, 4, 40, [], 1)) < 1e-20, "T_4'(tanh 40) * sech^2 40 is ~0");
});

interface Case {
  name: string;
  batch: number;
  layer: () => Layer;
  range: [number, number];
}

const cases: Case[] = [
  { name: "ChebyKAN B=70 9→20 degree 4", batch: 70, layer: () => new ChebyKAN(gpu, 9, 20), range: [-4, 4] },
  {
    name: "JacobiKAN B=33 40→3 degree 7 a=0.5 b=-0.3",
    batch: 33,
    layer: () => new JacobiKAN(gpu, 40, 3, { degree: 7, a: 0.5, b: -0.3 }),
    range: [-3, 3],
  },
  {
    name: "FourierKAN B=5 30→70 G=6",
    batch: 5,
    layer: () => new FourierKAN(gpu, 30, 70, { gridsize: 6 }),
    range: [-5, 5],
  },
  {
    name: "FourierKAN B=17 7→2 G=3 no bias",
    batch: 17,
    layer: () => new FourierKAN(gpu, 7, 2, { gridsize: 3, addbias: false }),
    range: [-2, 2],
  },
];

for (const [index, c] of cases.entries()) {
  for (const mode of ["tiled", "direct"] as const) {
    for (const budget of [null, 2500]) {
      const split = budget ? `, loop budget ${budget}` : "";
      Deno.test(`GPU vs float64, ${mode}${split}: ${c.name}`, async () => {
        kernelPath.mode = mode;
        if (budget) {
          tripBudget.trips = budget;
          partialLimit.floats = 3000;
        }
        try {
          const random = seededUniform(700 + index);
          const layer = c.layer();
          const dict = await layer.stateDict();
          for (const p of layer.parameters()) {
            if (!p.trainable) continue;
            dict[p.name].data.forEach((v, i, a) => a[i] = v + random() - 0.5);
          }
          layer.loadStateDict(dict);
          const state = Object.fromEntries(Object.entries(dict).map(([k, v]) => [k, v.data]));
          const n = c.batch * layer.inFeatures;
          const xs = Float32Array.from(
            { length: n },
            () => c.range[0] + (c.range[1] - c.range[0]) * random(),
          );
          const dys = Float32Array.from({ length: c.batch * layer.outFeatures }, () => random() - 0.5);
          const x = Tensor.from(gpu, xs, [c.batch, layer.inFeatures]);
          const dy = Tensor.from(gpu, dys, [c.batch, layer.outFeatures]);
          const trace = layer.trace(x);
          const dx = trace.backward(dy, true)!;
          const [y, grads, gx] = [await trace.y.read(), await layer.gradDict(), await dx.read()];
          const want = layer.reference(state).forward(xs, c.batch);
          const back = want.backward(dys);
          assertClose("y", y, want.y, TOLERANCE, "max");
          for (const [key, g] of Object.entries(grads)) {
            assertClose(`grad ${key}`, g.data, back.grads[key], TOLERANCE, "max");
          }
          assertClose("grad x", gx, back.dx, TOLERANCE, "max");
          trace.release();
          for (const t of [x, dy, dx, trace.y]) t.dispose();
          layer.dispose();
        } finally {
          kernelPath.mode = "auto";
          tripBudget.trips = 60000;
          partialLimit.floats = Infinity;
        }
      });
    }
  }
}

Deno.test("exact sums past the loop-trip budget: all-ones coefficients, T_d(tanh 20) = 1, 9000 inputs", async () => {
  // 9000 inputs x 6 functions = 54,000 terms: the forward's reduction splits at the default budget.
  for (const mode of ["tiled", "direct"] as const) {
    kernelPath.mode = mode;
    const layer = new ChebyKAN(gpu, 9000, 2, { degree: 5 });
    const dict = await layer.stateDict();
    dict.cheby_coeffs.data.fill(1);
    layer.loadStateDict(dict);
    const x = Tensor.from(gpu, new Float32Array(2 * 9000).fill(20), [2, 9000]);
    const y = layer.forward(x);
    assertEquals([...await y.read()], [54000, 54000, 54000, 54000]);
    for (const t of [x, y]) t.dispose();
    layer.dispose();
  }
  kernelPath.mode = "auto";
});

Deno.test("layouts: the block holds [out, in * nBasis], the state dict the original's layout", async () => {
  const layer = new ChebyKAN(gpu, 2, 3, { degree: 1 });
  const data = Float32Array.from({ length: 12 }, (_, k) => k); // [in 2, out 3, 2]: c[i, o, d] = 6i + 2o + d
  layer.loadStateDict({
    cheby_coeffs: { shape: [2, 3, 2], data },
    arange: { shape: [2], data: Float32Array.of(0, 1) },
  });
  const block = await layer.coefficients.block.value.read();
  const held = block.slice(layer.coefficients.offset, layer.coefficients.offset + 12);
  // [out, in, d]: w[o, i, d] = 6i + 2o + d.
  assertEquals([...held], [0, 1, 6, 7, 2, 3, 8, 9, 4, 5, 10, 11]);
  assertEquals([...(await layer.stateDict()).cheby_coeffs.data], [...data]);
  const f = new FourierKAN(gpu, 2, 1, { gridsize: 2 });
  const fd = Float32Array.from({ length: 8 }, (_, k) => k); // [2, out 1, in 2, G 2]
  f.loadStateDict({
    fouriercoeffs: { shape: [2, 1, 2, 2], data: fd },
    bias: { shape: [1, 1], data: Float32Array.of(0.5) },
  });
  const fb = await f.coefficients.block.value.read();
  // [out, in, 2, G]: cos(x_0), cos(2 x_0), sin(x_0), sin(2 x_0), then input 1.
  assertEquals([...fb.slice(f.coefficients.offset, f.coefficients.offset + 8)], [0, 1, 4, 5, 2, 3, 6, 7]);
  layer.dispose();
  f.dispose();
});

Deno.test("initialization as the originals': normal std 1/(in (degree + 1)), randn / (sqrt(in) sqrt(G))", async () => {
  const std = (a: Float32Array) => Math.sqrt(a.reduce((s, v) => s + v * v, 0) / a.length);
  const c = new ChebyKAN(gpu, 20, 30, { degree: 4 });
  const j = new JacobiKAN(gpu, 10, 40, { seed: 3 });
  const f = new FourierKAN(gpu, 16, 30, { gridsize: 9 });
  const fs = new FourierKAN(gpu, 16, 30, { gridsize: 3, smoothInitialization: true });
  const cs = std((await c.stateDict()).cheby_coeffs.data);
  const js = std((await j.stateDict()).jacobi_coeffs.data);
  const fsd = await f.stateDict();
  const smooth = (await fs.stateDict()).fouriercoeffs.data;
  console.log(`  std: cheby ${cs}, jacobi ${js}, fourier ${std(fsd.fouriercoeffs.data)}`);
  assert(Math.abs(cs / (1 / 100) - 1) < 0.05, `cheby std ${cs}`);
  assert(Math.abs(js / (1 / 40) - 1) < 0.05, `jacobi std ${js}`);
  assert(Math.abs(std(fsd.fouriercoeffs.data) / (1 / 12) - 1) < 0.05, "fourier std");
  assert(fsd.bias.data.every((v) => v === 0), "bias starts at zero");
  const byK = [0, 1, 2].map((k) => std(smooth.filter((_, n) => n % 3 === k)));
  assert(Math.abs(byK[0] / 0.25 - 1) < 0.1 && Math.abs(byK[2] / (0.25 / 9) - 1) < 0.1, `smooth ${byK}`);
  for (const l of [c, j, f, fs]) l.dispose();
});

Deno.test("kan() builds each member; the fused step trains it as the layer kernels do", async () => {
  for (const basis of ["chebyshev", "jacobi", "fourier"] as const) {
    const fused = kan(gpu, [2, 4, 1], { basis, seed: 1 });
    const layered = kan(gpu, [2, 4, 1], { basis, seed: 1 });
    layered.fused = false;
    assert(fusedModel(gpu, fused) !== null, `${basis} fuses`);
    const random = seededUniform(5);
    const xs = Float32Array.from({ length: 64 }, () => random() * 2 - 1);
    const x = Tensor.from(gpu, xs, [32, 2]);
    const y = Tensor.from(
      gpu,
      Float32Array.from({ length: 32 }, (_, r) => Math.sin(3 * xs[2 * r]) * xs[2 * r + 1]),
      [32, 1],
    );
    const [oa, ob] = [new Adam({ lr: 1e-2 }), new Adam({ lr: 1e-2 })];
    const a = await fused.fit({ x, y, loss: "mse", optimizer: oa, steps: 20, logEvery: 5 });
    const b = await layered.fit({ x, y, loss: "mse", optimizer: ob, steps: 20, logEvery: 5 });
    assertClose(`${basis} fused vs layered losses`, a.loss, b.loss, 1e-5);
    assert(a.loss.at(-1)! < a.loss[0], `${basis} trains: ${a.loss}`);
    for (const t of [x, y, oa, ob]) t.dispose();
    fused.dispose();
    layered.dispose();
  }
});

Deno.test("bad input: KanError naming the option, the entry or the value", () => {
  const cases: [() => unknown, RegExp][] = [
    [() => new JacobiKAN(gpu, 2, 2, { a: -1 }), /JacobiKAN: option "a" must be a number > -1, got -1/],
    [() => new JacobiKAN(gpu, 2, 2, { b: NaN }), /option "b" must be a number > -1/],
    [() => new ChebyKAN(gpu, 2, 2, { degree: -1 }), /ChebyKAN: option "degree" must be/],
    [() => new ChebyKAN(gpu, 2, 2, { degree: 1.5 }), /option "degree"/],
    [() => new FourierKAN(gpu, 2, 2, { gridsize: 0 }), /FourierKAN: option "gridsize" must be/],
    [() => new FourierKAN(gpu, 2, 2, { addbias: 1 as never }), /option "addbias" must be true or false/],
    [() => new FourierKAN(gpu, 2, 2, { gridSize: 3 } as never), /gridSize/],
    [() => kan(gpu, [2, 1], { basis: "chebyshev", gridsize: 3 } as never), /belongs to basis "fourier"/],
  ];
  for (const [fn, pattern] of cases) assertKanError(fn, pattern);
});

Deno.test("bad state: a wrong arange or shape is refused and the layer keeps its values", async () => {
  const layer = new ChebyKAN(gpu, 2, 2, { degree: 2 });
  const before = await layer.stateDict();
  const bad = { ...before, arange: { shape: [3], data: Float32Array.of(0, 1, 3) } };
  assertKanError(() => layer.loadStateDict(bad), /"arange" must hold 0 \.\. 2.*got 3 at index 2/);
  const misshaped = { ...before, cheby_coeffs: { shape: [2, 2, 2], data: new Float32Array(8) } };
  assertKanError(
    () => layer.loadStateDict(misshaped),
    /"cheby_coeffs" has shape \[2, 2, 2\], expected \[2, 2, 3\]/,
  );
  const after = await layer.stateDict();
  assertEquals([...after.cheby_coeffs.data], [...before.cheby_coeffs.data]);
  layer.dispose();
});

Deno.test("coefficient KANs teardown: nothing left live", () => {
  assertEquals(gpu.stats().liveBuffers, 0);
  gpu.destroy();
});
