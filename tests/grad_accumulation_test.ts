/**
 * Gradients accumulate, as in torch: for every layer class, two backward
 * passes without `zeroGrad` leave twice the gradient of one (which itself
 * equals the float64 reference), and `zeroGrad` resets them all to zero.
 */

import {
  BSplineKAN,
  FasterKAN,
  FastKAN,
  type Gpu,
  type Layer,
  Linear,
  ReLUKAN,
  Sequential,
  type StateDict,
  Tensor,
} from "../mod.ts";
import { assert, assertEquals } from "./assert.ts";
import { assertClose, maxAbs, seededUniform, testGpu } from "./helpers.ts";

const gpu = await testGpu();

/** Two layers of each class, widths 3 -> 4 -> 2, with every parameter kind present and trainable. */
const MODELS: Record<string, (gpu: Gpu, i: number, o: number, seed: number) => Layer> = {
  BSplineKAN: (g, i, o, seed) => new BSplineKAN(g, i, o, { bias: true, seed }),
  FastKAN: (g, i, o, seed) => new FastKAN(g, i, o, { seed }),
  FasterKAN: (g, i, o, seed) => new FasterKAN(g, i, o, { seed }),
  ReLUKAN: (g, i, o, seed) => new ReLUKAN(g, i, o, { seed }),
  Linear: (g, i, o, seed) => new Linear(g, i, o, { activation: "silu", seed }),
};

const ROWS = 16;

function doubled(dict: StateDict): Record<string, Float64Array> {
  return Object.fromEntries(
    Object.entries(dict).map(([k, e]) => [k, Float64Array.from(e.data, (v) => 2 * v)]),
  );
}

for (const [name, make] of Object.entries(MODELS)) {
  Deno.test(`grad accumulation ${name}: two backward passes give 2x one pass (which equals the float64 reference within 2e-5), zeroGrad gives 0`, async () => {
    const model = new Sequential([make(gpu, 3, 4, 1), make(gpu, 4, 2, 2)]);
    const random = seededUniform(7);
    const xs = Float32Array.from({ length: ROWS * 3 }, () => 1.8 * random() - 0.9);
    const dys = Float32Array.from({ length: ROWS * 2 }, () => random() - 0.5);
    const x = Tensor.from(gpu, xs, [ROWS, 3]);
    const dy = Tensor.from(gpu, dys, [ROWS, 2]);
    const trace = model.trace(x);
    try {
      model.zeroGrad();
      trace.backward(dy, false);
      const once = await model.gradDict();
      const keys = Object.keys(once);
      assert(keys.length > 0, "the model has trainable parameters");

      const state = await model.stateDict();
      const reference = model.reference(
        Object.fromEntries(Object.entries(state).map(([k, e]) => [k, e.data])),
      );
      const { grads } = reference.forward(xs, ROWS).backward(dys);
      for (const key of keys) {
        assert(maxAbs(grads[key]) > 0, `${name} ${key}: the reference gradient is not zero`);
        assertClose(`${name} ${key} one pass vs float64`, once[key].data, grads[key], 2e-5, "max");
      }

      trace.backward(dy, false);
      const twice = await model.gradDict();
      const want = doubled(once);
      for (const key of keys) {
        assertClose(`${name} ${key} two passes vs 2x one`, twice[key].data, want[key], 1e-6, "max");
      }

      model.zeroGrad();
      const zeroed = await model.gradDict();
      for (const key of keys) assertEquals(maxAbs(zeroed[key].data), 0, `${name} ${key} after zeroGrad`);

      trace.backward(dy, false);
      const again = await model.gradDict();
      for (const key of keys) {
        assertClose(
          `${name} ${key} after zeroGrad vs one pass`,
          again[key].data,
          once[key].data,
          1e-6,
          "max",
        );
      }
    } finally {
      trace.release();
      trace.y.dispose();
      model.dispose();
      x.dispose();
      dy.dispose();
    }
  });
}

Deno.test("grad accumulation teardown: no live buffers", () => {
  assertEquals(gpu.stats().liveBuffers, 0);
  gpu.destroy();
});
