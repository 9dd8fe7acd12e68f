/**
 * Symbolic edges on the GPU (`SymbolicEdges`, `HybridKAN`): every function of
 * the library, its value, parameter gradients and input gradient against the
 * float64 reference (itself checked by finite differences); a hybrid layer
 * computes its numeric edges plus its symbolic ones, trains the symbols' four
 * parameters while the numeric weights of symbolic edges stay zero, and
 * round-trips through its state dict.
 */

import {
  Adam,
  BSplineKAN,
  edgeCurves,
  HybridKAN,
  KanError,
  Sequential,
  SymbolicEdges,
  Tensor,
} from "../mod.ts";
import { SYMBOLIC_EDGE_FUNCTIONS, symbolicEdge } from "../src/basis/symbolic_edge.ts";
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { assertClose, seededUniform, testGpu } from "./helpers.ts";

const gpu = await testGpu();
const ROWS = 20;

function rows(seed: number, n: number, lo: number, hi: number): Float32Array {
  const random = seededUniform(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * random());
}

async function readOnce(t: Tensor): Promise<Float32Array> {
  const values = await t.read();
  t.dispose();
  return values;
}

function asState(dict: Record<string, { data: Float32Array }>): Record<string, Float32Array> {
  return Object.fromEntries(Object.entries(dict).map(([k, e]) => [k, e.data]));
}

/** Output o uses function o on both inputs; a x + b stays in (0.15, 0.6), inside every function's domain. */
function everyFunction(): SymbolicEdges {
  const layer = new SymbolicEdges(gpu, 2, SYMBOLIC_EDGE_FUNCTIONS.length);
  SYMBOLIC_EDGE_FUNCTIONS.forEach((name, o) => {
    layer.setSymbol(0, o, { name, a: 0.5, b: 0.1, c: 1.5, d: -0.25 });
    layer.setSymbol(1, o, { name, a: -0.4, b: 0.55, c: -0.75, d: 0.5 });
  });
  return layer;
}

Deno.test("symbolic edges: the float64 derivatives of every function equal central differences within 1e-6", () => {
  const h = 1e-6;
  for (let id = 0; id < SYMBOLIC_EDGE_FUNCTIONS.length; id++) {
    const th = [id, 0.7, 0.2, 1.3, -0.4];
    const x = 0.35;
    const d = symbolicEdge.derivs(x, th, 0, 1);
    const shifted = (q: number, s: number) => {
      if (q < 0) return symbolicEdge.value(x + s, th, 0, 1);
      const t = [...th];
      t[q] += s;
      return symbolicEdge.value(x, t, 0, 1);
    };
    [-1, 1, 2, 3, 4].forEach((q, k) => {
      const fd = (shifted(q, h) - shifted(q, -h)) / (2 * h);
      const want = k === 0 ? d[0] : d[q + 1];
      assert(
        Math.abs(fd - want) <= 1e-6 * Math.max(1, Math.abs(want)),
        `${SYMBOLIC_EDGE_FUNCTIONS[id]} d/${["x", "", "a", "b", "c", "d"][q + 1]}: ${want} vs ${fd}`,
      );
    });
  }
});

Deno.test("symbolic edges: every library function on the GPU equals the float64 reference (value, a b c d, x)", async () => {
  const layer = everyFunction();
  const out = layer.outFeatures;
  const xs = rows(1, ROWS * 2, 0.1, 0.9);
  const dys = rows(2, ROWS * out, -1, 1);
  const x = Tensor.from(gpu, xs, [ROWS, 2]);
  const dy = Tensor.from(gpu, dys, [ROWS, out]);
  const trace = layer.trace(x);
  layer.zeroGrad();
  const dx = trace.backward(dy, true)!;
  const state = asState(await layer.stateDict());
  const ref = layer.reference(state).forward(xs, ROWS);
  assertClose("y", await trace.y.read(), ref.y, 1e-5);
  const expected = ref.backward(dys);
  assertClose("dx", await dx.read(), expected.dx, 1e-5);
  const grads = asState(await layer.gradDict());
  assertEquals(Object.keys(grads).sort(), ["a", "b", "c", "d"]);
  for (const name of ["a", "b", "c", "d"]) assertClose(name, grads[name], expected.grads[name], 1e-5);
  // The functions differ from one another: no two outputs are equal.
  const y = await trace.y.read();
  const firstRow = Array.from(y.slice(0, out), (v) => v.toFixed(5));
  assert(new Set(firstRow).size >= out - 1, `distinct outputs: ${firstRow}`); // "0" and "sgn" may coincide
  for (const t of [x, dy, dx, trace.y]) t.dispose();
  trace.release();
  layer.dispose();
});

Deno.test("hybrid layer: numeric plus symbolic edges; training moves a, b, c, d and keeps the masked weights at 0", async () => {
  const numeric = new BSplineKAN(gpu, 2, 2, { seed: 4, bias: true });
  const layer = new HybridKAN(numeric);
  layer.fixSymbolic(1, 0, { name: "sin", a: 3, b: 0.1, c: 0.5, d: 0.2 });
  layer.fixSymbolic(0, 1, { name: "x^2", a: 1, b: 0, c: -1, d: 0 });
  assertEquals(layer.symbols, [null, "sin", "x^2", null]);
  assertEquals([...numeric.edgeMask!], [1, 0, 0, 1]);
  const model = new Sequential([layer]);
  const xs = rows(3, ROWS * 2, -1, 1);
  const x = Tensor.from(gpu, xs, [ROWS, 2]);
  const state = asState(await model.stateDict());
  const y0 = await readOnce(model.forward(x));
  const ref = model.reference(state).forward(xs, ROWS);
  assertClose("hybrid y", y0, ref.y, 1e-5);
  const target = Tensor.from(gpu, rows(4, ROWS * 2, -1, 1), [ROWS, 2]);
  const optimizer = new Adam({ lr: 1e-2 });
  const history = await model.fit({ x, y: target, loss: "mse", optimizer, steps: 15, progress: "none" });
  assert(history.loss.at(-1)! < history.loss[0], "the loss falls");
  const after = asState(await model.stateDict());
  for (const k of ["a", "b", "c", "d"]) {
    const key = `layers.0.symbolic.${k}`;
    assert(
      after[key][1] !== state[key][1] && after[key][2] !== state[key][2],
      `${key} of both symbols trains`,
    );
    assertEquals([after[key][0], after[key][3]], [state[key][0], state[key][3]], `${key} of numeric edges`);
  }
  for (const k of ["base_weight", "spline_scaler"]) {
    const v = after[`layers.0.${k}`];
    assert(v[1] === 0 && v[2] === 0 && v[0] !== 0 && v[3] !== 0, `${k}: symbolic edges stay 0, others train`);
  }
  // The symbols as they stand now (read from the GPU) carry the trained parameters, and so do the edge curves.
  const now = await layer.readSymbols();
  assertEquals([now[1]!.a, now[2]!.c], [after["layers.0.symbolic.a"][1], after["layers.0.symbolic.c"][2]]);
  assert(now[1]!.a !== 3, "sin's a trained away from 3");
  const curve = (await edgeCurves(model, x))[0].edges[1];
  const s = now[1]!;
  assertClose(
    "trained sin edge curve",
    curve.ys,
    curve.xs.map((v) => s.c * Math.sin(s.a * v + s.b) + s.d),
    1e-12,
  );
  // The state dict round-trips into a fresh hybrid layer: same symbols, same output.
  const copy = new Sequential([new HybridKAN(new BSplineKAN(gpu, 2, 2, { seed: 9, bias: true }))]);
  copy.loadStateDict(await model.stateDict());
  const copyLayer = copy.layers[0] as HybridKAN;
  assertEquals(copyLayer.symbols, [null, "sin", "x^2", null]);
  assertEquals([...copyLayer.numeric.edgeMask!], [1, 0, 0, 1]);
  assertClose("copy y", await readOnce(copy.forward(x)), await readOnce(model.forward(x)), 1e-6);
  for (const t of [x, target]) t.dispose();
  optimizer.dispose();
  model.dispose();
  copy.dispose();
});

Deno.test("symbolic edges: an unknown function, an edge out of range or a NaN parameter is a KanError, nothing changes", async () => {
  const layer = new SymbolicEdges(gpu, 2, 1);
  const before = await layer.stateDict();
  assertThrows(
    () => layer.setSymbol(0, 0, { name: "sinh", a: 1, b: 0, c: 1, d: 0 }),
    /symbol.name must be one of/,
  );
  assertThrows(
    () => layer.setSymbol(2, 0, { name: "sin", a: 1, b: 0, c: 1, d: 0 }),
    /input must be an integer in \[0, 1\]/,
  );
  assertThrows(
    () => layer.setSymbol(0, 0, { name: "sin", a: NaN, b: 0, c: 1, d: 0 }),
    /symbol.a must be a finite/,
  );
  const bad = { ...before, funs: { shape: [1, 2], data: new Float32Array([3, 99]) } };
  assertThrows(() => layer.loadStateDict(bad), KanError);
  const after = await layer.stateDict();
  for (const k of Object.keys(before)) assertEquals([...after[k].data], [...before[k].data], k);
  layer.dispose();
});

Deno.test("symbolic edges: no GPU buffer left", () => {
  assertEquals(gpu.stats().liveBuffers, 0);
  gpu.destroy();
});
