/**
 * efficient-kan's `KAN` (Blealtan/efficient-kan at 7b6ce1c): `layers.<i>.grid`,
 * `base_weight`, `spline_weight`, `spline_scaler` per `KANLinear`, the same
 * names and math as `BSplineKAN`. Grids moved by `update_grid` load as they are.
 *
 * efficient-kan's `base_activation` is a constructor argument, not in the
 * state dict: `"silu"` (its default) and `"identity"` are taken as the layer
 * declares them. A `"zero"` layer has no base branch, which efficient-kan
 * expresses as `base_weight = 0`: it is written so, and a checkpoint with a
 * nonzero `base_weight` is refused for it.
 *
 * @module
 */

import type { BSplineKAN } from "../../layers/bspline_kan.ts";
import type { StateDict } from "../../layers/parameter.ts";
import {
  checkKnots,
  CheckpointReader,
  describeLayer,
  entry,
  local,
  type ModelLayers,
  refuse,
  requireKind,
  requireShared,
} from "./checkpoint_reader.ts";

const FORMAT = "efficient-kan";

function context(layer: BSplineKAN, i: number): string {
  const { gridSize, splineOrder } = layer.options;
  return `${describeLayer(layer, i)}, gridSize ${gridSize}, splineOrder ${splineOrder}`;
}

/** efficient-kan `KAN` state dict -> this module's, per layer. */
export function fromEfficientKan(call: string, model: ModelLayers, dict: StateDict): StateDict[] {
  requireKind(call, model, "BSplineKAN", FORMAT);
  const reader = new CheckpointReader(call, dict);
  const out = model.layers.map((l, i) => {
    const layer = l as BSplineKAN;
    const { inFeatures: n, outFeatures: m } = layer;
    const { gridSize: g, splineOrder: k, bias } = layer.options;
    const p = `layers.${i}.`;
    const ctx = context(layer, i);
    const grid = reader.take(`${p}grid`, [n, g + 2 * k + 1], ctx);
    checkKnots(call, `${p}grid`, grid, n);
    const baseWeight = reader.take(`${p}base_weight`, [m, n], ctx);
    const at = baseWeight.findIndex((v) => v !== 0);
    if (layer.options.baseActivation === "zero" && at >= 0) {
      refuse(
        call,
        `${describeLayer(layer, i)} was built with baseActivation "zero", but the checkpoint's ` +
          `"${p}base_weight" is nonzero (${baseWeight[at]} at [${Math.floor(at / n)}, ${at % n}]): ` +
          `efficient-kan adds F.linear(base_activation(x), base_weight); build the model with baseActivation ` +
          `"silu" (efficient-kan's default base_activation)`,
      );
    }
    const own: StateDict = {
      grid: entry([n, g + 2 * k + 1], grid),
      base_weight: entry([m, n], baseWeight),
      spline_weight: entry([m, n, g + k], reader.take(`${p}spline_weight`, [m, n, g + k], ctx)),
      spline_scaler: entry([m, n], reader.take(`${p}spline_scaler`, [m, n], ctx)),
    };
    if (bias) own.bias = entry([m], new Float32Array(m)); // KANLinear has no bias: it is 0
    return own;
  });
  reader.finish(` (this model has ${model.layers.length} BSplineKAN layers)`);
  return out;
}

/** This module's state dict (per layer) -> efficient-kan `KAN`'s. */
export function toEfficientKan(call: string, model: ModelLayers, dicts: StateDict[]): StateDict {
  requireKind(call, model, "BSplineKAN", FORMAT);
  const opts = (i: number) => (model.layers[i] as BSplineKAN).options;
  requireShared(call, model, "grid_size", (l) => (l as BSplineKAN).options.gridSize, "efficient-kan's KAN");
  requireShared(
    call,
    model,
    "spline_order",
    (l) => (l as BSplineKAN).options.splineOrder,
    "efficient-kan's KAN",
  );
  const out: StateDict = {};
  model.layers.forEach((layer, i) => {
    const d = dicts[i];
    const { inFeatures: n, outFeatures: m } = layer;
    const { gridSize: g, splineOrder: k } = opts(i);
    if (d.bias && d.bias.data.some((v) => v !== 0)) {
      refuse(
        call,
        `${describeLayer(layer, i)} has a nonzero bias, which efficient-kan's KANLinear does not have`,
      );
    }
    const p = `layers.${i}.`;
    out[`${p}grid`] = entry([n, g + 2 * k + 1], local(d, "grid").slice());
    // No base branch is base_weight 0 there (this module's forward never reads a "zero" layer's).
    const zero = (layer as BSplineKAN).options.baseActivation === "zero";
    out[`${p}base_weight`] = entry([m, n], zero ? new Float32Array(m * n) : local(d, "base_weight").slice());
    out[`${p}spline_weight`] = entry([m, n, g + k], local(d, "spline_weight").slice());
    out[`${p}spline_scaler`] = entry([m, n], local(d, "spline_scaler").slice());
  });
  return out;
}
