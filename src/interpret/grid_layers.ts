/**
 * Which layers the grid update and the grid extension take, and why the
 * others are refused; and the batch they are given, read into float32 rows.
 *
 * What each basis gets:
 * - `BSplineKAN`: both (its knots are per input and any increasing knots run
 *   on the GPU, so they can follow the data, and a spline on finer knots can
 *   hold the coarser one's function).
 * - `FastKAN`, `FasterKAN`: refused. Their centers (`rbf.grid`) are one grid
 *   shared by every input, not a parameter per input, and by default a
 *   LayerNorm already maps each input into the centers' fixed range: the
 *   normalization, not the grid, follows the data. Their Gaussian and
 *   switch bases are not nested either (centers moved or added do not span
 *   the old functions), so a refit could only approximate. Widen `numGrids`
 *   or the range and train instead.
 * - `ReLUKAN`: refused. Its phases (`phase_low`, `phase_height`) are trainable
 *   parameters: the optimizer already moves them with the data.
 * - Chebyshev, Jacobi, Fourier, wavelet and rational layers and the MLP's
 *   `Linear`: refused, they have no grid (polynomials on the tanh of the
 *   input, periodic terms, a scale and shift per edge, ratios, weights).
 *
 * @module
 */

import { KanError } from "../errors.ts";
import type { BSplineKAN } from "../layers/bspline_kan.ts";
import { Tensor } from "../tensor.ts";
import { checkRows, checkTensor, describe, flattenRows } from "../validate.ts";

// Layers are recognised by their `kind`, not by `instanceof`: the training loop imports this module,
// and a value import of the layer classes here would close an import cycle through them.

/** The `kind` of a layer-like object, or null. */
function kindOf(value: unknown): string | null {
  if (typeof value !== "object" || value === null) return null;
  const kind = (value as { kind?: unknown }).kind;
  const layerLike = typeof (value as { forward?: unknown }).forward === "function" &&
    typeof (value as { inFeatures?: unknown }).inFeatures === "number";
  return layerLike && typeof kind === "string" ? kind : null;
}

const WHY: Record<string, string> = {
  FastKAN: "its Gaussian centers (rbf.grid) are one grid shared by every input, and its LayerNorm, not " +
    "the grid, follows the data; Gaussian bases on other centers do not hold the old function exactly",
  FasterKAN: "its switch centers (rbf.grid) are one grid shared by every input, and its LayerNorm, not " +
    "the grid, follows the data; switch bases on other centers do not hold the old function exactly",
  ReLUKAN: "its phases (phase_low, phase_height) are trainable parameters that the optimizer already moves " +
    "with the data",
};

/**
 * `layer` as a {@linkcode BSplineKAN}, or a {@linkcode KanError} naming it
 * (`where`) and saying why its kind has no grid update or extension.
 *
 * @example
 * ```ts
 * import { BSplineKAN, Gpu, ReLUKAN } from "../../mod.ts";
 * import { requireSplineLayer } from "./grid_layers.ts";
 * const gpu = await Gpu.request();
 * requireSplineLayer("updateGrid", new BSplineKAN(gpu, 2, 1));
 * try {
 *   requireSplineLayer("updateGrid", new ReLUKAN(gpu, 2, 1));
 * } catch (e) {
 *   console.log((e as Error).message); // updateGrid: ... ReLUKAN ... phases ...
 * }
 * gpu.destroy();
 * ```
 */
export function requireSplineLayer(where: string, layer: unknown): BSplineKAN {
  const kind = kindOf(layer);
  if (kind === "BSplineKAN") return layer as BSplineKAN;
  if (kind !== null) {
    const why = WHY[kind] ?? "it has no grid";
    throw new KanError(
      `${where}: expected a BSplineKAN layer, got a ${kind}; grid update and extension are for ` +
        `B-spline KANs only (${why})`,
    );
  }
  throw new KanError(`${where}: expected a BSplineKAN layer, got ${describe(layer)}`);
}

/**
 * The layers of `model` (a `Sequential` of `BSplineKAN`s only), or a
 * {@linkcode KanError} naming the first other layer and why it is refused.
 */
export function requireSplineModel(where: string, model: unknown): BSplineKAN[] {
  const layers = (model as { layers?: unknown } | null)?.layers;
  if (!Array.isArray(layers) || layers.length === 0) {
    throw new KanError(`${where}: expected a Sequential model (from kan(...)), got ${describe(model)}`);
  }
  return layers.map((layer, l) => requireSplineLayer(`${where}: layer ${l}`, layer));
}

/** A batch of `[batch, cols]` rows in float32. */
export interface GridBatch {
  /** Row-major values. */
  data: Float32Array;
  /** Number of rows. */
  batch: number;
}

/**
 * Reads `x` (a `[B, cols]` tensor of `gpu`, plain rows, or `B * cols` numbers
 * row-major) into float32 rows; a wrong shape or a NaN or infinity is a
 * {@linkcode KanError} naming the row and column.
 */
export async function readGridBatch(
  where: string,
  x: Tensor | ArrayLike<number> | readonly (readonly number[])[],
  cols: number,
  gpu: Tensor["gpu"],
): Promise<GridBatch> {
  let data: Float32Array;
  if (x instanceof Tensor) {
    checkTensor(`${where}: x`, x, gpu);
    checkRows(where, "x", x, cols);
    data = await x.read();
  } else if (Array.isArray(x) && x.length > 0 && typeof x[0] !== "number") {
    data = flattenRows(`${where}: x`, x, cols);
  } else if (Array.isArray(x) || ArrayBuffer.isView(x)) {
    const flat = x as ArrayLike<unknown>;
    if (flat.length === 0 || flat.length % cols !== 0) {
      throw new KanError(
        `${where}: x must hold B * ${cols} numbers (rows of ${cols} inputs), got ${flat.length} values`,
      );
    }
    data = new Float32Array(flat.length);
    for (let k = 0; k < flat.length; k++) {
      const v = flat[k];
      data[k] = typeof v === "number" ? v : Number.NaN;
    }
  } else {
    throw new KanError(
      `${where}: x must be a [B, ${cols}] Tensor, rows of ${cols} numbers or a flat array, got ${
        describe(x)
      }`,
    );
  }
  const bad = data.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) {
    throw new KanError(
      `${where}: x must be finite, but x[${Math.floor(bad / cols)}][${bad % cols}] is ${data[bad]}` +
        " (NaN, an infinity, or beyond float32); nothing was changed",
    );
  }
  return { data, batch: data.length / cols };
}
