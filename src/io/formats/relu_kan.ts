/**
 * ReLU-KAN's `ReLUKAN(width, grid, k)` (quiqi/relu_kan at 79eab7a):
 * `rk_layers.<i>.phase_low`, `phase_height`, `equal_size_conv.weight`,
 * `equal_size_conv.bias`, this module's `ReLUKAN` entries under another prefix.
 *
 * `g` and `k` are not in the state dict, and only their sum is in its shapes;
 * the bases' scale `r = 4 g^2 / (k + 1)^2` depends on each. The phases start
 * at `s = arange(-k, g) / g`, `e = s + (k + 1) / g`; a checkpoint whose phases
 * are still exactly the start of another split of `g + k` (trained with fixed
 * phases, or never trained) is refused, naming that split. Trained phases
 * drift, and say nothing safe about the split: such a checkpoint loads with
 * the layer's own `g`, `k`, the user's declaration, as in the original's
 * constructor.
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

/** Whether every row of `low`, `high` is, to float32 rounding, ReLU-KAN's starting phases of `g`, `k`. */
function atStart(low: Float32Array, high: Float32Array, n: number, g: number, k: number): boolean {
  const start = reluPhases(g, k);
  const nb = g + k;
  const near = (a: number, b: number) => Math.abs(a - b) <= 2 ** -21 * Math.max(1, Math.abs(b));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < nb; j++) {
      if (!near(low[i * nb + j], start.low[j]) || !near(high[i * nb + j], start.high[j])) return false;
    }
  }
  return true;
}

/**
 * Refuses the layer when the checkpoint's phases are exactly the starting
 * phases of another split `g2 + k2 = g + k` (a checkpoint whose phases were
 * never trained says its split); trained phases drift, so any other checkpoint
 * is taken at the layer's own `g`, `k`, as the original's constructor takes them.
 */
function checkGK(call: string, layer: ReLUKAN, i: number, low: Float32Array, high: Float32Array): void {
  const { g, k } = layer.options;
  const n = layer.inFeatures;
  if (atStart(low, high, n, g, k)) return;
  for (let g2 = 1; g2 <= g + k; g2++) {
    const k2 = g + k - g2;
    if (g2 === g || !atStart(low, high, n, g2, k2)) continue;
    refuse(
      call,
      `${describeLayer(layer, i)} was built with g ${g}, k ${k}, but the checkpoint's phases ` +
        `(rk_layers.${i}.phase_low, phase_height) are exactly ReLU-KAN's starting phases of g ${g2}, ` +
        `k ${k2} (phase_low = arange(-k, g) / g: never trained), and g, k set the bases' scale ` +
        `r = 4 g^2 / (k + 1)^2; g and k are not in the state dict: build the model with g ${g2}, k ${k2}`,
    );
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
