/**
 * `HybridKAN`: a B-spline KAN layer some of whose edges are symbolic, as a
 * pykan layer with `act_fun` (numeric) and `symbolic_fun` (symbolic) parts:
 * `y = BSplineKAN(x) + SymbolicEdges(x)`, where an edge that is symbolic is
 * masked in the numeric part (`setEdgeMask`), so it computes only
 * `c * f(a * x + b) + d`, whose four parameters go on training. State-dict
 * keys: the B-spline layer's (`grid`, `base_weight`, ...) and
 * `symbolic.funs|a|b|c|d`.
 *
 * @module
 */

import { KanError } from "../errors.ts";
import type { Tensor } from "../tensor.ts";
import { axpy } from "../ops/axpy.ts";
import type { BSplineKAN } from "./bspline_kan.ts";
import { Layer, type ReferenceLayer, type Trace } from "./layer.ts";
import type { Parameter, StateDict } from "./parameter.ts";
import { type EdgeSymbol, SymbolicEdges } from "./symbolic_edges.ts";
import { flattenParameters } from "./flat_parameters.ts";
import { describe } from "../validate.ts";

const PREFIX = "symbolic.";

/**
 * A B-spline layer with symbolic edges.
 *
 * @example
 * ```ts
 * import { BSplineKAN, Gpu, HybridKAN, Tensor } from "../../mod.ts";
 * const gpu = await Gpu.request();
 * const layer = new HybridKAN(new BSplineKAN(gpu, 2, 1, { seed: 1 }));
 * layer.fixSymbolic(1, 0, { name: "x^2", a: 1, b: 0, c: 1, d: 0 }); // input 1 -> output 0 is x^2 now
 * console.log(layer.symbols); // [null, "x^2"]
 * console.log(await layer.forward(Tensor.from(gpu, [0.5, 2], [1, 2])).read());
 * gpu.destroy();
 * ```
 */
export class HybridKAN extends Layer {
  /** The numeric part (its mask is 0 on the symbolic edges). */
  readonly numeric: BSplineKAN;
  /** The symbolic part (functions only on the symbolic edges). */
  readonly symbolic: SymbolicEdges;

  /** Wraps `numeric` (it becomes part of this layer) with no symbolic edge yet. */
  constructor(numeric: BSplineKAN) {
    if (!numeric || numeric.kind !== "BSplineKAN") {
      throw new KanError(`HybridKAN: expected a BSplineKAN layer, got ${describe(numeric)}`);
    }
    super(numeric.gpu, numeric.inFeatures, numeric.outFeatures, "HybridKAN");
    this.numeric = numeric;
    this.symbolic = new SymbolicEdges(numeric.gpu, numeric.inFeatures, numeric.outFeatures);
    flattenParameters(this.gpu, this.parameters());
  }

  /** The numeric parameters, then the symbolic ones. */
  parameters(): readonly Parameter[] {
    return [...this.numeric.parameters(), ...this.symbolic.parameters()];
  }

  /** The numeric keys, then `symbolic.*`. */
  override namedParameters(prefix = ""): Map<string, Parameter> {
    return new Map([
      ...this.numeric.namedParameters(prefix),
      ...this.symbolic.namedParameters(prefix + PREFIX),
    ]);
  }

  /** Each edge's function (index `o * in + i`), `null` where the edge is numeric or off. */
  get symbols(): (string | null)[] {
    return this.symbolic.functions;
  }

  /** Each edge's symbol with its current (trained) parameters, read from the GPU; `null` where none. */
  readSymbols(): Promise<(EdgeSymbol | null)[]> {
    return this.symbolic.readSymbols();
  }

  /**
   * Makes the edge from `input` to `out` symbolic (the order of pykan's `fix_symbolic(l, i, j)`): its numeric part is masked and it
   * computes `symbol.c * f(symbol.a * x + symbol.b) + symbol.d`; `null` makes
   * it numeric again (with the numeric weights it had when it was masked:
   * zero, see `BSplineKAN.setEdgeMask`).
   */
  fixSymbolic(input: number, out: number, symbol: EdgeSymbol | null): void {
    this.symbolic.setSymbol(input, out, symbol);
    const e = out * this.inFeatures + input;
    const mask = this.numeric.edgeMask ?? new Float32Array(this.outFeatures * this.inFeatures).fill(1);
    mask[e] = symbol === null ? 1 : 0;
    this.numeric.setEdgeMask(mask.every((v) => v === 1) ? null : mask);
  }

  /** Checks both parts. */
  override checkState(dict: StateDict, prefix = ""): void {
    this.numeric.checkState(dict, prefix);
    this.symbolic.checkState(dict, prefix + PREFIX);
  }

  /**
   * Loads the symbols and masks the symbolic edges' numeric part;
   * an edge without a symbol keeps its current mask.
   */
  override afterLoad(dict: StateDict, prefix = ""): void {
    this.numeric.afterLoad(dict, prefix);
    this.symbolic.afterLoad(dict, prefix + PREFIX);
    const funs = dict[`${prefix}${PREFIX}funs`].data;
    // A symbolic edge is masked in the numeric part; the others keep the mask they had (pruned edges stay
    // off: the mask is not in the state dict).
    const was = this.numeric.edgeMask;
    const mask = Float32Array.from(funs, (id, e) => id >= 0 ? 0 : (was?.[e] ?? 1));
    this.numeric.setEdgeMask(mask.every((v) => v === 1) ? null : mask);
  }

  /** Sets the mode of both parts. */
  override train(mode = true): this {
    super.train(mode);
    this.numeric.train(mode);
    this.symbolic.train(mode);
    return this;
  }

  /** Releases both parts. */
  override dispose(): void {
    this.numeric.dispose();
    this.symbolic.dispose();
  }

  /** Records both parts and sums them. */
  protected record(x: Tensor): Trace {
    const numeric = this.numeric.trace(x);
    const symbolic = this.symbolic.trace(x);
    axpy(1, symbolic.y, numeric.y);
    symbolic.y.dispose();
    return {
      y: numeric.y,
      backward: (dy, inputGrad) => {
        const dx = numeric.backward(dy, inputGrad);
        const dxs = symbolic.backward(dy, inputGrad);
        if (dx && dxs) {
          axpy(1, dxs, dx);
          dxs.dispose();
        }
        return dx;
      },
      release: () => {
        numeric.release();
        symbolic.release();
      },
    };
  }

  /** The float64 version: the numeric part's (with its state, masked weights zero) plus the symbolic part's. */
  reference(state: Record<string, ArrayLike<number>>): ReferenceLayer {
    const own = (p: string) =>
      Object.fromEntries(
        Object.entries(state).filter(([k]) => k.startsWith(PREFIX) === (p === PREFIX)).map((
          [k, v],
        ) => [p === PREFIX ? k.slice(PREFIX.length) : k, v]),
      );
    const numeric = this.numeric.reference(own(""));
    const symbolic = this.symbolic.reference(own(PREFIX));
    const mask = this.numeric.edgeMask;
    return {
      forward(x, batch) {
        const n = numeric.forward(x, batch);
        const s = symbolic.forward(x, batch);
        return {
          y: n.y.map((v, k) => v + s.y[k]),
          backward(dy) {
            const gn = n.backward(dy);
            const gs = s.backward(dy);
            const grads: Record<string, Float64Array> = {};
            for (const [k, v] of Object.entries(gn.grads)) {
              // Masked edges get no gradient in the base weight and the scaler.
              const masked = mask && (k === "base_weight" || k === "spline_scaler");
              grads[k] = masked ? v.map((g, e) => g * mask[e]) : v;
            }
            for (const [k, v] of Object.entries(gs.grads)) grads[PREFIX + k] = v;
            return { dx: gn.dx.map((v, k) => v + gs.dx[k]), grads };
          },
        };
      },
    };
  }
}
