/**
 * The runtime's fixed costs.
 *
 * - "readback": one GPU→CPU wait (Deno's floor is about 11 ms).
 * - "record 10,000 dispatches": host time to record 10,000 axpy kernels over
 *   4,096 floats, without submitting or waiting (the submit and the wait
 *   happen outside the timed part); divide by 10,000 for µs per dispatch.
 * - "Adam step": host time to record one full-batch Adam step of each model
 *   of the speed test (1,000 rows) on the layer-by-layer kernels, without
 *   waiting; its dispatch count is printed once per model, beside the fused
 *   step's (src/fused/: 2 when the loss is not read, 3 when it is).
 *
 * Run: deno bench --allow-env --allow-read bench/runtime_bench.ts
 */

import { Gpu, Tensor } from "../mod.ts";
import { axpy } from "../kernels.ts";
import { FIT_MODEL_TITLES, FIT_MODELS, fittingModel } from "../src/experiments/fitting.ts";
import { SPEED_FUNCTIONS } from "../src/experiments/speed.ts";
import { Adam } from "../src/train/adam.ts";
import { recordLoss } from "../src/train/loss.ts";
import { FusedTraining } from "../src/fused/fused_training.ts";

const gpu = await Gpu.request();
const x = Tensor.from(gpu, new Float32Array(4096).fill(1), [4096]);
const y = Tensor.zeros(gpu, [4096]);
const DISPATCHES = 10_000;

Deno.bench("readback of 4 bytes (one GPU→CPU wait)", { group: "runtime" }, async () => {
  await gpu.read(y.buffer, 0, 4);
});

Deno.bench(`record ${DISPATCHES} axpy dispatches (host only)`, { group: "runtime" }, async (b) => {
  b.start();
  for (let i = 0; i < DISPATCHES; i++) axpy(1e-3, x, y);
  b.end();
  await gpu.read(y.buffer, 0, 4);
});

for (const fn of SPEED_FUNCTIONS) {
  for (const model of FIT_MODELS) {
    const net = fittingModel(gpu, fn, model);
    const xs = Tensor.from(gpu, new Float32Array(1000 * fn.inputs).fill(0.5), [1000, fn.inputs]);
    const ys = Tensor.zeros(gpu, [1000, 1]);
    const loss = Tensor.zeros(gpu, [1]);
    const optimizer = new Adam({ lr: 1e-3 });
    const parameters = [...net.namedParameters().values()];
    const step = () => {
      net.zeroGrad();
      const trace = net.trace(xs);
      const dz = recordLoss(gpu, "mse", trace.y, ys, loss.binding, 0);
      trace.backward(dz, false);
      dz.dispose();
      trace.release();
      trace.y.dispose();
      optimizer.step(parameters);
    };
    step();
    const before = gpu.stats().dispatches;
    step();
    const dispatches = gpu.stats().dispatches - before;
    const fused = FusedTraining.of(net, parameters, 1000);
    let fusedDispatches = "not fused";
    if (fused) {
      const start = gpu.stats().dispatches;
      fused.step(optimizer, "mse", xs, ys, 1000, null, loss.binding);
      fusedDispatches = `${gpu.stats().dispatches - start} fused`;
      fused.dispose();
    }
    console.log(
      `${fn.name} ${JSON.stringify(fn.width)} ${
        FIT_MODEL_TITLES[model]
      }: ${dispatches} dispatches per Adam step ` +
        `layer by layer, ${fusedDispatches}`,
    );
    await gpu.sync();
    Deno.bench(`${fn.name} ${FIT_MODEL_TITLES[model]}: record one Adam step (${dispatches} dispatches)`, {
      group: "Adam step, host only",
    }, async (b) => {
      b.start();
      for (let i = 0; i < 20; i++) step();
      b.end();
      await gpu.sync();
    });
  }
}
