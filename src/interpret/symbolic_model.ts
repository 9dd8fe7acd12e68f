/**
 * pykan's `auto_symbolic` and `symbolic_formula` on this module's models: each
 * edge of a B-spline KAN is sampled over the range its input took, the
 * library's functions are fitted to it (`suggestSymbols`), the best one is
 * fixed on a {@linkcode HybridKAN} copy of the model (its four parameters go
 * on training on the GPU), and once every edge is symbolic the network is
 * composed into one formula per output.
 *
 * @module
 */

import { KanError } from "../errors.ts";
import type { Tensor } from "../tensor.ts";
import { BSplineKAN } from "../layers/bspline_kan.ts";
import { HybridKAN } from "../layers/hybrid_kan.ts";
import { Sequential } from "../layers/sequential.ts";
import type { EdgeSymbol } from "../layers/symbolic_edges.ts";
import { BOOLEAN, checkOptions, integer, option } from "../validate.ts";
import { composeNetwork, type SymbolicLayer } from "../symbolic/compose.ts";
import { simplifyExpression } from "../symbolic/simplify.ts";
import { type Expr, formatExpression } from "../symbolic/expression.ts";
import { suggestSymbols, type SuggestSymbolsOptions } from "../symbolic/fit_symbol.ts";
import { edgeCurves } from "./edge_curves.ts";
import { kanLayers } from "./prune_model.ts";

/** Options of {@linkcode autoSymbolic}. */
export interface AutoSymbolicOptions {
  /** The library functions to try (pykan's names; default: the whole library). */
  lib?: readonly string[];
  /** The weight of simplicity against R² (default 0.8, pykan's `weight_simple`). */
  weightSimple?: number;
  /** An edge whose best R² is below this stays numeric (default 0, pykan's `r2_threshold`). */
  r2Threshold?: number;
  /** Sample points per edge curve (default 101). */
  samples?: number;
  /** The range of `a` searched (default [-10, 10]). */
  aRange?: [number, number];
  /** The range of `b` searched (default [-10, 10]). */
  bRange?: [number, number];
}

/** The symbol chosen for one edge. */
export interface EdgeChoice extends EdgeSymbol {
  /** The layer. */
  layer: number;
  /** The output node. */
  out: number;
  /** The input node. */
  in: number;
  /** R² of the fit on the edge's curve. */
  r2: number;
}

/** What {@linkcode autoSymbolic} returns. */
export interface AutoSymbolicResult {
  /** A new model of {@linkcode HybridKAN} layers with the chosen symbols fixed (the old model is untouched). */
  model: Sequential;
  /** Every edge given a symbol, in layer, output, input order. */
  choices: EdgeChoice[];
  /** Edges left numeric because no function reached `r2Threshold`. */
  numeric: { layer: number; out: number; in: number; r2: number }[];
}

const AUTO_OPTIONS = ["lib", "weightSimple", "r2Threshold", "samples", "aRange", "bRange"];

/**
 * A {@linkcode HybridKAN} copy of `layer` (same state, same edge mask, no symbol yet).
 */
async function hybridCopy(layer: BSplineKAN): Promise<HybridKAN> {
  const copy = new BSplineKAN(layer.gpu, layer.inFeatures, layer.outFeatures, layer.options);
  copy.loadStateDict(await layer.stateDict());
  copy.setEdgeMask(layer.edgeMask);
  return new HybridKAN(copy);
}

/**
 * pykan's `auto_symbolic`: for every edge of a B-spline KAN (masked edges
 * stay off), samples its function over the range its input took on `x`,
 * ranks the library's functions as `suggest_symbolic` does, and fixes the
 * best one (with its fitted `a, b, c, d`) on a new model of
 * {@linkcode HybridKAN} layers, whose symbolic parameters then train with
 * `fit` as any other. Edges whose best R² is below `r2Threshold` stay
 * numeric.
 *
 * @example
 * ```ts
 * import { Gpu, kan, Tensor } from "../../mod.ts";
 * import { autoSymbolic } from "./symbolic_model.ts";
 * const gpu = await Gpu.request();
 * const model = kan(gpu, [1, 1], { basis: "bspline", seed: 0 });
 * const x = Tensor.from(gpu, Array.from({ length: 50 }, (_, k) => -1 + k / 25), [50, 1]);
 * const { model: symbolic, choices } = await autoSymbolic(model, x, { lib: ["x", "x^2", "sin"] });
 * console.log(choices.map((c) => `${c.name} r2=${c.r2.toFixed(4)}`));
 * symbolic.dispose();
 * gpu.destroy();
 * ```
 */
export async function autoSymbolic(
  model: Sequential,
  x: Tensor,
  options: AutoSymbolicOptions = {},
): Promise<AutoSymbolicResult> {
  const where = "autoSymbolic";
  const layers = kanLayers(where, model);
  checkOptions(where, options, AUTO_OPTIONS);
  const r2Threshold = option(where, options, "r2Threshold", {
    expected: "a number in [0, 1]",
    test: (v): v is number => typeof v === "number" && v >= 0 && v <= 1,
  }, 0);
  const suggest: SuggestSymbolsOptions = { topK: 1 };
  if (options.lib !== undefined) suggest.lib = options.lib;
  if (options.weightSimple !== undefined) suggest.weightSimple = options.weightSimple;
  if (options.aRange !== undefined) suggest.aRange = options.aRange;
  if (options.bRange !== undefined) suggest.bRange = options.bRange;
  const curves = await edgeCurves(
    model,
    x,
    options.samples === undefined ? {} : { samples: options.samples },
  );
  // Choose every symbol before building anything, so that a refused option leaves nothing behind.
  const choices: EdgeChoice[] = [];
  const numeric: AutoSymbolicResult["numeric"] = [];
  for (const layer of curves) {
    for (const edge of layer.edges) {
      if (edge.masked) continue;
      const [best] = suggestSymbols(edge.xs, edge.ys, suggest);
      const at = { layer: edge.layer, out: edge.out, in: edge.in };
      if (best.r2 < r2Threshold) numeric.push({ ...at, r2: best.r2 });
      else choices.push({ ...at, name: best.name, a: best.a, b: best.b, c: best.c, d: best.d, r2: best.r2 });
    }
  }
  const built: HybridKAN[] = [];
  try {
    for (const layer of layers) built.push(await hybridCopy(layer));
    for (const c of choices) built[c.layer].fixSymbolic(c.in, c.out, c);
  } catch (error) {
    for (const layer of built) layer.dispose();
    throw error;
  }
  const hybrid = new Sequential(built);
  hybrid.training = model.training;
  return { model: hybrid, choices, numeric };
}

/**
 * The symbolic edges of a model of {@linkcode HybridKAN} layers as the
 * symbolic core's network (`src/symbolic/compose.ts`): per layer, each
 * edge's symbol with its current (trained) parameters, null where the edge is
 * off, and the bias. Throws a {@linkcode KanError} naming the first edge that
 * is still numeric.
 *
 * @example
 * ```ts
 * import { BSplineKAN, Gpu, HybridKAN, Sequential } from "../../mod.ts";
 * import { symbolicNetwork } from "./symbolic_model.ts";
 * const gpu = await Gpu.request();
 * const layer = new HybridKAN(new BSplineKAN(gpu, 1, 1));
 * layer.fixSymbolic(0, 0, { name: "sin", a: 3, b: 0, c: 1, d: 0 });
 * console.log(await symbolicNetwork(new Sequential([layer])));
 * gpu.destroy();
 * ```
 */
export async function symbolicNetwork(model: Sequential): Promise<SymbolicLayer[]> {
  const where = "symbolicNetwork";
  if (!(model instanceof Sequential) || !model.layers.every((l) => l instanceof HybridKAN)) {
    throw new KanError(`${where}: expected a model of HybridKAN layers (autoSymbolic's), got another model`);
  }
  const result: SymbolicLayer[] = [];
  for (const [l, layer] of (model.layers as HybridKAN[]).entries()) {
    const mask = layer.numeric.edgeMask;
    const symbols = layer.symbols;
    symbols.forEach((s, e) => {
      if (s === null && (mask === null || mask[e] !== 0)) {
        const o = Math.floor(e / layer.inFeatures);
        throw new KanError(
          `${where}: edge (layer ${l}, input ${e % layer.inFeatures}, output ${o}) is still numeric; ` +
            `fix a symbol on it (HybridKAN.fixSymbolic) or prune it first`,
        );
      }
    });
    const edges = await layer.readSymbols();
    const bias = (await layer.numeric.stateDict()).bias;
    result.push(
      bias
        ? { inDim: layer.inFeatures, outDim: layer.outFeatures, edges, bias: Array.from(bias.data) }
        : { inDim: layer.inFeatures, outDim: layer.outFeatures, edges },
    );
  }
  return result;
}

/** Options of {@linkcode symbolicFormula}. */
export interface SymbolicFormulaOptions {
  /** Fold constants and affine chains (default true). */
  simplify?: boolean;
  /** Significant digits of the printed constants (default 4). */
  digits?: number;
}

/** The formulas of a symbolic model. */
export interface SymbolicFormula {
  /** One expression per output, in `x1..xD`. */
  expressions: Expr[];
  /** Each printed (`parseExpression` reads it back). */
  formulas: string[];
}

/**
 * pykan's `symbolic_formula`: composes a model whose every edge is symbolic
 * (or off) into one formula per output, simplified (constants folded, affine
 * chains merged) and printed.
 *
 * @example
 * ```ts
 * import { BSplineKAN, Gpu, HybridKAN, Sequential } from "../../mod.ts";
 * import { symbolicFormula } from "./symbolic_model.ts";
 * const gpu = await Gpu.request();
 * const layer = new HybridKAN(new BSplineKAN(gpu, 2, 1));
 * layer.fixSymbolic(0, 0, { name: "sin", a: 3, b: 0, c: 2, d: 0.5 });
 * layer.fixSymbolic(1, 0, { name: "x^2", a: 1, b: 0, c: 1, d: 0 });
 * console.log((await symbolicFormula(new Sequential([layer]))).formulas[0]); // 2*sin(3*x1) + x2^2 + 0.5
 * gpu.destroy();
 * ```
 */
export async function symbolicFormula(
  model: Sequential,
  options: SymbolicFormulaOptions = {},
): Promise<SymbolicFormula> {
  const where = "symbolicFormula";
  checkOptions(where, options, ["simplify", "digits"]);
  const simplify = option(where, options, "simplify", BOOLEAN, true);
  const digits = option(where, options, "digits", integer(1, 17), 4);
  const network = await symbolicNetwork(model);
  const expressions = composeNetwork(network, model.inFeatures).map((e) =>
    simplify ? simplifyExpression(e) : e
  );
  return { expressions, formulas: expressions.map((e) => formatExpression(e, digits)) };
}
