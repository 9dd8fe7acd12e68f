/**
 * A network whose edges are all symbolic, as one formula: every edge `(o, i)`
 * of layer `l` computes `c·f(a·x_i + b) + d` for its library function `f`, a
 * node sums its edges (plus its bias), and {@linkcode composeNetwork}
 * substitutes layer into layer, simplifying as it goes.
 * {@linkcode evaluateNetwork} is the float64 reference of the same network.
 *
 * @module
 */

import { KanError } from "../errors.ts";
import { checkRows } from "./expression.ts";
import { binary, type Expr, num, variable } from "./expr.ts";
import { type SymbolicFunction, symbolicFunction } from "./library.ts";
import { simplifyExpression } from "./simplify.ts";

export { simplifyExpression } from "./simplify.ts";

/** A symbolic edge: it computes `c·f(a·x + b) + d` with `f` the library function `name`. */
export interface SymbolEdge {
  /** The library function (pykan's name or an alias). */
  readonly name: string;
  /** The scale of the argument. */
  readonly a: number;
  /** The shift of the argument. */
  readonly b: number;
  /** The scale of the value. */
  readonly c: number;
  /** The shift of the value. */
  readonly d: number;
}

/** One layer of a symbolic network. */
export interface SymbolicLayer {
  /** The number of inputs. */
  readonly inDim: number;
  /** The number of outputs. */
  readonly outDim: number;
  /** `outDim * inDim` edges, edge `(o, i)` at `o * inDim + i`; `null` for an absent (pruned) edge. */
  readonly edges: readonly (SymbolEdge | null)[];
  /** One bias per output, added to its sum (default none). */
  readonly bias?: readonly number[];
}

interface CheckedEdge {
  f: SymbolicFunction;
  edge: SymbolEdge;
}

function checkNetwork(
  owner: string,
  layers: readonly SymbolicLayer[],
  inputs: number,
): (CheckedEdge | null)[][] {
  if (!Array.isArray(layers) || layers.length === 0) {
    throw new KanError(`${owner}: layers must be a non-empty array, got ${JSON.stringify(layers)}`);
  }
  if (!Number.isInteger(inputs) || inputs < 1) {
    throw new KanError(`${owner}: inputs must be an integer >= 1, got ${inputs}`);
  }
  let width = inputs;
  return layers.map((layer, l) => {
    const where = `${owner}: layers[${l}]`;
    const { inDim, outDim, edges, bias } = layer ?? {};
    if (inDim !== width) {
      throw new KanError(`${where}.inDim must be ${width} (the width before it), got ${inDim}`);
    }
    if (!Number.isInteger(outDim) || outDim < 1) {
      throw new KanError(`${where}.outDim must be an integer >= 1, got ${outDim}`);
    }
    if (!Array.isArray(edges) || edges.length !== inDim * outDim) {
      throw new KanError(
        `${where}.edges must be an array of outDim * inDim = ${inDim * outDim} edges, got ${
          Array.isArray(edges) ? edges.length : typeof edges
        }`,
      );
    }
    if (
      bias !== undefined && (!Array.isArray(bias) || bias.length !== outDim || !bias.every(Number.isFinite))
    ) {
      throw new KanError(`${where}.bias must be ${outDim} finite numbers, got ${JSON.stringify(bias)}`);
    }
    width = outDim;
    return edges.map((edge, k) => {
      if (edge === null) return null;
      const at = `${where}.edges[${k}] (output ${Math.floor(k / inDim)}, input ${k % inDim})`;
      const f = symbolicFunction(edge?.name, at);
      for (const p of ["a", "b", "c", "d"] as const) {
        if (typeof edge[p] !== "number" || !Number.isFinite(edge[p])) {
          throw new KanError(`${at}.${p} must be a finite number, got ${edge[p]}`);
        }
      }
      return { f, edge };
    });
  });
}

/**
 * One simplified formula per network output, in the inputs `x1..x{inputs}`.
 * Layer `l`'s outputs are the inputs of layer `l + 1`; a node without edges
 * is its bias (or 0).
 *
 * @example
 * ```ts
 * import { composeNetwork } from "./compose.ts";
 * import { formatExpression } from "./expression.ts";
 * // The KAN paper's exp(sin(pi*x1) + x2^2) as a [2, 1, 1] network of symbols.
 * const [f] = composeNetwork([
 *   { inDim: 2, outDim: 1, edges: [
 *     { name: "sin", a: Math.PI, b: 0, c: 1, d: 0 },
 *     { name: "x^2", a: 1, b: 0, c: 1, d: 0 },
 *   ] },
 *   { inDim: 1, outDim: 1, edges: [{ name: "exp", a: 1, b: 0, c: 1, d: 0 }] },
 * ], 2);
 * console.log(formatExpression(f)); // "exp(sin(3.142*x1) + x2^2)"
 * ```
 */
export function composeNetwork(layers: readonly SymbolicLayer[], inputs: number): Expr[] {
  const checked = checkNetwork("composeNetwork", layers, inputs);
  let nodes: Expr[] = Array.from({ length: inputs }, (_, i) => variable(i));
  checked.forEach((edges, l) => {
    const { inDim, outDim, bias } = layers[l];
    const next: Expr[] = [];
    for (let o = 0; o < outDim; o++) {
      let sum: Expr = num(bias?.[o] ?? 0);
      for (let i = 0; i < inDim; i++) {
        const e = edges[o * inDim + i];
        if (e === null) continue;
        const { a, b, c, d } = e.edge;
        const inner = binary("+", binary("*", num(a), nodes[i]), num(b));
        sum = binary("+", sum, binary("+", binary("*", num(c), e.f.expression(inner)), num(d)));
      }
      next.push(simplifyExpression(sum));
    }
    nodes = next;
  });
  return nodes;
}

/**
 * The network's outputs at every row of `rows` (row-major, `inputs` values
 * per row), row-major `[rows, outputs]`, in float64 with the exact library
 * functions: the reference that a composed formula must match.
 *
 * @example
 * ```ts
 * import { evaluateNetwork } from "./compose.ts";
 * const layers = [{ inDim: 1, outDim: 1, edges: [{ name: "x^2", a: 2, b: 1, c: 0.5, d: -1 }] }];
 * console.log(evaluateNetwork(layers, new Float64Array([0, 1]), 1)); // [-0.5, 3.5]
 * ```
 */
export function evaluateNetwork(
  layers: readonly SymbolicLayer[],
  rows: ArrayLike<number>,
  inputs: number,
): Float64Array {
  const checked = checkNetwork("evaluateNetwork", layers, inputs);
  const n = checkRows("evaluateNetwork", rows, inputs);
  let values = Float64Array.from(rows);
  let width = inputs;
  checked.forEach((edges, l) => {
    const { inDim, outDim, bias } = layers[l];
    const next = new Float64Array(n * outDim);
    for (let r = 0; r < n; r++) {
      for (let o = 0; o < outDim; o++) {
        let sum = bias?.[o] ?? 0;
        for (let i = 0; i < inDim; i++) {
          const e = edges[o * inDim + i];
          if (e === null) continue;
          sum += e.edge.c * e.f.value(e.edge.a * values[r * width + i] + e.edge.b) + e.edge.d;
        }
        next[r * outDim + o] = sum;
      }
    }
    values = next;
    width = outDim;
  });
  return values;
}
