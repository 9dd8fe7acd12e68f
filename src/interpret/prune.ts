/**
 * Pruning a B-spline KAN as pykan's `prune` (`prune_node`, then
 * `prune_edge`): hidden nodes whose attribution score is at most
 * `nodeThreshold` go, with every edge into and out of them; inputs and
 * outputs stay; the edges left whose score is at most `edgeThreshold` are
 * masked. The result is a new, smaller model whose kept edges compute exactly
 * what they computed before (their weights and grid rows are copied).
 *
 * @module
 */

import { KanError } from "../errors.ts";
import { BSplineKAN } from "../layers/bspline_kan.ts";
import { Sequential } from "../layers/sequential.ts";
import type { StateDict } from "../layers/parameter.ts";
import {
  checkFinite,
  checkOptions,
  checkRows,
  checkTensor,
  describe,
  NON_NEGATIVE,
  option,
} from "../validate.ts";
import type { Tensor } from "../tensor.ts";
import { edgeFunction } from "./edge_curves.ts";
import { kanLayers, layerWidths } from "./prune_model.ts";

/**
 * Attribution scores as pykan's `attribute()` gives them: per layer, each
 * edge's score at `o * in + i`; per level `0..L` (inputs first), each node's.
 */
export interface NetworkScores {
  /** Per layer `l`, `[out_l * in_l]` edge scores (index `o * in + i`). */
  edgeScores: readonly ArrayLike<number>[];
  /** Per level `0..L`, that level's node scores (level 0: the inputs, level L: the outputs). */
  nodeScores: readonly ArrayLike<number>[];
}

/** Options of {@linkcode prune}, with pykan's defaults. */
export interface PruneOptions {
  /** A hidden node whose score is not above this goes (default 1e-2, pykan's `node_th`). */
  nodeThreshold?: number;
  /** A kept edge whose score is not above this is masked (default 3e-2, pykan's `edge_th`). */
  edgeThreshold?: number;
  /**
   * A batch of inputs `[N, in]` (not in pykan): when given, what each removed
   * edge (out of a dropped node, or masked now) gave on average over the batch
   * is added to its output's `bias` (the new layer gets a bias when it has
   * none and an offset is not zero), so that nearly-constant dropped nodes do
   * not shift the outputs. Without it, as pykan, those constants are lost.
   */
  x?: Tensor;
}

/** What {@linkcode prune} returns. */
export interface PruneResult {
  /** The new model (its own GPU buffers; the old model is untouched). */
  model: Sequential;
  /** Its widths. */
  widths: number[];
  /** Per level `0..L`, the indices (in the old model) of the nodes kept. */
  kept: number[][];
  /** Per layer of the new model, its edge mask `[out * in]` (1 on, 0 off), as set on the layer. */
  edgeMasks: Float32Array[];
}

/** Throws unless `scores` has one finite, non-negative array of the right length per layer and per level. */
function checkScores(where: string, scores: unknown, widths: number[]): NetworkScores {
  const s = scores as Partial<NetworkScores> | null;
  if (typeof s !== "object" || s === null || !Array.isArray(s.edgeScores) || !Array.isArray(s.nodeScores)) {
    throw new KanError(
      `${where}: scores must be { edgeScores, nodeScores } (as attribute() returns), got ${describe(scores)}`,
    );
  }
  const lists: [string, readonly unknown[], number[]][] = [
    ["edgeScores", s.edgeScores, widths.slice(1).map((w, l) => w * widths[l])],
    ["nodeScores", s.nodeScores, widths],
  ];
  for (const [name, list, sizes] of lists) {
    if (list.length !== sizes.length) {
      throw new KanError(
        `${where}: scores.${name} must have ${sizes.length} arrays (one per ${
          name === "edgeScores" ? "layer" : "level, inputs first"
        }), got ${list.length}`,
      );
    }
    list.forEach((a, l) => {
      const arr = a as ArrayLike<number>;
      if (typeof arr !== "object" || arr === null || arr.length !== sizes[l]) {
        throw new KanError(
          `${where}: scores.${name}[${l}] must be an array of ${sizes[l]} numbers, got ${describe(a)}`,
        );
      }
      for (let k = 0; k < arr.length; k++) {
        if (!(typeof arr[k] === "number" && arr[k] >= 0 && Number.isFinite(arr[k]))) {
          throw new KanError(
            `${where}: scores.${name}[${l}][${k}] must be a finite number >= 0, got ${describe(arr[k])}`,
          );
        }
      }
    });
  }
  return s as NetworkScores;
}

/**
 * Throws a {@linkcode KanError} naming the layer where the last path from the
 * inputs to some output breaks, when `edgeOn(l, o, i)` leaves none.
 */
function checkPaths(where: string, widths: number[], edgeOn: (l: number, o: number, i: number) => boolean) {
  const depth = widths.length - 1;
  // reach[l][n]: node n of level l is reached from some input through edges that are on.
  const reach: boolean[][] = [Array(widths[0]).fill(true)];
  for (let l = 0; l < depth; l++) {
    reach.push(
      Array.from({ length: widths[l + 1] }, (_, o) => reach[l].some((r, i) => r && edgeOn(l, o, i))),
    );
  }
  for (let out = 0; out < widths[depth]; out++) {
    if (reach[depth][out]) continue;
    // to[l][n]: node n of level l reaches output `out`.
    const to: boolean[][] = Array.from({ length: depth + 1 }, (_, l) => Array(widths[l]).fill(false));
    to[depth][out] = true;
    for (let l = depth - 1; l >= 0; l--) {
      for (let i = 0; i < widths[l]; i++) to[l][i] = to[l + 1].some((t, o) => t && edgeOn(l, o, i));
    }
    // Where it breaks: the first layer after which the inputs reach nothing, else the last layer into
    // whose outputs nothing reaching `out` is left, else the first layer after which no node both is
    // reached and reaches `out`.
    const dead = reach.findIndex((r, l) => l > 0 && !r.includes(true));
    let layer = dead - 1;
    let what = "from the nodes the inputs reach";
    if (dead < 0) {
      layer = to.findLastIndex((t) => !t.includes(true));
      what = `into the nodes that reach output ${out}`;
    }
    if (layer < 0) {
      layer = reach.findIndex((r, l) => l > 0 && !r.some((v, n) => v && to[l][n])) - 1;
      what = `from a node the inputs reach to a node that reaches output ${out}`;
    }
    throw new KanError(
      `${where}: the prune would remove every path from the inputs to output ${out}: layer ${layer} ` +
        `keeps no edge ${what} (lower nodeThreshold or edgeThreshold); the model is unchanged`,
    );
  }
}

/**
 * Prunes `model` (a `Sequential` of `BSplineKAN`) by attribution `scores`, as
 * pykan's `prune(node_th, edge_th)`: hidden nodes with a node score `<=
 * nodeThreshold` go, inputs and outputs stay; in the new model each edge whose
 * score is `<= edgeThreshold`, or that the old layer's mask had off, is masked
 * (`setEdgeMask`). The new model is built with the same layer options; its kept
 * edges have the old `base_weight`, `spline_weight`, `spline_scaler`, grid
 * rows and (for kept outputs) `bias`. Unlike pykan, which attributes again
 * after pruning the nodes, the edges are judged by the scores given. With
 * option `x`, the mean of every removed edge on that batch goes into its
 * output's bias (see {@linkcode PruneOptions.x}).
 * A prune that leaves an output without a path from the inputs is a
 * `KanError` naming the layer; the old model is never changed.
 *
 * @example
 * ```ts
 * import { Gpu, kan } from "../../mod.ts";
 * import { prune } from "./prune.ts";
 * const gpu = await Gpu.request();
 * const model = kan(gpu, [2, 3, 1], { basis: "bspline", seed: 0 });
 * const scores = {
 *   edgeScores: [[0.5, 0.4, 0, 0, 0.2, 0.01], [0.6, 0, 0.3]],
 *   nodeScores: [[0.6, 0.5], [0.6, 0, 0.3], [1]],
 * };
 * const pruned = await prune(model, scores);
 * console.log(pruned.widths, pruned.kept); // [2, 2, 1] [[0, 1], [0, 2], [0]]
 * gpu.destroy();
 * ```
 */
export async function prune(
  model: Sequential,
  scores: NetworkScores,
  options: PruneOptions = {},
): Promise<PruneResult> {
  const where = "prune";
  const layers = kanLayers(where, model);
  checkOptions(where, options, ["nodeThreshold", "edgeThreshold", "x"]);
  const x = options.x;
  if (x !== undefined) {
    checkTensor(`${where}: option "x"`, x, layers[0].gpu);
    checkRows(where, `option "x"`, x, layers[0].inFeatures);
    checkFinite(`${where}: option "x"`, x);
  }
  const nodeThreshold = option(where, options, "nodeThreshold", NON_NEGATIVE, 1e-2);
  const edgeThreshold = option(where, options, "edgeThreshold", NON_NEGATIVE, 3e-2);
  const widths = layerWidths(layers);
  const { edgeScores, nodeScores } = checkScores(where, scores, widths);
  const depth = layers.length;
  const kept = widths.map((w, l) =>
    Array.from({ length: w }, (_, n) => n).filter((n) =>
      l === 0 || l === depth || nodeScores[l][n] > nodeThreshold
    )
  );
  const oldMasks = layers.map((layer) => layer.edgeMask);
  // Edge (o, i) of new layer l (old indices kept[l + 1][o], kept[l][i]) stays on when the old mask had it on
  // and its score is above the threshold.
  const on = (l: number, oldO: number, oldI: number) => {
    const e = oldO * widths[l] + oldI;
    return (oldMasks[l] === null || oldMasks[l]![e] !== 0) && edgeScores[l][e] > edgeThreshold;
  };
  const newWidths = kept.map((k) => k.length);
  checkPaths(where, newWidths, (l, o, i) => on(l, kept[l + 1][o], kept[l][i]));
  const edgeMasks = layers.map((_, l) =>
    Float32Array.from(
      { length: newWidths[l + 1] * newWidths[l] },
      (_, e) => on(l, kept[l + 1][Math.floor(e / newWidths[l])], kept[l][e % newWidths[l]]) ? 1 : 0,
    )
  );
  const dicts = await Promise.all(layers.map((layer) => layer.stateDict()));
  const offsets = x === undefined
    ? null
    : await removedMeans(layers, dicts, x, (l, o, i) => kept[l].includes(i) && on(l, o, i));
  const built: BSplineKAN[] = [];
  try {
    layers.forEach((layer, l) => {
      const bias = layer.options.bias || (offsets !== null && kept[l + 1].some((o) => offsets[l][o] !== 0));
      built.push(new BSplineKAN(layer.gpu, newWidths[l], newWidths[l + 1], { ...layer.options, bias }));
    });
    const pruned = new Sequential(built);
    const state: StateDict = {};
    layers.forEach((layer, l) => {
      const sub = subsetState(layer, dicts[l], kept[l], kept[l + 1]);
      if (built[l].options.bias) {
        const bias = sub.bias?.data ?? new Float32Array(newWidths[l + 1]);
        if (offsets) kept[l + 1].forEach((o, k) => bias[k] += offsets[l][o]);
        sub.bias = { shape: [newWidths[l + 1]], data: bias };
      }
      for (const [name, entry] of Object.entries(sub)) state[`layers.${l}.${name}`] = entry;
    });
    pruned.loadStateDict(state);
    built.forEach((layer, l) => {
      if (edgeMasks[l].includes(0)) layer.setEdgeMask(edgeMasks[l]);
    });
    return { model: pruned, widths: newWidths, kept, edgeMasks };
  } catch (e) {
    for (const layer of built) layer.dispose();
    throw e;
  }
}

/**
 * Per layer, per output, the sum over the edges that `stays(l, o, i)` rejects
 * of their mean value on the batch (each layer's input from a GPU forward
 * pass of the old model), in float64.
 */
async function removedMeans(
  layers: BSplineKAN[],
  dicts: StateDict[],
  x: Tensor,
  stays: (l: number, o: number, i: number) => boolean,
): Promise<Float64Array[]> {
  const means: Float64Array[] = [];
  let h = x;
  try {
    for (let l = 0; l < layers.length; l++) {
      const { inFeatures: n, outFeatures: m } = layers[l];
      const values = await h.read();
      const rows = values.length / n;
      const mean = new Float64Array(m);
      const mask = layers[l].edgeMask;
      for (let o = 0; o < m; o++) {
        for (let i = 0; i < n; i++) {
          if (stays(l, o, i) || (mask !== null && mask[o * n + i] === 0)) continue;
          const phi = edgeFunction(layers[l], dicts[l], o, i);
          let sum = 0;
          for (let b = 0; b < rows; b++) sum += phi(values[b * n + i]);
          mean[o] += sum / rows;
        }
      }
      means.push(mean);
      if (l + 1 < layers.length) {
        const next = layers[l].forward(h);
        if (h !== x) h.dispose();
        h = next;
      }
    }
  } finally {
    if (h !== x) h.dispose();
  }
  return means;
}

/** The state dict of `layer` restricted to inputs `ins` and outputs `outs` (old indices). */
function subsetState(layer: BSplineKAN, dict: StateDict, ins: number[], outs: number[]): StateDict {
  const inDim = layer.inFeatures;
  const nb = layer.basis.count;
  const knots = dict.grid.shape[1];
  const pick = (data: Float32Array, rows: number[], width: number) => {
    const out = new Float32Array(rows.length * width);
    rows.forEach((r, k) => out.set(data.subarray(r * width, (r + 1) * width), k * width));
    return out;
  };
  const edges = outs.flatMap((o) => ins.map((i) => o * inDim + i));
  const state: StateDict = {
    grid: { shape: [ins.length, knots], data: pick(dict.grid.data, ins, knots) },
    base_weight: { shape: [outs.length, ins.length], data: pick(dict.base_weight.data, edges, 1) },
    spline_weight: { shape: [outs.length, ins.length, nb], data: pick(dict.spline_weight.data, edges, nb) },
    spline_scaler: { shape: [outs.length, ins.length], data: pick(dict.spline_scaler.data, edges, 1) },
  };
  if (dict.bias) state.bias = { shape: [outs.length], data: pick(dict.bias.data, outs, 1) };
  return state;
}
