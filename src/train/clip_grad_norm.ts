/**
 * Gradient clipping by global L2 norm, as `torch.nn.utils.clip_grad_norm_`
 * (torch 1.13, `norm_type` 2): the norm of every trainable gradient taken
 * together, then every gradient scaled by
 * `min(1, maxNorm / (norm + 1e-6))`. All on the GPU, with no readback: chunk
 * sums of squares (one invocation per chunk, within the loop-trip budget),
 * their sum in a fixed order (`recordSum`), and a scaling kernel that reads
 * the norm from the GPU. With a float64 reference.
 *
 * The squares are summed in float32: a norm past float32's range (above
 * about 1.8e19) is infinite, which makes the coefficient 0; a NaN gradient
 * makes the norm NaN (torch 1.13 gives NaN gradients there; either way the
 * next logged loss is not finite and `fit` stops with a KanError).
 *
 * @module
 */

import type { Gpu } from "../gpu/gpu.ts";
import type { KernelSpec } from "../gpu/kernel.ts";
import { unitsPerPart } from "../gpu/loop_trips.ts";
import { linearGrid } from "../gpu/params.ts";
import type { Parameter } from "../layers/parameter.ts";
import { Tensor } from "../tensor.ts";
import { check, POSITIVE } from "../validate.ts";
import { recordSum } from "./loss.ts";
import { type TrainableRange, trainableRanges } from "./optimizer.ts";
import source from "../../shaders/train/clip_grad_norm.wgsl" with { type: "text" };

const WG = 256;

/** The most floats one invocation of the sum of squares takes (fewer when the loop-trip budget is lower). */
export const CLIP_CHUNK = 256;

const spec = (entryPoint: string): KernelSpec => ({
  name: `clip_grad_norm.${entryPoint}`,
  source,
  entryPoint,
  bindings: ["uniform", "storage", "storage"],
  constants: { WG },
});
const SUM_SQUARES = spec("sum_squares");
const SCALE = spec("scale");

/** What torch adds to the norm before dividing (`clip_coef = max_norm / (total_norm + 1e-6)`). */
export const CLIP_EPSILON = 1e-6;

/**
 * Clips the gradients of a fixed set of parameters: those trainable when it
 * is made (`fit` makes one after setting `freeze`). Each
 * {@linkcode GradNormClipper.record} records the clipping of the gradients as
 * they will be then.
 *
 * @example
 * ```ts
 * import { Gpu, Linear, Tensor } from "../../mod.ts";
 * import { GradNormClipper } from "./clip_grad_norm.ts";
 * const gpu = await Gpu.request();
 * const layer = new Linear(gpu, 2, 1);
 * const [weight, bias] = layer.parameters();
 * gpu.write(weight.block.grad.buffer, weight.offset * 4, new Float32Array([3, 0]));
 * gpu.write(bias.block.grad.buffer, bias.offset * 4, new Float32Array([4]));
 * const clipper = new GradNormClipper(gpu, layer.parameters(), 1);
 * clipper.record();
 * console.log(await clipper.norm()); // 5 (the norm before clipping)
 * const grad = await weight.block.grad.read();
 * console.log(grad[weight.offset], grad[bias.offset]); // about 0.6 0.8: scaled by 1 / 5
 * clipper.dispose();
 * layer.dispose();
 * gpu.destroy();
 * ```
 */
export class GradNormClipper {
  #gpu: Gpu;
  #ranges: TrainableRange[];
  #maxNorm: number;
  #chunk: number;
  #at: number[];
  #partials: Tensor;
  #squared: Tensor;

  /** Clips the gradients of the trainable ones of `parameters` to a global norm of `maxNorm`. */
  constructor(gpu: Gpu, parameters: readonly Parameter[], maxNorm: number) {
    this.#gpu = gpu;
    this.#maxNorm = check("clipGradNorm: maxNorm", maxNorm, POSITIVE);
    this.#ranges = trainableRanges(parameters);
    this.#chunk = Math.min(CLIP_CHUNK, unitsPerPart("clip_grad_norm.sum_squares", 1, 1));
    this.#at = [];
    let chunks = 0;
    for (const r of this.#ranges) {
      this.#at.push(chunks);
      chunks += Math.ceil(r.count / this.#chunk);
    }
    this.#partials = Tensor.empty(gpu, [Math.max(1, chunks)]);
    this.#squared = Tensor.zeros(gpu, [1]);
  }

  /** The number of chunk sums the squared norm is summed from. */
  get chunks(): number {
    const last = this.#ranges.length - 1;
    return last < 0 ? 0 : this.#at[last] + Math.ceil(this.#ranges[last].count / this.#chunk);
  }

  /**
   * Records the clipping: the squared global norm into a buffer of its own
   * (read by {@linkcode GradNormClipper.norm}), then every gradient scaled.
   */
  record(): void {
    const gpu = this.#gpu;
    const sumSquares = gpu.kernel(SUM_SQUARES);
    this.#ranges.forEach((r, i) => {
      const chunks = Math.ceil(r.count / this.#chunk);
      gpu.dispatch(
        sumSquares,
        { layout: "uuuuf", values: [r.offset, r.count, this.#chunk, this.#at[i], 0] },
        [r.block.grad.binding, this.#partials.binding],
        linearGrid(chunks, WG),
      );
    });
    recordSum(gpu, this.#partials.binding, this.chunks, this.#squared.binding, 0);
    const scale = gpu.kernel(SCALE);
    for (const r of this.#ranges) {
      gpu.dispatch(
        scale,
        { layout: "uuuuf", values: [r.offset, r.count, 0, 0, this.#maxNorm] },
        [r.block.grad.binding, this.#squared.binding],
        linearGrid(r.count, WG),
      );
    }
  }

  /** Reads back the global norm of the last recorded clipping, before it scaled (one readback). */
  async norm(): Promise<number> {
    return Math.sqrt((await this.#squared.read())[0]);
  }

  /** Releases its buffers. */
  dispose(): void {
    this.#partials.dispose();
    this.#squared.dispose();
  }
}

/**
 * Float64 `clip_grad_norm_`: scales `grads` in place by
 * `min(1, maxNorm / (norm + 1e-6))`, where `norm` is their global L2 norm,
 * and returns both.
 *
 * @example
 * ```ts
 * import { clipGradNormReference } from "./clip_grad_norm.ts";
 * const g = [Float64Array.of(3, 0), Float64Array.of(4)];
 * console.log(clipGradNormReference(g, 1).norm, g[0][0]); // 5 0.59999988
 * ```
 */
export function clipGradNormReference(
  grads: readonly Float64Array[],
  maxNorm: number,
): { norm: number; coef: number } {
  let sum = 0;
  for (const g of grads) for (const v of g) sum += v * v;
  const norm = Math.sqrt(sum);
  const coef = Math.min(1, maxNorm / (norm + CLIP_EPSILON));
  for (const g of grads) for (let i = 0; i < g.length; i++) g[i] *= coef;
  return { norm, coef };
}
