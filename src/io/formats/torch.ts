/**
 * A `torch.nn.Sequential` of `Linear` modules and activations, the MLP of
 * `Linear` layers here: each activation is a module of its own there, without
 * parameters, so linear layer `i` is module `m_i = i + (activations before it)`
 * with entries `<m_i>.weight` and `<m_i>.bias`. The kind of each activation is
 * not in the state dict; where one sits is.
 *
 * @module
 */

import type { StateDict } from "../../layers/parameter.ts";
import type { Linear } from "../../layers/linear.ts";
import {
  CheckpointReader,
  describeLayer,
  entry,
  local,
  type ModelLayers,
  requireKind,
} from "./checkpoint_reader.ts";

const FORMAT = "torch";

/** The `torch.nn.Sequential` index of each linear layer. */
function moduleIndices(model: ModelLayers): number[] {
  let m = 0;
  return model.layers.map((l) => {
    const at = m;
    m += (l as Linear).options.activation === "none" ? 1 : 2;
    return at;
  });
}

function layout(model: ModelLayers): string {
  return model.layers.map((l) => {
    const act = (l as Linear).options.activation;
    return `Linear(${l.inFeatures}, ${l.outFeatures})${act === "none" ? "" : `, ${act}`}`;
  }).join(", ");
}

/** `torch.nn.Sequential` state dict -> this module's, per layer. */
export function fromTorch(call: string, model: ModelLayers, dict: StateDict): StateDict[] {
  requireKind(call, model, "Linear", FORMAT);
  const reader = new CheckpointReader(call, dict);
  const at = moduleIndices(model);
  const where = ` (this model is Sequential(${layout(model)}))`;
  const out = model.layers.map((l, i) => {
    const layer = l as Linear;
    const { inFeatures: n, outFeatures: m } = layer;
    const ctx = `${describeLayer(layer, i)}, module ${at[i]} of the Sequential${where}`;
    const own: StateDict = { weight: entry([m, n], reader.take(`${at[i]}.weight`, [m, n], ctx)) };
    if (layer.options.bias) own.bias = entry([m], reader.take(`${at[i]}.bias`, [m], ctx));
    return own;
  });
  reader.finish(where);
  return out;
}

/** This module's state dict (per layer) -> the `torch.nn.Sequential`'s. */
export function toTorch(call: string, model: ModelLayers, dicts: StateDict[]): StateDict {
  requireKind(call, model, "Linear", FORMAT);
  const at = moduleIndices(model);
  const out: StateDict = {};
  model.layers.forEach((l, i) => {
    const d = dicts[i];
    out[`${at[i]}.weight`] = entry([l.outFeatures, l.inFeatures], local(d, "weight").slice());
    if (d.bias) out[`${at[i]}.bias`] = entry([l.outFeatures], local(d, "bias").slice());
  });
  return out;
}
