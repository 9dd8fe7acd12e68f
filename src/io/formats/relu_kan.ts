/**
 * ReLU-KAN's `ReLUKAN(width, grid, k)` (quiqi/relu_kan at 79eab7a):
 * `rk_layers.<i>.phase_low`, `phase_height`, `equal_size_conv.weight`,
 * `equal_size_conv.bias`, this module's `ReLUKAN` entries under another prefix.
 *
 * `g` and `k` are not in the state dict, and only their sum is in its shapes;
 * the bases' scale `r = 4 g^2 / (k + 1)^2` depends on each. The phases start
 * at `s = arange(-k, g) / g`, `e = s + (k + 1) / g` and training moves them
 * little, so a layer whose `g`, `k` are not the split of `g + k` whose start
 * lies nearest the checkpoint's phases is refused.
 *
 * @module
 */

import { reluPhases } from "../../basis/relu_bump.ts";
import type { StateDict } from "../../layers/parameter.ts";
import type { ReLUKAN } from "../../layers/relu_kan.ts";
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

const FORMAT = "relu-kan";

/** Root mean square distance of the phases from the start of `g`, `k`. */
function phaseDistance(low: Float32Array, high: Float32Array, n: number, g: number, k: number): number {
  const start = reluPhases(g, k);
  const nb = g + k;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < nb; j++) {
      sum += (low[i * nb + j] - start.low[j]) ** 2 + (high[i * nb + j] - start.high[j]) ** 2;
    }
  }
  return Math.sqrt(sum / (2 * n * nb));
}

/** Refuses the layer unless its `g`, `k` is the split of `g + k` nearest the checkpoint's phases. */
function checkGK(call: string, layer: ReLUKAN, i: number, low: Float32Array, high: Float32Array): void {
  const { g, k } = layer.options;
  const n = layer.inFeatures;
  const own = phaseDistance(low, high, n, g, k);
  for (let g2 = 1; g2 <= g + k; g2++) {
    const k2 = g + k - g2;
    if (g2 === g) continue;
    const other = phaseDistance(low, high, n, g2, k2);
    if (other < own) {
      refuse(
        call,
        `${describeLayer(layer, i)} was built with g ${g}, k ${k}, but the checkpoint's phases ` +
          `(rk_layers.${i}.phase_low, phase_height) lie nearest the start of g ${g2}, k ${k2} ` +
          `(RMS distance ${other.toPrecision(3)}, against ${own.toPrecision(3)} for g ${g}, k ${k}); ` +
          `g and k are not in the state dict, build the model with the original's`,
      );
    }
  }
}

/** ReLU-KAN `ReLUKAN` state dict -> this module's, per layer. */
export function fromReluKan(call: string, model: ModelLayers, dict: StateDict): StateDict[] {
  requireKind(call, model, "ReLUKAN", FORMAT);
  const reader = new CheckpointReader(call, dict);
  const out = model.layers.map((l, i) => {
    const layer = l as ReLUKAN;
    const { inFeatures: n, outFeatures: m } = layer;
    const { g, k } = layer.options;
    const nb = g + k;
    const p = `rk_layers.${i}.`;
    const ctx = `${describeLayer(layer, i)}, g ${g} + k ${k} = ${nb} bases`;
    const low = reader.take(`${p}phase_low`, [n, nb], ctx);
    const high = reader.take(`${p}phase_height`, [n, nb], ctx);
    checkGK(call, layer, i, low, high);
    return {
      phase_low: entry([n, nb], low),
      phase_height: entry([n, nb], high),
      "equal_size_conv.weight": entry(
        [m, 1, nb, n],
        reader.take(`${p}equal_size_conv.weight`, [m, 1, nb, n], ctx),
      ),
      "equal_size_conv.bias": entry([m], reader.take(`${p}equal_size_conv.bias`, [m], ctx)),
    };
  });
  reader.finish(
    ` (ReLU-KAN's keys are rk_layers.<i>.*; this model has ${model.layers.length} ReLUKAN layers)`,
  );
  return out;
}

/** This module's state dict (per layer) -> ReLU-KAN `ReLUKAN`'s. */
export function toReluKan(call: string, model: ModelLayers, dicts: StateDict[]): StateDict {
  requireKind(call, model, "ReLUKAN", FORMAT);
  requireShared(call, model, "grid (g)", (l) => (l as ReLUKAN).options.g, "ReLU-KAN's ReLUKAN");
  requireShared(call, model, "k", (l) => (l as ReLUKAN).options.k, "ReLU-KAN's ReLUKAN");
  const out: StateDict = {};
  model.layers.forEach((_, i) => {
    const d = dicts[i];
    for (const name of ["phase_low", "phase_height", "equal_size_conv.weight", "equal_size_conv.bias"]) {
      out[`rk_layers.${i}.${name}`] = entry([...d[name].shape], local(d, name).slice());
    }
  });
  return out;
}
