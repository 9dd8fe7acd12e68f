/**
 * The PyTorch reference vectors of tests/testdata/parity (see its README):
 * reading them and building the model each describes.
 *
 * @module
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
} from "../mod.ts";

/** A tensor of a vector file. */
export interface VectorTensor {
  shape: number[];
  data: number[];
}

/** One reference vector. */
export interface ParityVector {
  name: string;
  model: { class: string; in: number; out: number; options: Record<string, unknown> }[];
  state: StateDict;
  x: VectorTensor;
  y: VectorTensor;
  target: VectorTensor;
  loss_mse: number;
  grad: Record<string, VectorTensor>;
  grad_x: VectorTensor;
}

const dir = new URL("./testdata/parity/", import.meta.url);

/** The vector files, sorted. */
export const parityFiles: string[] = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) =>
  n.endsWith(".json")
).sort();

/** Reads one vector file. */
export async function readVector(file: string): Promise<ParityVector> {
  return JSON.parse(await Deno.readTextFile(new URL(file, dir)));
}

const classes: Record<string, new (gpu: Gpu, i: number, o: number, opts: object) => Layer> = {
  BSplineKAN,
  FastKAN,
  FasterKAN,
  ReLUKAN,
  Linear,
};

/** The vector's model, with its state loaded. */
export function buildModel(gpu: Gpu, v: ParityVector): Sequential {
  const model = new Sequential(v.model.map((l) => new classes[l.class](gpu, l.in, l.out, l.options ?? {})));
  model.loadStateDict(v.state);
  return model;
}

/** The vector's state as float64 arrays. */
export function stateArrays(v: ParityVector): Record<string, Float64Array> {
  return Object.fromEntries(Object.entries(v.state).map(([k, e]) => [k, Float64Array.from(e.data)]));
}
