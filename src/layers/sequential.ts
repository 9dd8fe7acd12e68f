/**
 * `Sequential`: layers applied in order, with state-dict keys `layers.<i>.<name>`.
 *
 * @module
 */

import { KanError } from "../errors.ts";
import type { Gpu } from "../gpu/gpu.ts";
import type { Tensor } from "../tensor.ts";
import { check, type Rule } from "../validate.ts";
import { checkedTrace, Layer, type ReferenceLayer, type Trace } from "./layer.ts";
import { Module } from "./module.ts";
import type { Parameter, StateDict } from "./parameter.ts";
import { flattenParameters } from "./flat_parameters.ts";
import { fusedForward, fusedModel } from "../fused/fused_step.ts";

const LAYERS: Rule<readonly Layer[]> = {
  expected: "a non-empty array of layers (BSplineKAN, FastKAN, FasterKAN, ReLUKAN, WavKAN, Linear)",
  test: (v): v is readonly Layer[] => Array.isArray(v) && v.length > 0 && v.every((l) => l instanceof Layer),
};

/**
 * A chain of layers.
 *
 * @example
 * ```ts
 * import { BSplineKAN, Gpu, Sequential, Tensor } from "../../mod.ts";
 * const gpu = await Gpu.request();
 * const model = new Sequential([new BSplineKAN(gpu, 2, 5), new BSplineKAN(gpu, 5, 1)]);
 * console.log(Object.keys(await model.stateDict()));
 * console.log(await model.forward(Tensor.from(gpu, [0.1, 0.2], [1, 2])).read());
 * gpu.destroy();
 * ```
 */
export class Sequential extends Module {
  /** The layers in order. */
  readonly layers: readonly Layer[];

  /** Chains `layers`; each one's input width must equal the previous one's output width. */
  constructor(layers: readonly Layer[]) {
    super();
    check("Sequential: layers", layers, LAYERS);
    for (let i = 1; i < layers.length; i++) {
      if (layers[i].gpu !== layers[0].gpu) throw new KanError(`Sequential: layer ${i} lives on another Gpu`);
      if (layers[i].inFeatures !== layers[i - 1].outFeatures) {
        throw new KanError(
          `Sequential: layer ${i} takes ${layers[i].inFeatures} features but layer ${i - 1} gives ${
            layers[i - 1].outFeatures
          }`,
        );
      }
    }
    this.layers = [...layers];
    flattenParameters(this.gpu, this.parameters());
  }

  /** The GPU of the layers. */
  get gpu(): Gpu {
    return this.layers[0].gpu;
  }

  /** Input width. */
  get inFeatures(): number {
    return this.layers[0].inFeatures;
  }

  /** Output width. */
  get outFeatures(): number {
    return this.layers[this.layers.length - 1].outFeatures;
  }

  /**
   * Records the forward pass; intermediate activations are released. A model
   * that qualifies for the fused step runs in one dispatch (see `fused`).
   */
  forward(x: Tensor): Tensor {
    if (this.fused) {
      this.layers[0].checkInput(x);
      const fused = fusedModel(this.gpu, this);
      if (fused) return fusedForward(this.gpu, fused, x);
    }
    let h = x;
    for (const layer of this.layers) {
      const next = layer.forward(h);
      if (h !== x) h.dispose();
      h = next;
    }
    return h;
  }

  /** Records the forward pass, keeping what the backward pass needs. */
  trace(x: Tensor): Trace {
    const traces: Trace[] = [];
    let h = x;
    for (const layer of this.layers) {
      const t = layer.trace(h);
      traces.push(t);
      h = t.y;
    }
    return checkedTrace("Sequential", x, {
      y: h,
      backward(dy, inputGrad) {
        let g = dy;
        for (let i = traces.length - 1; i >= 0; i--) {
          const next = traces[i].backward(g, i > 0 || inputGrad);
          if (g !== dy) g.dispose();
          if (next === null) return null;
          g = next;
        }
        return g;
      },
      release() {
        for (let i = 0; i < traces.length; i++) {
          traces[i].release();
          if (i < traces.length - 1) traces[i].y.dispose();
        }
      },
    });
  }

  /** The parameters by state-dict key (`layers.<i>.<name>`, after `prefix`). */
  namedParameters(prefix = ""): Map<string, Parameter> {
    const named = new Map<string, Parameter>();
    this.layers.forEach((layer, i) => {
      for (const [key, p] of layer.namedParameters(`${prefix}layers.${i}.`)) named.set(key, p);
    });
    return named;
  }

  /** Every parameter. */
  parameters(): Parameter[] {
    return [...this.namedParameters().values()];
  }

  /** A float64 version with the given state (keys `layers.<i>.<name>`). */
  reference(state: Record<string, ArrayLike<number>>): ReferenceLayer {
    const refs = this.layers.map((layer, i) => {
      const prefix = `layers.${i}.`;
      const local: Record<string, ArrayLike<number>> = {};
      for (const [k, v] of Object.entries(state)) if (k.startsWith(prefix)) local[k.slice(prefix.length)] = v;
      return layer.reference(local);
    });
    const widths = this.layers.map((l) => l.inFeatures);
    return {
      forward(x, batch) {
        const traces: ReturnType<ReferenceLayer["forward"]>[] = [];
        let h: ArrayLike<number> = x;
        for (const ref of refs) {
          const t = ref.forward(h, batch);
          traces.push(t);
          h = t.y;
        }
        return {
          y: traces[traces.length - 1].y,
          backward(dy) {
            const grads: Record<string, Float64Array> = {};
            let g: ArrayLike<number> = dy;
            let dx: Float64Array = new Float64Array(batch * widths[0]);
            for (let i = traces.length - 1; i >= 0; i--) {
              const r = traces[i].backward(g);
              for (const [k, v] of Object.entries(r.grads)) grads[`layers.${i}.${k}`] = v;
              g = dx = r.dx;
            }
            return { dx, grads };
          },
        };
      },
    };
  }

  /** Sets the mode of the model and of every layer (see `Module.train`). */
  override train(mode = true): this {
    super.train(mode);
    for (const layer of this.layers) layer.train(mode);
    return this;
  }

  /** Passes a loaded state dict on to each layer, with its key prefix. */
  override checkState(dict: StateDict, prefix = ""): void {
    this.layers.forEach((layer, i) => layer.checkState(dict, `${prefix}layers.${i}.`));
  }

  /** Passes a loaded state dict on to each layer, with its key prefix. */
  override afterLoad(dict: StateDict, prefix = ""): void {
    this.layers.forEach((layer, i) => layer.afterLoad(dict, `${prefix}layers.${i}.`));
  }

  /** Releases every layer. */
  override dispose(): void {
    for (const layer of this.layers) layer.dispose();
  }
}
