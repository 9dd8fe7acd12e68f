/**
 * The pykan reference of the regularization and attribution tests
 * (tests/testdata/regularization/pykan_reference.py: pykan ecde4ec, float64, a
 * [3, 4, 2] model with float32-representable weights), and that model built
 * as a `Sequential` of `BSplineKAN` layers with the same weights.
 */

import { BSplineKAN, type Gpu, Sequential } from "../mod.ts";

/** What pykan_reference.json holds. */
export interface PykanReference {
  widths: number[];
  gridSize: number;
  splineOrder: number;
  batch: number;
  settings: { lambL1: number; lambEntropy: number; lambCoef: number; lambCoefdiff: number };
  x: number[];
  state: Record<string, number[]>;
  reg: number;
  layerReg: number[];
  grads: Record<string, number[]>;
  dx: number[];
  layerInputs: number[][];
  edgeActscale: number[][];
  subnodeActscale: number[][];
  edgeScores: number[][];
  nodeScores: number[][];
}

/** The reference, read once. */
export const pykan: PykanReference = JSON.parse(
  await Deno.readTextFile(new URL("./testdata/regularization/pykan_reference.json", import.meta.url)),
);

/** pykan's model as a `Sequential` of `BSplineKAN` layers on `gpu`, loaded with its weights. */
export function pykanModel(gpu: Gpu): Sequential {
  const { widths, gridSize, splineOrder, state } = pykan;
  const layers = widths.slice(1).map((out, l) =>
    new BSplineKAN(gpu, widths[l], out, { gridSize, splineOrder, seed: l })
  );
  const model = new Sequential(layers);
  const dict = Object.fromEntries(
    Object.entries(state).map(([k, v]) => {
      const l = Number(k.split(".")[1]);
      const [n, m] = [widths[l], widths[l + 1]];
      const shape = k.endsWith("grid")
        ? [n, v.length / n]
        : k.endsWith("spline_weight")
        ? [m, n, v.length / (m * n)]
        : [m, n];
      return [k, { shape, data: Float32Array.from(v) }];
    }),
  );
  model.loadStateDict(dict);
  return model;
}
