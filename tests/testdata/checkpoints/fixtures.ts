/**
 * The originals' checkpoints of this folder (see its README): reading a
 * fixture, building the model it names, and a seeded perturbation that makes a
 * model's values its own before it is written back.
 *
 * @module
 */

import {
  BSplineKAN,
  type CheckpointFormat,
  FasterKAN,
  FastKAN,
  type Gpu,
  type Layer,
  Linear,
  loadSafetensors,
  ReLUKAN,
  Sequential,
  type StateDict,
} from "../../../mod.ts";

/** A tensor of a fixture. */
export interface FixtureTensor {
  shape: number[];
  data: number[];
}

/** One fixture: `<name>.json` beside `<name>.safetensors`. */
export interface CheckpointFixture {
  name: string;
  format: CheckpointFormat;
  original: { project: string; commit: string | null; class: string; args: Record<string, unknown> };
  model: { class: string; in: number; out: number; options: Record<string, unknown> }[];
  /** What a load must refuse (`"symbolic"`, `"multiplication"`), or null. */
  refused: string | null;
  /** The original's state-dict keys and shapes, in its order. */
  keys: [string, number[]][];
  x: FixtureTensor;
  y: FixtureTensor;
}

const dir = new URL("./", import.meta.url);

/** The fixture names, sorted. */
export const fixtureNames: string[] = [...Deno.readDirSync(dir)]
  .map((e) => e.name)
  .filter((n) => n.endsWith(".json"))
  .map((n) => n.slice(0, -".json".length))
  .sort();

/** Reads `<name>.json`. */
export async function readFixture(name: string): Promise<CheckpointFixture> {
  return JSON.parse(await Deno.readTextFile(new URL(`${name}.json`, dir)));
}

/** Reads `<name>.safetensors`, the original's state dict. */
export function readFixtureDict(name: string): Promise<StateDict> {
  return loadSafetensors(new URL(`${name}.safetensors`, dir).pathname);
}

const classes: Record<string, new (gpu: Gpu, i: number, o: number, opts: object) => Layer> = {
  BSplineKAN,
  FastKAN,
  FasterKAN,
  ReLUKAN,
  Linear,
};

/** The fixture's model (this module's classes and options), layer `i` seeded `seed + i`. */
export function buildFixtureModel(
  gpu: Gpu,
  f: CheckpointFixture,
  seed = 0,
  change: Record<string, unknown> = {},
): Sequential {
  return new Sequential(
    f.model.map((l, i) =>
      new classes[l.class](gpu, l.in, l.out, { ...l.options, seed: seed + i, ...change })
    ),
  );
}

/**
 * `dict` with seeded noise added to every entry but grids and
 * `rbf.inv_denominator` (which must keep their structure), so a written
 * checkpoint holds values of this module's own.
 */
export function perturb(dict: StateDict, seed: number): StateDict {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out: StateDict = {};
  for (const [key, { shape, data }] of Object.entries(dict)) {
    const fixed = key.endsWith("grid") || key.endsWith("inv_denominator");
    const scale = key.includes("phase_") ? 0.02 : 0.2;
    out[key] = { shape: [...shape], data: data.map((v) => fixed ? v : v + scale * (uniform() - 0.5)) };
  }
  return out;
}
