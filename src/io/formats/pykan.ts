/**
 * pykan's `KAN` (= `MultKAN`, KindXiaoming/pykan at ecde4ec) into `BSplineKAN`
 * layers and back. Layer `l` of pykan computes, for output `o`,
 *
 *     node_scale[o] * (subnode_scale[o] * sum_i mask[i,o] * (scale_base[i,o] * base(x_i)
 *         + scale_sp[i,o] * sum_j coef[i,o,j] B_j(x_i)) + subnode_bias[o]) + node_bias[o]
 *
 * (its entries `act_fun.<l>.{grid, coef, mask, scale_base, scale_sp}`,
 * `node_scale_<l>`, `node_bias_<l>`, `subnode_scale_<l>`, `subnode_bias_<l>`),
 * which is a `BSplineKAN` with `base_weight[o,i] = s mask scale_base`,
 * `spline_scaler[o,i] = s mask scale_sp` (`s = node_scale * subnode_scale`),
 * `spline_weight[o,i,j] = coef[i,o,j]` and `bias = node_scale * subnode_bias +
 * node_bias`. Grids, non-uniform after `update_grid` included, load as they are.
 * Symbolic functions (`symbolic_fun.<l>.mask` nonzero) and multiplication nodes
 * are refused.
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
  transpose,
} from "./checkpoint_reader.ts";

const FORMAT = "pykan";

/** Refuses multiplication nodes: a layer with more subnodes than nodes. */
function checkNoMultiplication(call: string, reader: CheckpointReader, l: number): void {
  const nodes = reader.shapeOf(`node_scale_${l}`);
  const subnodes = reader.shapeOf(`subnode_scale_${l}`);
  if (nodes && subnodes && nodes.length === 1 && subnodes.length === 1 && nodes[0] !== subnodes[0]) {
    refuse(
      call,
      `the checkpoint has multiplication nodes in layer ${l} ("subnode_scale_${l}" has ${subnodes[0]} ` +
        `entries, "node_scale_${l}" has ${nodes[0]}: a MultKAN width with products), which this module ` +
        `does not support`,
    );
  }
}

/** Refuses a layer with any symbolic function switched on. */
function checkNoSymbolic(call: string, mask: Float32Array, l: number, n: number): void {
  const at = mask.findIndex((v) => v !== 0);
  if (at >= 0) {
    const [o, i] = [Math.floor(at / n), at % n];
    refuse(
      call,
      `the checkpoint has symbolic functions switched on ("symbolic_fun.${l}.mask"[${o}][${i}] = ${
        mask[at]
      }: input ${i} -> output ${o} of layer ${l}), which this module does not support yet`,
    );
  }
}

/** pykan `KAN`/`MultKAN` state dict -> this module's, per layer. */
export function fromPykan(call: string, model: ModelLayers, dict: StateDict): StateDict[] {
  requireKind(call, model, "BSplineKAN", FORMAT);
  const reader = new CheckpointReader(call, dict);
  model.layers.forEach((_, l) => checkNoMultiplication(call, reader, l));
  const out = model.layers.map((lay, l) => {
    const layer = lay as BSplineKAN;
    const { inFeatures: n, outFeatures: m } = layer;
    const { gridSize: g, splineOrder: k, bias } = layer.options;
    const nb = g + k;
    const ctx = `${describeLayer(layer, l)}, gridSize ${g}, splineOrder ${k}`;
    const symbolic = reader.take(`symbolic_fun.${l}.mask`, [m, n], ctx);
    checkNoSymbolic(call, symbolic, l, n);
    reader.take(`symbolic_fun.${l}.affine`, [m, n, 4], ctx);
    const a = `act_fun.${l}.`;
    const grid = reader.take(`${a}grid`, [n, g + 2 * k + 1], ctx);
    checkKnots(call, `${a}grid`, grid, n);
    const coef = reader.take(`${a}coef`, [n, m, nb], ctx);
    const mask = reader.take(`${a}mask`, [n, m], ctx);
    const scaleBase = reader.take(`${a}scale_base`, [n, m], ctx);
    const scaleSp = reader.take(`${a}scale_sp`, [n, m], ctx);
    const nodeScale = reader.take(`node_scale_${l}`, [m], ctx);
    const nodeBias = reader.take(`node_bias_${l}`, [m], ctx);
    const subScale = reader.take(`subnode_scale_${l}`, [m], ctx);
    const subBias = reader.take(`subnode_bias_${l}`, [m], ctx);

    const baseWeight = new Float32Array(m * n);
    const scaler = new Float32Array(m * n);
    const splineWeight = new Float32Array(m * n * nb);
    const b = new Float32Array(m);
    for (let o = 0; o < m; o++) {
      const s = nodeScale[o] * subScale[o];
      b[o] = nodeScale[o] * subBias[o] + nodeBias[o];
      for (let i = 0; i < n; i++) {
        baseWeight[o * n + i] = s * mask[i * m + o] * scaleBase[i * m + o];
        scaler[o * n + i] = s * mask[i * m + o] * scaleSp[i * m + o];
        for (let j = 0; j < nb; j++) splineWeight[(o * n + i) * nb + j] = coef[(i * m + o) * nb + j];
      }
    }
    const own: StateDict = {
      grid: entry([n, g + 2 * k + 1], grid),
      base_weight: entry([m, n], baseWeight),
      spline_weight: entry([m, n, nb], splineWeight),
      spline_scaler: entry([m, n], scaler),
    };
    if (bias) {
      own.bias = entry([m], b);
    } else {
      const o = b.findIndex((v) => v !== 0);
      if (o >= 0) {
        refuse(
          call,
          `layer ${l} of the checkpoint adds a bias (node_scale_${l} * subnode_bias_${l} + node_bias_${l} = ${
            b[o]
          } at output ${o}), but ${describeLayer(layer, l)} was built without one; build it with bias: true`,
        );
      }
    }
    return own;
  });
  reader.finish(` (this model has ${model.layers.length} BSplineKAN layers)`);
  return out;
}

/** This module's state dict (per layer) -> pykan `KAN`'s: masks 1, node and subnode scales 1, symbolic functions off. */
export function toPykan(call: string, model: ModelLayers, dicts: StateDict[]): StateDict {
  requireKind(call, model, "BSplineKAN", FORMAT);
  requireShared(call, model, "base_fun", (l) => (l as BSplineKAN).options.baseActivation, "pykan's KAN");
  const out: StateDict = {};
  model.layers.forEach((lay, l) => {
    const layer = lay as BSplineKAN;
    const d = dicts[l];
    const { inFeatures: n, outFeatures: m } = layer;
    const { gridSize: g, splineOrder: k } = layer.options;
    const nb = g + k;
    const w = local(d, "spline_weight");
    const coef = new Float32Array(n * m * nb);
    for (let o = 0; o < m; o++) {
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < nb; j++) coef[(i * m + o) * nb + j] = w[(o * n + i) * nb + j];
      }
    }
    const a = `act_fun.${l}.`;
    out[`${a}grid`] = entry([n, g + 2 * k + 1], local(d, "grid").slice());
    out[`${a}coef`] = entry([n, m, nb], coef);
    out[`${a}mask`] = entry([n, m], new Float32Array(n * m).fill(1));
    out[`${a}scale_base`] = entry([n, m], transpose(local(d, "base_weight"), m, n));
    out[`${a}scale_sp`] = entry([n, m], transpose(local(d, "spline_scaler"), m, n));
    out[`node_bias_${l}`] = entry([m], d.bias ? local(d, "bias").slice() : new Float32Array(m));
    out[`node_scale_${l}`] = entry([m], new Float32Array(m).fill(1));
    out[`subnode_bias_${l}`] = entry([m], new Float32Array(m));
    out[`subnode_scale_${l}`] = entry([m], new Float32Array(m).fill(1));
    out[`symbolic_fun.${l}.mask`] = entry([m, n], new Float32Array(m * n));
    out[`symbolic_fun.${l}.affine`] = entry([m, n, 4], new Float32Array(m * n * 4));
  });
  return out;
}
