/**
 * Finite-difference checks of the float64 references: every basis's d/dx
 * (and d/dparam), and every layer's gradients with respect to every parameter
 * and input, at inputs outside the grid, exactly on knots, and at ReLU-KAN's
 * interval ends.
 */

import { BSplineKAN, FasterKAN, FastKAN, type Gpu, type Layer, Linear, ReLUKAN } from "../mod.ts";
import type { ReferenceLayer } from "../mod.ts";
import type { Basis } from "../src/basis/basis.ts";
import { bsplineBasis, uniformKnots } from "../src/basis/bspline.ts";
import { gaussianRbfBasis } from "../src/basis/gaussian_rbf.ts";
import { reluBumpBasis, reluPhases } from "../src/basis/relu_bump.ts";
import { identityBasis, siluBasis } from "../src/basis/single.ts";
import { tanhSwitchBasis } from "../src/basis/tanh_switch.ts";
import { assert } from "./assert.ts";
import { seededUniform, testGpu } from "./helpers.ts";

const H = 1e-6;

function central(f: (v: number) => number, v: number): number {
  return (f(v + H) - f(v - H)) / (2 * H);
}

/**
 * Compares the analytic derivative `df(v0)` with the central difference of `f`.
 * Where f' is continuous but f'' jumps (a knot of an order-2 spline, a ReLU-KAN
 * phase end) the central difference is off by O(H * |f''|), so the bound adds
 * H times f'' estimated from the analytic derivative at v0 +- H. A wrong
 * derivative is off by far more.
 */
function checkDerivative(
  label: string,
  df: (v: number) => number,
  f: (v: number) => number,
  v0: number,
): void {
  const analytic = df(v0);
  const numeric = central(f, v0);
  const curvature = Math.abs(df(v0 + H) - df(v0 - H)) / (2 * H);
  const bound = 1e-6 * Math.max(1, Math.abs(f(v0))) + H * curvature;
  const err = Math.abs(analytic - numeric);
  if (!(err <= bound)) {
    throw new Error(
      `${label}: analytic ${analytic} vs finite difference ${numeric} (error ${err}, bound ${bound})`,
    );
  }
}

interface BasisCase {
  basis: Basis;
  data: Float64Array;
  inDim: number;
  points: number[];
}

function bsplineCase(g: number, k: number): BasisCase {
  const knots = uniformKnots(g, k, [-1, 1]);
  // Outside the extended grid, exactly on every knot (where the spline is C^1 for k >= 2), and between.
  const onKnots = k >= 2 ? [...knots] : [];
  return {
    basis: bsplineBasis(g, k),
    data: Float64Array.from(knots),
    inDim: 1,
    points: [-3, -1.7, 2.5, ...onKnots, -0.93, -0.31, 0.05, 0.77, 1.04],
  };
}

function reluCase(g: number, k: number): BasisCase {
  const { low, high } = reluPhases(g, k);
  const data = new Float64Array(2 * (g + k));
  data.set(low, 0);
  data.set(high, g + k);
  // Interval ends s_j and e_j themselves, outside [s_0, e_last], and inside.
  return { basis: reluBumpBasis(g, k), data, inDim: 1, points: [...low, ...high, -2, 3, 0.13, 0.51, 0.86] };
}

const basisCases: Record<string, BasisCase> = {
  "bspline G=5 k=3": bsplineCase(5, 3),
  "bspline G=3 k=2": bsplineCase(3, 2),
  "bspline G=7 k=5": bsplineCase(7, 5),
  "bspline G=4 k=1": bsplineCase(4, 1),
  "gaussian rbf": {
    basis: gaussianRbfBasis(8, 4 / 7),
    data: Float64Array.from({ length: 8 }, (_, j) => -2 + 4 * j / 7),
    inDim: 1,
    points: [-5, -2, -1.3, 0, 0.4, 2, 6],
  },
  "tanh switch": {
    basis: tanhSwitchBasis(8, 0.5),
    data: Float64Array.from({ length: 8 }, (_, j) => -1.2 + 2.4 * j / 7),
    inDim: 1,
    points: [-40, -1.2, -0.3, 0, 0.77, 1.2, 40],
  },
  "relu bump g=5 k=3": reluCase(5, 3),
  "relu bump g=3 k=1": reluCase(3, 1),
  "silu": { basis: siluBasis, data: new Float64Array(0), inDim: 1, points: [-30, -2, -0.1, 0, 0.3, 4, 30] },
  "identity": { basis: identityBasis, data: new Float64Array(0), inDim: 1, points: [-2, 0, 3] },
};

for (const [name, c] of Object.entries(basisCases)) {
  Deno.test(`finite differences: ${name} basis, d/dx and d/dparams at special points`, () => {
    const { basis, data, inDim } = c;
    let checked = 0;
    let nonzero = 0;
    for (const x of c.points) {
      for (let j = 0; j < basis.count; j++) {
        const value = (v: number) => basis.value(0, j, v, data, inDim);
        const derivative = (v: number) => basis.dx(0, j, v, data, inDim);
        if (derivative(x) !== 0) nonzero++;
        checkDerivative(`${name} d/dx j=${j} x=${x}`, derivative, value, x);
        for (let q = 0; q < basis.paramCount; q++) {
          const at = q * inDim * basis.count + j;
          const withParam = (v: number) => {
            const d = Float64Array.from(data);
            d[at] = v;
            return d;
          };
          checkDerivative(
            `${name} d/dparam${q} j=${j} x=${x}`,
            (v) => basis.dparam(0, j, x, q, withParam(v), inDim),
            (v) => basis.value(0, j, x, withParam(v), inDim),
            data[at],
          );
        }
        checked++;
      }
    }
    assert(
      nonzero > checked / 10,
      `${name}: too few non-zero derivatives (${nonzero}/${checked}) to mean anything`,
    );
  });
}

Deno.test("finite differences: an order-1 B-spline at a knot has the right derivative (half-open intervals)", () => {
  const c = bsplineCase(4, 1);
  const knot = c.data[3];
  for (let j = 0; j < c.basis.count; j++) {
    const f = (v: number) => c.basis.value(0, j, v, c.data, 1);
    const right = (f(knot + H) - f(knot)) / H;
    const analytic = c.basis.dx(0, j, knot, c.data, 1);
    assert(
      Math.abs(analytic - right) <= 1e-6,
      `order 1 j=${j} at knot ${knot}: ${analytic} vs right difference ${right}`,
    );
  }
});

const gpu: Gpu = await testGpu();
const random = seededUniform(11);

function layerCases(): Record<string, Layer> {
  return {
    "BSplineKAN": new BSplineKAN(gpu, 3, 2, { seed: 1 }),
    "BSplineKAN k=2 G=4, identity base, bias": new BSplineKAN(gpu, 2, 3, {
      splineOrder: 2,
      gridSize: 4,
      baseActivation: "identity",
      bias: true,
      seed: 2,
    }),
    "BSplineKAN no base": new BSplineKAN(gpu, 2, 2, { baseActivation: "zero", seed: 3 }),
    "FastKAN": new FastKAN(gpu, 3, 2, { seed: 4 }),
    "FastKAN no norm, no base": new FastKAN(gpu, 1, 2, {
      useLayerNorm: false,
      useBaseUpdate: false,
      seed: 5,
    }),
    "FasterKAN": new FasterKAN(gpu, 3, 2, { seed: 6 }),
    "ReLUKAN": new ReLUKAN(gpu, 2, 3, { seed: 7 }),
    "Linear silu": new Linear(gpu, 3, 2, { activation: "silu", seed: 8 }),
    "Linear tanh": new Linear(gpu, 3, 2, { activation: "tanh", seed: 9 }),
  };
}

/** L = sum(y * dy): its gradient is what backward(dy) returns. */
function objective(ref: ReferenceLayer, x: ArrayLike<number>, batch: number, dy: Float64Array): number {
  return ref.forward(x, batch).y.reduce((s, v, i) => s + v * dy[i], 0);
}

for (const [name, layer] of Object.entries(layerCases())) {
  Deno.test(`finite differences: ${name} layer, every parameter and input`, async () => {
    const state = Object.fromEntries(
      Object.entries(await layer.stateDict()).map(([k, v]) => [k, Float64Array.from(v.data)]),
    );
    // Randomize the spline weights too, so that no gradient is trivially zero.
    for (const [k, v] of Object.entries(state)) {
      if (k.includes("weight") && !k.startsWith("layernorm")) v.forEach((_, i) => v[i] = random() - 0.5);
    }
    const batch = 4;
    const inDim = layer.inFeatures;
    // Inputs outside [-1, 1], on knots of the default B-spline grid (-0.2, 0.6), on ReLU-KAN phase ends (0, 0.4).
    const specials = [-2.5, 1.7, -0.2, 0.6, 0, 0.4, 0.2, 1.3];
    const x = Float64Array.from(
      { length: batch * inDim },
      (_, i) => specials[i % specials.length],
    );
    const dy = Float64Array.from({ length: batch * layer.outFeatures }, () => random() - 0.5);
    const ref = layer.reference(state);
    const { grads } = ref.forward(x, batch).backward(dy);
    const trainable = layer.parameters().filter((p) => p.trainable).map((p) => p.name);
    for (const key of trainable) {
      assert(grads[key] !== undefined, `${name}: no gradient for ${key}`);
      for (let e = 0; e < grads[key].length; e++) {
        const withEntry = (v: number) => {
          const s = { ...state, [key]: Float64Array.from(state[key]) };
          s[key][e] = v;
          return layer.reference(s);
        };
        checkDerivative(
          `${name} d/d${key}[${e}]`,
          (v) => withEntry(v).forward(x, batch).backward(dy).grads[key][e],
          (v) => objective(withEntry(v), x, batch, dy),
          state[key][e],
        );
      }
    }
    for (let e = 0; e < x.length; e++) {
      const withInput = (v: number) => {
        const xs = Float64Array.from(x);
        xs[e] = v;
        return xs;
      };
      checkDerivative(
        `${name} d/dx[${e}]`,
        (v) => ref.forward(withInput(v), batch).backward(dy).dx[e],
        (v) => objective(ref, withInput(v), batch, dy),
        x[e],
      );
    }
    layer.dispose();
  });
}

Deno.test("gradcheck teardown", () => {
  gpu.destroy();
});
