/**
 * faster-kan's `FasterKAN` (AthanasiosDelis/faster-kan at 3bcabc2):
 * `layers.<i>.layernorm.*`, `rbf.grid`, `rbf.inv_denominator`,
 * `spline_linear.weight`, the names of `FasterKAN` here.
 *
 * Its forward ignores `inv_denominator`: it computes `1 - tanh(LN(x) - u)^2`
 * (only its backward multiplies by the value). So a checkpoint loads as that
 * function, with `rbf.inv_denominator` 1 here; and writing one folds this
 * module's width `d` into what its forward uses, `tanh((LN(x) - u) d) =
 * tanh(LN'(x) - u d)` with the LayerNorm's weight and bias times `d`, and
 * writes `inv_denominator` 1, so that its backward matches its forward.
 *
 * @module
 */

import type { FasterKAN } from "../../layers/faster_kan.ts";
import type { StateDict } from "../../layers/parameter.ts";
import {
  CheckpointReader,
  describeLayer,
  entry,
  local,
  type ModelLayers,
  refuse,
  requireKind,
  requireShared,
} from "./checkpoint_reader.ts";

const FORMAT = "faster-kan";

function checkNormalizes(call: string, layer: FasterKAN, i: number): void {
  if (!layer.options.useLayerNorm) {
    refuse(
      call,
      `faster-kan's FasterKANLayer normalizes its input with a LayerNorm, but ${
        describeLayer(layer, i)
      } was built with useLayerNorm: false`,
    );
  }
}

/** faster-kan `FasterKAN` state dict -> this module's, per layer (`rbf.inv_denominator` 1, as its forward). */
export function fromFasterKan(call: string, model: ModelLayers, dict: StateDict): StateDict[] {
  requireKind(call, model, "FasterKAN", FORMAT);
  const reader = new CheckpointReader(call, dict);
  const out = model.layers.map((l, i) => {
    const layer = l as FasterKAN;
    checkNormalizes(call, layer, i);
    const { inFeatures: n, outFeatures: m } = layer;
    const g = layer.options.numGrids;
    const p = `layers.${i}.`;
    const ctx = `${describeLayer(layer, i)}, numGrids ${g}`;
    reader.take(`${p}rbf.inv_denominator`, [], ctx); // read, and not used by the original's forward
    return {
      "layernorm.weight": entry([n], reader.take(`${p}layernorm.weight`, [n], ctx)),
      "layernorm.bias": entry([n], reader.take(`${p}layernorm.bias`, [n], ctx)),
      "rbf.grid": entry([g], reader.take(`${p}rbf.grid`, [g], ctx)),
      "rbf.inv_denominator": entry([], Float32Array.of(1)),
      "spline_linear.weight": entry([m, n * g], reader.take(`${p}spline_linear.weight`, [m, n * g], ctx)),
    };
  });
  reader.finish(` (this model has ${model.layers.length} FasterKAN layers)`);
  return out;
}

/** This module's state dict (per layer) -> faster-kan `FasterKAN`'s, the width folded into the LayerNorm and grid. */
export function toFasterKan(call: string, model: ModelLayers, dicts: StateDict[]): StateDict {
  requireKind(call, model, "FasterKAN", FORMAT);
  requireShared(call, model, "num_grids", (l) => (l as FasterKAN).options.numGrids, "faster-kan's FasterKAN");
  const out: StateDict = {};
  model.layers.forEach((l, i) => {
    const layer = l as FasterKAN;
    checkNormalizes(call, layer, i);
    const d = dicts[i];
    const { inFeatures: n, outFeatures: m } = layer;
    const g = layer.options.numGrids;
    const inv = local(d, "rbf.inv_denominator")[0];
    const scaled = (name: string) => local(d, name).map((v) => v * inv);
    const p = `layers.${i}.`;
    out[`${p}layernorm.weight`] = entry([n], scaled("layernorm.weight"));
    out[`${p}layernorm.bias`] = entry([n], scaled("layernorm.bias"));
    out[`${p}rbf.grid`] = entry([g], scaled("rbf.grid"));
    out[`${p}rbf.inv_denominator`] = entry([], Float32Array.of(1));
    out[`${p}spline_linear.weight`] = entry([m, n * g], local(d, "spline_linear.weight").slice());
  });
  return out;
}
