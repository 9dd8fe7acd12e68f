/**
 * `SymbolicEdges`: pykan's `Symbolic_KANLayer` on the GPU: every edge `(o, i)`
 * is `c * f(a * x_i + b) + d` with `f` from the symbolic library
 * (`src/basis/symbolic_edge.ts`) or switched off, `y_o = sum_i phi_oi(x_i)`.
 * Its state dict: `funs` (the function's index per edge, -1 for none; not
 * trained) and the trainable planes `a`, `b`, `c`, `d`, each `[out, in]`.
 *
 * @module
 */

import { SYMBOLIC_EDGE_FUNCTIONS, symbolicEdge, symbolicFunctionIndex } from "../basis/symbolic_edge.ts";
import { KanError } from "../errors.ts";
import type { Gpu } from "../gpu/gpu.ts";
import type { BufferRange } from "../gpu/recorder.ts";
import type { Tensor } from "../tensor.ts";
import { Tensor as TensorClass } from "../tensor.ts";
import { describe } from "../validate.ts";
import {
  edgeBackwardReference,
  edgeForward,
  edgeForwardReference,
  edgeGradInput,
  edgeGradParams,
} from "./edge_linear.ts";
import { Layer, type ReferenceLayer, type Trace } from "./layer.ts";
import { Parameter, ParameterBlock, type StateDict } from "./parameter.ts";

/** The planes of an edge, in state-dict order. */
const PLANES = ["funs", "a", "b", "c", "d"] as const;

/** The four trainable numbers of a symbolic edge `c * f(a * x + b) + d`. */
export interface SymbolParameters {
  /** Input scale. */
  a: number;
  /** Input shift. */
  b: number;
  /** Output scale. */
  c: number;
  /** Output shift. */
  d: number;
}

/** A symbolic edge as it stands: its function's name and parameters. */
export interface EdgeSymbol extends SymbolParameters {
  /** The function's name (pykan's), e.g. `"sin"`. */
  name: string;
}

/**
 * A layer of symbolic edges, all switched off when made.
 *
 * @example
 * ```ts
 * import { Gpu, SymbolicEdges, Tensor } from "../../mod.ts";
 * const gpu = await Gpu.request();
 * const layer = new SymbolicEdges(gpu, 2, 1);
 * layer.setSymbol(0, 0, { name: "sin", a: Math.PI, b: 0, c: 1, d: 0 }); // input 0 -> output 0
 * layer.setSymbol(1, 0, { name: "x^2", a: 1, b: 0, c: 1, d: 0 }); // input 1 -> output 0
 * console.log(await layer.forward(Tensor.from(gpu, [0.5, 2], [1, 2])).read()); // [5]
 * gpu.destroy();
 * ```
 */
export class SymbolicEdges extends Layer {
  #params: Parameter[];
  #names: (string | null)[];

  /** `inFeatures * outFeatures` edges, none with a function yet. */
  constructor(gpu: Gpu, inFeatures: number, outFeatures: number) {
    super(gpu, inFeatures, outFeatures, "SymbolicEdges");
    const plane = inFeatures * outFeatures;
    this.checkParameterSize("a", [PLANES.length * outFeatures, inFeatures]);
    const data = new Float32Array(PLANES.length * plane);
    data.fill(-1, 0, plane);
    data.fill(1, plane, 2 * plane); // a
    data.fill(1, 3 * plane, 4 * plane); // c
    const block = new ParameterBlock(gpu, data);
    this.#params = PLANES.map((name, q) =>
      new Parameter(name, [outFeatures, inFeatures], block, q * plane, name !== "funs")
    );
    this.#names = new Array(plane).fill(null);
  }

  /** `funs`, `a`, `b`, `c`, `d`. */
  parameters(): readonly Parameter[] {
    return this.#params;
  }

  /**
   * Gives the edge from `input` to `out` (pykan's `fix_symbolic(l, i, j)` order) the function `symbol.name` with its four
   * parameters (`null` switches it off); the parameters go on training.
   */
  setSymbol(input: number, out: number, symbol: EdgeSymbol | null): void {
    const where = `${this.kind}.setSymbol`;
    this.gpu.assertAlive();
    for (const [what, v, n] of [["input", input, this.inFeatures], ["out", out, this.outFeatures]] as const) {
      if (!Number.isInteger(v) || v < 0 || v >= n) {
        throw new KanError(`${where}: ${what} must be an integer in [0, ${n - 1}], got ${describe(v)}`);
      }
    }
    let values = [-1, 1, 0, 1, 0];
    if (symbol !== null) {
      const id = typeof symbol?.name === "string" ? symbolicFunctionIndex(symbol.name) : -1;
      if (id < 0) {
        throw new KanError(
          `${where}: symbol.name must be one of ${SYMBOLIC_EDGE_FUNCTIONS.join(", ")}, got ${
            describe(symbol?.name)
          }`,
        );
      }
      for (const key of ["a", "b", "c", "d"] as const) {
        if (!Number.isFinite(symbol[key]) || Math.abs(symbol[key]) > 3.4e38) {
          throw new KanError(
            `${where}: symbol.${key} must be a finite float32 number, got ${describe(symbol[key])}`,
          );
        }
      }
      values = [id, symbol.a, symbol.b, symbol.c, symbol.d];
    }
    const e = out * this.inFeatures + input;
    this.#params.forEach((p, q) => {
      const range = p.range;
      this.gpu.write(range.buffer, (range.offset ?? 0) + e * 4, new Float32Array([values[q]]));
    });
    this.#names[e] = symbol === null ? null : SYMBOLIC_EDGE_FUNCTIONS[values[0]];
  }

  /** The function of each edge (index `o * in + i`), `null` where none; their parameters: {@linkcode readSymbols}. */
  get functions(): (string | null)[] {
    return [...this.#names];
  }

  /** Each edge's symbol with its current (trained) parameters, read from the GPU; `null` where none. */
  async readSymbols(): Promise<(EdgeSymbol | null)[]> {
    const state = await this.stateDict();
    const [a, b, c, d] = ["a", "b", "c", "d"].map((k) => state[k].data);
    return this.#names.map((name, e) => name === null ? null : { name, a: a[e], b: b[e], c: c[e], d: d[e] });
  }

  /** Refuses a `funs` entry that is not -1 or a function's index. */
  override checkState(dict: StateDict, prefix = ""): void {
    const funs = dict[`${prefix}funs`].data;
    for (let k = 0; k < funs.length; k++) {
      if (!Number.isInteger(funs[k]) || funs[k] < -1 || funs[k] >= SYMBOLIC_EDGE_FUNCTIONS.length) {
        throw new KanError(
          `loadStateDict: entry "${prefix}funs"[${k}] must be -1 or a function's index 0..${
            SYMBOLIC_EDGE_FUNCTIONS.length - 1
          }, got ${funs[k]}`,
        );
      }
    }
  }

  /** Mirrors the loaded functions. */
  override afterLoad(dict: StateDict, prefix = ""): void {
    this.#names = Array.from(dict[`${prefix}funs`].data, (id) => id < 0 ? null : SYMBOLIC_EDGE_FUNCTIONS[id]);
  }

  #range(what: "value" | "grad"): BufferRange {
    const first = this.#params[0];
    const tensor = what === "value" ? first.block.value : first.block.grad;
    return { buffer: tensor.buffer, offset: first.offset * 4, size: PLANES.length * first.size * 4 };
  }

  /** Records the forward pass of `x`, keeping what the backward pass needs. */
  protected record(x: Tensor): Trace {
    const gpu = this.gpu;
    const params = this.#params;
    const dims = { batch: x.shape[0], inDim: this.inFeatures, outDim: this.outFeatures };
    const theta = this.#range("value");
    const y = TensorClass.empty(gpu, [dims.batch, dims.outDim]);
    edgeForward(gpu, symbolicEdge, dims, x.binding, theta, 0, null, y.binding, false);
    return {
      y,
      backward: (dy, inputGrad) => {
        const mask = params.reduce((m, p, q) => p.trainable ? m | (1 << q) : m, 0);
        if (mask !== 0) {
          edgeGradParams(gpu, symbolicEdge, dims, x.binding, dy.binding, theta, 0, this.#range("grad"), mask);
        }
        if (!inputGrad) return null;
        const dx = TensorClass.empty(gpu, x.shape);
        edgeGradInput(gpu, symbolicEdge, dims, x.binding, dy.binding, theta, 0, dx.binding, false);
        return dx;
      },
      release() {},
    };
  }

  /** The float64 version (state keys as in {@linkcode parameters}). */
  reference(state: Record<string, ArrayLike<number>>): ReferenceLayer {
    const { inFeatures: inDim, outFeatures: outDim } = this;
    const theta = PLANES.map((name) => state[name]);
    return {
      forward(x, batch) {
        const dims = { batch, inDim, outDim };
        return {
          y: edgeForwardReference(symbolicEdge, dims, x, theta),
          backward(dy) {
            const e = edgeBackwardReference(symbolicEdge, dims, x, theta, dy);
            const grads = Object.fromEntries(PLANES.slice(1).map((name, q) => [name, e.dtheta[q + 1]]));
            return { dx: e.dx, grads };
          },
        };
      },
    };
  }
}
