/**
 * The models that pruning, edge curves and the network plot read: a
 * `Sequential` of `BSplineKAN` layers, whose every edge `(o, i)` is one
 * function of one input, `phi_oi(x) = base_weight[o,i] base(x) +
 * spline_scaler[o,i] sum_j spline_weight[o,i,j] B_j(x)`.
 *
 * @module
 */

import { KanError } from "../errors.ts";
import { BSplineKAN } from "../layers/bspline_kan.ts";
import { HybridKAN } from "../layers/hybrid_kan.ts";
import { Sequential } from "../layers/sequential.ts";
import type { SymbolicEdges } from "../layers/symbolic_edges.ts";
import { describe } from "../validate.ts";

/**
 * The layers of `model` when it is a `Sequential` of `BSplineKAN` layers;
 * anything else is a {@linkcode KanError} naming `where`, the layer and its
 * class (the other members' edges are not one function of one input each:
 * LayerNorm mixes the inputs of FastKAN and FasterKAN, for example).
 *
 * @example
 * ```ts
 * import { Gpu, kan } from "../../mod.ts";
 * import { kanLayers } from "./prune_model.ts";
 * const gpu = await Gpu.request();
 * console.log(kanLayers("prune", kan(gpu, [2, 3, 1], { basis: "bspline" })).length); // 2
 * gpu.destroy();
 * ```
 */
export function kanLayers(where: string, model: unknown): BSplineKAN[] {
  return edgeLayers(where, model).map(({ numeric, symbolic }, l) => {
    if (symbolic !== null) {
      throw new KanError(
        `${where}: layer ${l} is a HybridKAN (with symbolic edges); ${where} takes BSplineKAN layers only ` +
          `(prune before fixing symbols)`,
      );
    }
    return numeric;
  });
}

/** A layer as edges: its B-spline part and, for a `HybridKAN`, each edge's symbol (index `o * in + i`). */
export interface EdgeLayerView {
  /** The B-spline layer (a `HybridKAN`'s numeric part, whose mask is 0 on its symbolic edges). */
  numeric: BSplineKAN;
  /** A `HybridKAN`'s symbolic part; null for a plain `BSplineKAN`. */
  symbolic: SymbolicEdges | null;
}

/**
 * The layers of `model` when it is a `Sequential` of `BSplineKAN` or
 * `HybridKAN` (B-spline with symbolic edges) layers, as
 * {@linkcode EdgeLayerView}s; anything else is a {@linkcode KanError} naming
 * `where`, the layer and its class.
 *
 * @example
 * ```ts
 * import { Gpu, kan } from "../../mod.ts";
 * import { edgeLayers } from "./prune_model.ts";
 * const gpu = await Gpu.request();
 * console.log(edgeLayers("plotNetwork", kan(gpu, [2, 3, 1], { basis: "bspline" }))[0].symbolic); // null
 * gpu.destroy();
 * ```
 */
export function edgeLayers(where: string, model: unknown): EdgeLayerView[] {
  if (!(model instanceof Sequential)) {
    throw new KanError(
      `${where}: model must be a Sequential of BSplineKAN layers (from kan(gpu, widths, { basis: "bspline" })), ` +
        `got ${describe(model)}`,
    );
  }
  return model.layers.map((layer, l) => {
    if (layer instanceof HybridKAN) return { numeric: layer.numeric, symbolic: layer.symbolic };
    if (!(layer instanceof BSplineKAN)) {
      throw new KanError(
        `${where}: layer ${l} is a ${layer.kind}; only BSplineKAN layers (basis "bspline"), with or ` +
          `without symbolic edges (HybridKAN), have one function per edge that this reads`,
      );
    }
    return { numeric: layer, symbolic: null };
  });
}

/** The widths `[in, hidden..., out]` of a chain of layers. */
export function layerWidths(layers: readonly { inFeatures: number; outFeatures: number }[]): number[] {
  return [layers[0].inFeatures, ...layers.map((l) => l.outFeatures)];
}
