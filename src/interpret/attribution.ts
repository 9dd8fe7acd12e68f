/**
 * pykan's attribution scores (`MultKAN.attribute` at ecde4ec) of a model of
 * B-spline KAN layers, from batch statistics computed on the GPU.
 *
 * From the outputs back: the last level's node scores are `1 / out` each
 * (pykan's identity of output scores, averaged over the outputs); an edge's
 * score is `edge_std[o, i] * node_score[o] / (output_std[o] + 1e-4)`, with
 * `edge_std` the standard deviation over the batch of the edge's activation
 * (pykan's `edge_actscale`) and `output_std` that of the node's sum (pykan's
 * `subnode_actscale`); an input node's score is the sum of its outgoing
 * edges' scores. Since every step is linear in the output scores, averaging
 * over the outputs at the end (as pykan does) equals averaging at the start.
 *
 * @module
 */

import { KanError } from "../errors.ts";
import type { BSplineKAN } from "../layers/bspline_kan.ts";
import type { Sequential } from "../layers/sequential.ts";
import { Tensor } from "../tensor.ts";
import { describe } from "../validate.ts";
import {
  decodeEdgeStatistics,
  type EdgeStatistics,
  edgeStatisticsSize,
  isBSplineKAN,
  recordEdgeStatistics,
} from "./edge_statistics.ts";

/** The attribution scores of a model on a batch, as pykan's `edge_scores` and `node_scores`. */
export interface Attribution {
  /** Per layer, each edge's score, `[out, in]` row-major. */
  edgeScores: Float64Array[];
  /** Per node level (`L + 1`, the inputs first, the outputs last), each node's score. */
  nodeScores: Float64Array[];
  /** Per layer, the batch statistics the scores come from. */
  statistics: EdgeStatistics[];
}

/**
 * The scores from per-layer statistics (pykan's `attribute()` from its
 * `edge_actscale` and `subnode_actscale`).
 *
 * @example
 * ```ts
 * import { scoresFromStatistics } from "./attribution.ts";
 * const stats = {
 *   edgeStd: Float64Array.of(2, 0), edgeMean: new Float64Array(2), inputStd: Float64Array.of(1, 1),
 *   inputMean: new Float64Array(2), outputStd: Float64Array.of(2), outputMean: new Float64Array(1),
 * };
 * const { nodeScores } = scoresFromStatistics([stats], [1], [2]);
 * console.log(nodeScores[0]); // Float64Array [0.99995..., 0]
 * ```
 */
export function scoresFromStatistics(
  statistics: readonly EdgeStatistics[],
  outDims: readonly number[],
  inDims: readonly number[],
): { edgeScores: Float64Array[]; nodeScores: Float64Array[] } {
  const depth = statistics.length;
  const nodeScores: Float64Array[] = new Array(depth + 1);
  const edgeScores: Float64Array[] = new Array(depth);
  nodeScores[depth] = new Float64Array(outDims[depth - 1]).fill(1 / outDims[depth - 1]);
  for (let l = depth - 1; l >= 0; l--) {
    const [m, n] = [outDims[l], inDims[l]];
    const { edgeStd, outputStd } = statistics[l];
    const above = nodeScores[l + 1];
    const edges = new Float64Array(m * n);
    const below = new Float64Array(n);
    for (let o = 0; o < m; o++) {
      const factor = above[o] / (outputStd[o] + 1e-4);
      for (let i = 0; i < n; i++) {
        edges[o * n + i] = edgeStd[o * n + i] * factor;
        below[i] += edges[o * n + i];
      }
    }
    edgeScores[l] = edges;
    nodeScores[l] = below;
  }
  return { edgeScores, nodeScores };
}

/**
 * pykan's `attribute()`: each edge's and node's importance for the model's
 * outputs on the batch `x` (`[B, in]`, `B >= 2`), from every layer's edge
 * statistics, computed on the GPU and read back once. Every layer must be a
 * {@linkcode BSplineKAN}; another kind is refused with a {@linkcode KanError}
 * naming it.
 *
 * @example
 * ```ts
 * import { Gpu, kan, Tensor } from "../../mod.ts";
 * import { attribute } from "./attribution.ts";
 * const gpu = await Gpu.request();
 * const model = kan(gpu, [2, 3, 1], { basis: "bspline", seed: 0 });
 * const x = Tensor.from(gpu, [0.1, -0.5, 0.7, 0.2, -0.3, 0.9, 0.4, 0.4], [4, 2]);
 * const { edgeScores, nodeScores } = await attribute(model, x);
 * console.log(edgeScores.length, nodeScores.map((s) => s.length)); // 2 [2, 3, 1]
 * gpu.destroy();
 * ```
 */
export async function attribute(model: Sequential, x: Tensor): Promise<Attribution> {
  const where = "attribute";
  const layers = (model as { layers?: unknown } | null)?.layers;
  if (!Array.isArray(layers) || layers.length === 0) {
    throw new KanError(`${where}: model must be a Sequential of BSplineKAN layers, got ${describe(model)}`);
  }
  layers.forEach((layer, l) => {
    if (!isBSplineKAN(layer)) {
      const kind = (layer as { kind?: unknown } | null)?.kind;
      throw new KanError(
        `${where}: layer ${l} is ${typeof kind === "string" ? `a ${kind}` : describe(layer)}; attribution ` +
          `is implemented for BSplineKAN layers only`,
      );
    }
  });
  const kans = layers as BSplineKAN[];
  const gpu = kans[0].gpu;
  const sizes = kans.map((layer) => edgeStatisticsSize(layer.outFeatures, layer.inFeatures));
  const all = Tensor.empty(gpu, [sizes.reduce((a, b) => a + b, 0)]);
  const owned: Tensor[] = [];
  try {
    let h = x;
    let offset = 0;
    kans.forEach((layer, l) => {
      const { stats, y } = recordEdgeStatistics(`${where}: layer ${l}`, layer, h);
      gpu.copy(stats.buffer, 0, all.buffer, 4 * offset, 4 * sizes[l]);
      stats.dispose();
      owned.push(y);
      h = y;
      offset += sizes[l];
    });
    for (const t of owned) t.dispose();
    owned.length = 0;
    const data = await all.read();
    let at = 0;
    const statistics = kans.map((layer, l) => {
      const s = decodeEdgeStatistics(data, layer.outFeatures, layer.inFeatures, at);
      at += sizes[l];
      return s;
    });
    const scores = scoresFromStatistics(
      statistics,
      kans.map((k) => k.outFeatures),
      kans.map((k) => k.inFeatures),
    );
    return { ...scores, statistics };
  } finally {
    for (const t of owned) t.dispose();
    all.dispose();
  }
}
