/**
 * The PyTorch reference vectors of tests/testdata/parity (see its README):
 * reading them, building the model each describes, and checking a model
 * against one.
 *
 * @module
 */

import {
  BSplineKAN,
  ChebyKAN,
  FasterKAN,
  FastKAN,
  FourierKAN,
  type Gpu,
  JacobiKAN,
  type Layer,
  Linear,
  RationalKAN,
  ReLUKAN,
  Sequential,
  type StateDict,
  Tensor,
} from "../mod.ts";
import { assertEquals } from "./assert.ts";
import { assertClose } from "./helpers.ts";

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

/** The vector files of `folder` (`""`: the first members'; `"family/"`, `"rational/"`), sorted. */
export function vectorFiles(folder = ""): string[] {
  return [...Deno.readDirSync(new URL(folder, dir))].map((e) => e.name).filter((n) => n.endsWith(".json"))
    .sort();
}

/** The vector files of the first members, sorted. */
export const parityFiles: string[] = vectorFiles();

/** Reads one vector file of `folder`. */
export async function readVector(file: string, folder = ""): Promise<ParityVector> {
  return JSON.parse(await Deno.readTextFile(new URL(folder + file, dir)));
}

const classes: Record<string, new (gpu: Gpu, i: number, o: number, opts: object) => Layer> = {
  BSplineKAN,
  FastKAN,
  FasterKAN,
  ReLUKAN,
  Linear,
  ChebyKAN,
  JacobiKAN,
  FourierKAN,
  RationalKAN,
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

/** dL/dy of mean((y - target)^2), from the reference's own y. */
export function mseGradient(v: ParityVector): Float64Array {
  const n = v.y.data.length;
  return Float64Array.from(v.y.data, (y, i) => 2 * (y - v.target.data[i]) / n);
}

/**
 * Asserts that `model` (holding the vector's state) gives the vector's y, the
 * gradient of every trainable entry and the input gradient of its MSE loss,
 * within `tolerance` of each tensor's largest magnitude; with `reference`, its
 * float64 reference too. Releases what it made; the model stays.
 */
export async function assertMatchesVector(
  gpu: Gpu,
  model: Sequential,
  v: ParityVector,
  tolerance: number,
  reference = true,
): Promise<void> {
  const x = Tensor.from(gpu, v.x.data, v.x.shape);
  const trace = model.trace(x);
  assertClose(`${v.name} y`, await trace.y.read(), v.y.data, tolerance, "max");
  const dyData = mseGradient(v);
  const dy = Tensor.from(gpu, dyData, v.y.shape);
  const dx = trace.backward(dy, true)!;
  const grads = await model.gradDict();
  assertEquals(Object.keys(grads).sort(), Object.keys(v.grad).sort());
  for (const [key, want] of Object.entries(v.grad)) {
    assertEquals(grads[key].shape, want.shape);
    assertClose(`${v.name} grad ${key}`, grads[key].data, want.data, tolerance, "max");
  }
  assertClose(`${v.name} grad_x`, await dx.read(), v.grad_x.data, tolerance, "max");
  trace.release();
  for (const t of [trace.y, x, dy, dx]) t.dispose();
  if (!reference) return;
  const rt = model.reference(stateArrays(v)).forward(v.x.data, v.x.shape[0]);
  assertClose(`${v.name} reference y`, rt.y, v.y.data, tolerance, "max");
  const rg = rt.backward(dyData);
  for (const [key, want] of Object.entries(v.grad)) {
    assertClose(`${v.name} reference grad ${key}`, rg.grads[key], want.data, tolerance, "max");
  }
  assertClose(`${v.name} reference grad_x`, rg.dx, v.grad_x.data, tolerance, "max");
}
