/**
 * Writes what `generate.py --verify DIR` loads into the originals: for every
 * fixture that loads, two models converted with `stateDict({ to })` and saved
 * with `saveSafetensors`, each beside the fixture's `x` and the `y` this
 * module computes for it:
 *
 * - `NAME.loaded.*`: the fixture loaded with `{ from }`, then every value but
 *   the grids moved by seeded noise (so the file holds values of this module's);
 * - `NAME.fresh.*`: a model built here from the fixture's description, its init
 *   moved the same way (for FasterKAN, the default width 0.5 is then folded).
 *
 * Run by hand (see README.md here):
 *   deno run -A tests/testdata/checkpoints/write_for_verify.ts DIR
 *
 * @module
 */

import { Gpu, type Module, saveSafetensors, Tensor } from "../../../mod.ts";
import { buildFixtureModel, fixtureNames, perturb, readFixture, readFixtureDict } from "./fixtures.ts";

const out = Deno.args[0];
if (!out) {
  console.error("usage: deno run -A tests/testdata/checkpoints/write_for_verify.ts DIR");
  Deno.exit(2);
}
await Deno.mkdir(out, { recursive: true });
const gpu = await Gpu.request();

async function write(name: string, model: Module, f: Awaited<ReturnType<typeof readFixture>>): Promise<void> {
  const x = Tensor.from(gpu, f.x.data, f.x.shape);
  const y = model.forward(x);
  const json = {
    fixture: f.name,
    format: f.format,
    x: f.x,
    y: { shape: y.shape, data: [...await y.read()] },
  };
  await saveSafetensors(`${out}/${name}.safetensors`, await model.stateDict({ to: f.format }));
  await Deno.writeTextFile(`${out}/${name}.json`, JSON.stringify(json));
  x.dispose();
  y.dispose();
  console.log(`${name}: ${f.format}`);
}

for (const name of fixtureNames) {
  const f = await readFixture(name);
  if (f.refused !== null) continue;
  const loaded = buildFixtureModel(gpu, f);
  loaded.loadStateDict(await readFixtureDict(name), { from: f.format });
  loaded.loadStateDict(perturb(await loaded.stateDict(), 21));
  await write(`${name}.loaded`, loaded, f);
  const fresh = buildFixtureModel(gpu, f, 5);
  fresh.loadStateDict(perturb(await fresh.stateDict(), 22));
  await write(`${name}.fresh`, fresh, f);
  loaded.dispose();
  fresh.dispose();
}
gpu.destroy();
