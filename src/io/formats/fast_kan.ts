/**
 * fast-kan's `FastKAN` (ZiyaoLi/fast-kan at 17b6540): `layers.<i>.layernorm.*`,
 * `rbf.grid`, `spline_linear.weight` and `base_linear.*` (with `use_base_update`),
 * the names of `FastKAN` here. The model class always normalizes and never
 * takes a denominator: it is `(grid_max - grid_min) / (num_grids - 1)`, which
 * the checkpoint's `rbf.grid` gives, so a model built with another one is refused.
 *
 * @module
 */

import type { FastKAN } from "../../layers/fast_kan.ts";
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

const FORMAT = "fast-kan";

/** The denominator fast-kan's `FastKAN` derives for a grid, and whether `denominator` equals it. */
function gridDenominator(grid: ArrayLike<number>, denominator: number): { h: number; same: boolean } {
  const n = grid.length;
  const [lo, hi] = [grid[0], grid[n - 1]];
  const h = (hi - lo) / (n - 1);
  // The grid holds float32 ends of grid_min and grid_max; the original divides their float64 values.
  const tol = 1e-6 * Math.max(Math.abs(h), (Math.abs(lo) + Math.abs(hi)) / (n - 1));
  return { h, same: Math.abs(h - denominator) <= tol };
}

function checkNormalizes(call: string, layer: FastKAN, i: number): void {
  if (!layer.options.useLayerNorm) {
    refuse(
      call,
      `fast-kan's FastKAN normalizes every layer's input, but ${
        describeLayer(layer, i)
      } was built with useLayerNorm: false`,
    );
  }
}

function checkLayer(call: string, layer: FastKAN, i: number, grid: ArrayLike<number>, key: string): void {
  const { numGrids, denominator } = layer.options;
  checkNormalizes(call, layer, i);
  if (numGrids < 2) refuse(call, `fast-kan's FastKAN needs num_grids >= 2, ${describeLayer(layer, i)} has 1`);
  const { h, same } = gridDenominator(grid, denominator);
  if (!same) {
    refuse(
      call,
      `${describeLayer(layer, i)} has denominator ${denominator}, but fast-kan's FastKAN uses ` +
        `(grid_max - grid_min) / (num_grids - 1) = ${h} for the grid "${key}" (${grid[0]} .. ${
          grid[grid.length - 1]
        }); build it with gridMin ${grid[0]}, gridMax ${grid[grid.length - 1]}, numGrids ${numGrids}`,
    );
  }
}

/** fast-kan `FastKAN` state dict -> this module's, per layer. */
export function fromFastKan(call: string, model: ModelLayers, dict: StateDict): StateDict[] {
  requireKind(call, model, "FastKAN", FORMAT);
  const reader = new CheckpointReader(call, dict);
  const out = model.layers.map((l, i) => {
    const layer = l as FastKAN;
    const { inFeatures: n, outFeatures: m } = layer;
    const { numGrids: g, useBaseUpdate } = layer.options;
    const p = `layers.${i}.`;
    const ctx = `${describeLayer(layer, i)}, numGrids ${g}`;
    if (!useBaseUpdate && reader.has(`${p}base_linear.weight`)) {
      refuse(
        call,
        `the checkpoint has a base branch ("${p}base_linear.weight"), but ${
          describeLayer(layer, i)
        } was built with useBaseUpdate: false`,
      );
    }
    if (useBaseUpdate && !reader.has(`${p}base_linear.weight`) && reader.has(`${p}spline_linear.weight`)) {
      refuse(
        call,
        `the checkpoint has no base branch (no "${p}base_linear.weight", use_base_update=False), but ${
          describeLayer(layer, i)
        } was built with useBaseUpdate: true`,
      );
    }
    checkNormalizes(call, layer, i);
    const grid = reader.take(`${p}rbf.grid`, [g], ctx);
    checkLayer(call, layer, i, grid, `${p}rbf.grid`);
    const own: StateDict = {
      "layernorm.weight": entry([n], reader.take(`${p}layernorm.weight`, [n], ctx)),
      "layernorm.bias": entry([n], reader.take(`${p}layernorm.bias`, [n], ctx)),
      "rbf.grid": entry([g], grid),
      "spline_linear.weight": entry([m, n * g], reader.take(`${p}spline_linear.weight`, [m, n * g], ctx)),
    };
    if (useBaseUpdate) {
      own["base_linear.weight"] = entry([m, n], reader.take(`${p}base_linear.weight`, [m, n], ctx));
      own["base_linear.bias"] = entry([m], reader.take(`${p}base_linear.bias`, [m], ctx));
    }
    return own;
  });
  reader.finish(` (this model has ${model.layers.length} FastKAN layers)`);
  return out;
}

/** This module's state dict (per layer) -> fast-kan `FastKAN`'s. */
export function toFastKan(call: string, model: ModelLayers, dicts: StateDict[]): StateDict {
  requireKind(call, model, "FastKAN", FORMAT);
  requireShared(call, model, "num_grids", (l) => (l as FastKAN).options.numGrids, "fast-kan's FastKAN");
  requireShared(
    call,
    model,
    "use_base_update",
    (l) => (l as FastKAN).options.useBaseUpdate,
    "fast-kan's FastKAN",
  );
  requireShared(call, model, "denominator", (l) => (l as FastKAN).options.denominator, "fast-kan's FastKAN");
  const out: StateDict = {};
  model.layers.forEach((l, i) => {
    const layer = l as FastKAN;
    const d = dicts[i];
    const { inFeatures: n, outFeatures: m } = layer;
    const g = layer.options.numGrids;
    const grid = local(d, "rbf.grid");
    checkLayer(call, layer, i, grid, `layers.${i}.rbf.grid`);
    const p = `layers.${i}.`;
    out[`${p}layernorm.weight`] = entry([n], local(d, "layernorm.weight").slice());
    out[`${p}layernorm.bias`] = entry([n], local(d, "layernorm.bias").slice());
    out[`${p}rbf.grid`] = entry([g], grid.slice());
    out[`${p}spline_linear.weight`] = entry([m, n * g], local(d, "spline_linear.weight").slice());
    if (layer.options.useBaseUpdate) {
      out[`${p}base_linear.weight`] = entry([m, n], local(d, "base_linear.weight").slice());
      out[`${p}base_linear.bias`] = entry([m], local(d, "base_linear.bias").slice());
    }
  });
  return out;
}
