/**
 * Writes, for each of ChebyKAN, JacobiKAN and FourierKAN, a two-layer model's
 * state dict as safetensors (`OUT_DIR/<basis>.safetensors`) and its input and
 * output beside it (`.safetensors.json`), for the generators' `--verify` mode,
 * which loads the file into the original with `load_state_dict(strict=True)`.
 *
 * usage: deno run -A tests/testdata/generate/verify_family.ts OUT_DIR
 *
 * @module
 */

import { Gpu, kan, saveSafetensors, Tensor } from "../../../mod.ts";

const dir = Deno.args[0] ?? "/tmp";
const gpu = await Gpu.request();
const specs = [
  { basis: "chebyshev", options: { degree: 3 }, className: "ChebyKAN" },
  { basis: "jacobi", options: { degree: 4, a: 0.5, b: -0.25 }, className: "JacobiKAN" },
  { basis: "fourier", options: { gridsize: 3, addbias: true }, className: "FourierKAN" },
] as const;
for (const spec of specs) {
  const model = kan(gpu, [3, 4, 2], { basis: spec.basis, ...spec.options, seed: 7 } as never);
  const xs = Array.from({ length: 15 }, (_, k) => Math.sin(k * 1.7) * 2);
  const x = Tensor.from(gpu, xs, [5, 3]);
  const y = await model.forward(x).read();
  const path = `${dir}/${spec.basis}.safetensors`;
  await saveSafetensors(path, await model.stateDict());
  const layers = [[3, 4], [4, 2]].map(([i, o]) => ({
    class: spec.className,
    in: i,
    out: o,
    options: spec.options,
  }));
  await Deno.writeTextFile(
    `${path}.json`,
    JSON.stringify({ model: layers, x: { shape: [5, 3], data: xs }, y: { shape: [5, 2], data: [...y] } }),
  );
  console.log(`wrote ${path}`);
}
gpu.destroy();
