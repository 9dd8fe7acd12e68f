/**
 * `model.summary()` and `model.parameterCount()`: per layer its kind, widths,
 * basis, parameter count and bytes, as a table.
 *
 * @module
 */

import type { Parameter } from "./parameter.ts";

/** Counts of a model's state-dict values. */
export interface ParameterCount {
  /** Floats an optimizer updates (`trainable` parameters). */
  trainable: number;
  /** Every value of the state dict, grids and other buffers included. */
  total: number;
}

/** What the summary needs of one layer. */
export interface SummaryLayer {
  /** Class name, e.g. `"BSplineKAN"`. */
  readonly kind?: string;
  /** Input width. */
  readonly inFeatures: number;
  /** Output width. */
  readonly outFeatures: number;
  /** The basis, for KAN layers. */
  readonly basis?: { readonly name: string };
  /** The parameters by state-dict key. */
  namedParameters(): Map<string, Parameter>;
}

/** Trainable and total floats of `parameters` (a parameter shared by two layers counts once). */
export function countParameters(parameters: Iterable<Parameter>): ParameterCount {
  let trainable = 0;
  let total = 0;
  for (const p of new Set(parameters)) {
    total += p.size;
    if (p.trainable) trainable += p.size;
  }
  return { trainable, total };
}

const HEADER = ["#", "layer", "in", "out", "basis", "parameters", "trainable", "bytes"];

/** Right-aligned columns except the text ones (`layer`, `basis`). */
function formatTable(rows: string[][]): string {
  const widths = HEADER.map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const left = new Set([1, 4]);
  return rows.map((r) =>
    r.map((cell, c) => left.has(c) ? cell.padEnd(widths[c]) : cell.padStart(widths[c])).join("  ").trimEnd()
  ).join("\n");
}

/**
 * The table of `model.summary()`: one row per layer (kind, widths, basis or
 * `-`, parameters, trainable, bytes of float32 values) and a total row.
 *
 * @example
 * ```ts
 * import { Gpu, kan } from "../../mod.ts";
 * const gpu = await Gpu.request();
 * console.log(kan(gpu, [2, 5, 1], { basis: "bspline" }).summary());
 * gpu.destroy();
 * ```
 */
export function formatSummary(layers: readonly SummaryLayer[]): string {
  const rows = [HEADER];
  const all: Parameter[] = [];
  layers.forEach((layer, i) => {
    const parameters = [...layer.namedParameters().values()];
    all.push(...parameters);
    const count = countParameters(parameters);
    rows.push([
      `${i}`,
      layer.kind ?? "layer",
      `${layer.inFeatures}`,
      `${layer.outFeatures}`,
      layer.basis?.name ?? "-",
      count.total.toLocaleString("en-US"),
      count.trainable.toLocaleString("en-US"),
      (count.total * 4).toLocaleString("en-US"),
    ]);
  });
  const total = countParameters(all);
  rows.push([
    "",
    "total",
    `${layers[0].inFeatures}`,
    `${layers[layers.length - 1].outFeatures}`,
    "",
    total.total.toLocaleString("en-US"),
    total.trainable.toLocaleString("en-US"),
    (total.total * 4).toLocaleString("en-US"),
  ]);
  return formatTable(rows);
}
