/**
 * The family's member list (src/layers/members.ts) is the one that kan(),
 * the command line and the experiments read: each basis builds its class,
 * takes its own options only, and has one label everywhere.
 */

import { kan, Tensor } from "../mod.ts";
import { FIT_MODEL_TITLES, FIT_MODELS, fittingModel } from "../src/experiments/fitting.ts";
import { BASIS_NAMES, member, MEMBERS } from "../src/layers/members.ts";
import { FUNCTIONS } from "../src/data/synthetic.ts";
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { testGpu } from "./helpers.ts";

const gpu = await testGpu();

Deno.test("members: each basis builds its own class, and the experiments use the same list and labels", async () => {
  assertEquals([...BASIS_NAMES], [
    "bspline",
    "fast",
    "faster",
    "relu",
    "chebyshev",
    "jacobi",
    "fourier",
    "wavelet",
    "rational",
    "mlp",
  ]);
  assertEquals([...FIT_MODELS], [...BASIS_NAMES]);
  assertEquals(new Set(MEMBERS.map((m) => m.label)).size, MEMBERS.length);
  for (const m of MEMBERS) {
    assertEquals(FIT_MODEL_TITLES[m.basis], m.label);
    const model = kan(gpu, [2, 3, 1], { basis: m.basis });
    assertEquals(model.layers.map((l) => l.kind), [m.className, m.className]);
    // The MLP's hidden layer ends in SiLU, its last layer in none.
    if (m.basis === "mlp") {
      assertEquals(
        model.layers.map((l) => (l as unknown as { options: { activation: string } }).options.activation),
        [
          "silu",
          "none",
        ],
      );
    }
    model.dispose();
    // Another member's option is refused, naming its owner.
    const foreign = MEMBERS.find((o) =>
      o.options.some((name) => name !== "seed" && !m.options.includes(name))
    )!;
    const name = foreign.options.find((n) => n !== "seed" && !m.options.includes(n))!;
    assertThrows(
      () => kan(gpu, [2, 1], { basis: m.basis, [name]: 1 } as never),
      new RegExp(`option "${name}" belongs to basis .*"${foreign.basis}"`),
    );
  }
  assertThrows(
    () => member("cnn" as never),
    /member: basis must be one of bspline, fast, faster, relu, chebyshev, jacobi, fourier, wavelet, rational, mlp/,
  );
  // The fitting configuration: no LayerNorm on one input, and the model fits [1, 1] data.
  const f1 = FUNCTIONS.f1;
  for (const basis of FIT_MODELS) {
    const model = fittingModel(gpu, f1, basis);
    const x = Tensor.from(gpu, [0.25, 0.5, 0.75], [3, 1]);
    const y = model.forward(x);
    const values = await y.read();
    assert(values.every(Number.isFinite), `${basis}: ${values}`);
    if (member(basis).layerNorm) {
      assertEquals(member(basis).fittingOptions(f1.grid).useLayerNorm, false);
      // Without a LayerNorm the output depends on the input (with one over one input it could not).
      assert(new Set(values).size === 3, `${basis}: ${values}`);
    }
    for (const t of [x, y, model]) t.dispose();
  }
});

Deno.test("members: no buffer left", () => {
  assertEquals(gpu.stats().liveBuffers, 0);
  gpu.destroy();
});
