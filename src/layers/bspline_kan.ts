/**
 * `BSplineKAN`: the KAN layer of efficient-kan's `KANLinear` (pykan's layer
 * as one matrix product): `y = base(x) W_base^T + B(x) (W_spline * scaler)^T`.
 *
 * @module
 */

import type { Basis } from "../basis/basis.ts";
import { bsplineBasis, bsplineReference, MAX_SPLINE_ORDER, uniformKnots } from "../basis/bspline.ts";
import { identityBasis, siluBasis } from "../basis/single.ts";
import { KanError } from "../errors.ts";
import type { Gpu } from "../gpu/gpu.ts";
import { Tensor } from "../tensor.ts";
import type { BufferRange } from "../gpu/recorder.ts";
import {
  BOOLEAN,
  checkOptions,
  COUNT,
  describe,
  FINITE,
  integer,
  MIN_NORMAL_FLOAT32,
  oneOf,
  option,
  RANGE,
  type Rule,
  SEED,
} from "../validate.ts";
import { basisForward, basisGradInput, basisGradWeight, reduceRows } from "./basis_linear.ts";
import { type BandedRows, kaimingUniform, leastSquares, Rng } from "./init.ts";
import { Layer, type ReferenceLayer, type Trace } from "./layer.ts";
import { Parameter, type StateDict } from "./parameter.ts";
import { basisBackwardReference, basisForwardReference } from "./reference_ops.ts";
import { splineScaleBackward, splineScaleForward } from "./spline_scale.ts";
import { flattenParameters } from "./flat_parameters.ts";
import {
  recordRegularization,
  type RegularizationSettings,
  type RegularizationTarget,
} from "../interpret/regularization.ts";

/** pykan's `base_fun`: SiLU, the identity, or no base branch. */
export type BaseActivation = "silu" | "identity" | "zero";

const BASE_ACTIVATION: Rule<BaseActivation> = oneOf<BaseActivation>(["silu", "identity", "zero"]);

/** Options of {@linkcode BSplineKAN}, with efficient-kan's defaults. */
export interface BSplineKANOptions {
  /** Grid intervals `G` (default 5). */
  gridSize?: number;
  /** Spline order `k` (default 3). */
  splineOrder?: number;
  /** The grid's range (default [-1, 1]). */
  gridRange?: [number, number];
  /** Scale of the noise the spline weights are fitted to (default 0.1). */
  scaleNoise?: number;
  /** Scale of the base weight's init (default 1). */
  scaleBase?: number;
  /** Scale of the spline scaler's init (default 1). */
  scaleSpline?: number;
  /** The base branch (default `"silu"`). */
  baseActivation?: BaseActivation;
  /** Add a bias (default false). */
  bias?: boolean;
  /** Seed of the initialization (default 0). */
  seed?: number;
}

/** The options {@linkcode BSplineKAN} takes. */
export const BSPLINE_KAN_OPTIONS: readonly string[] = [
  "gridSize",
  "splineOrder",
  "gridRange",
  "scaleNoise",
  "scaleBase",
  "scaleSpline",
  "baseActivation",
  "bias",
  "seed",
];

/** `splineOrder`: what the WGSL supports. */
export const SPLINE_ORDER: Rule<number> = integer(0, MAX_SPLINE_ORDER);

/**
 * Throws a {@linkcode KanError} naming `where` unless the knots `row` are
 * strictly increasing with spacings that stay non-zero in float32 on a GPU
 * (the recurrence divides by them; equal knots give NaN, as in the original).
 */
export function checkGridRow(where: string, row: ArrayLike<number>): void {
  for (let m = 1; m < row.length; m++) {
    if (!(Math.fround(Math.fround(row[m]) - Math.fround(row[m - 1])) >= MIN_NORMAL_FLOAT32)) {
      throw new KanError(
        `${where} must be strictly increasing (with float32 spacings >= ${MIN_NORMAL_FLOAT32}), ` +
          `but knot ${m - 1} is ${row[m - 1]} and knot ${m} is ${row[m]}`,
      );
    }
  }
}

/**
 * Checks an edge mask of `out * in` values, each 0 or 1, and returns it as
 * float32; `where` names the call in the {@linkcode KanError}.
 */
export function checkEdgeMask(
  where: string,
  mask: unknown,
  outDim: number,
  inDim: number,
): Float32Array<ArrayBuffer> {
  const list = mask as ArrayLike<unknown>;
  if (mask === null || typeof mask !== "object" || typeof list.length !== "number") {
    throw new KanError(
      `${where}: mask must be an array of ${outDim * inDim} values (0 or 1), got ${describe(mask)}`,
    );
  }
  if (list.length !== outDim * inDim) {
    throw new KanError(
      `${where}: mask must have out * in = ${outDim} * ${inDim} = ${
        outDim * inDim
      } values, got ${list.length}`,
    );
  }
  const values = new Float32Array(list.length);
  for (let k = 0; k < list.length; k++) {
    if (list[k] !== 0 && list[k] !== 1) {
      throw new KanError(
        `${where}: mask[${k}] (output ${Math.floor(k / inDim)}, input ${k % inDim}) must be 0 or 1, got ${
          describe(list[k])
        }`,
      );
    }
    values[k] = list[k] as number;
  }
  return values;
}

/**
 * A KAN layer with B-spline bases.
 *
 * @example
 * ```ts
 * import { BSplineKAN, Gpu, Tensor } from "../../mod.ts";
 * const gpu = await Gpu.request();
 * const layer = new BSplineKAN(gpu, 2, 3, { gridSize: 5, splineOrder: 3 });
 * const y = layer.forward(Tensor.from(gpu, [0.1, -0.4], [1, 2]));
 * console.log(await y.read());
 * gpu.destroy();
 * ```
 */
export class BSplineKAN extends Layer {
  /** The options in force (defaults filled in). */
  readonly options: Readonly<Required<Omit<BSplineKANOptions, "seed">>>;
  /** The spline basis. */
  readonly basis: Basis;
  #baseBasis: Basis | null;
  #grid: Parameter;
  #baseWeight: Parameter;
  #splineWeight: Parameter;
  #scaler: Parameter;
  #bias: Parameter | null;
  #mask: Tensor | null = null;
  /**
   * Set by `fit` while it trains with sparsity regularization (option
   * `lamb`): in training mode, every traced forward pass records the layer's
   * `lamb * reg` into `target` and its backward pass adds the gradients.
   *
   * @internal
   */
  regularizer: { settings: RegularizationSettings; target: RegularizationTarget } | null = null;

  /** A layer of `inFeatures * outFeatures` learnable splines; see {@linkcode BSplineKANOptions}. */
  constructor(gpu: Gpu, inFeatures: number, outFeatures: number, options: BSplineKANOptions = {}) {
    super(gpu, inFeatures, outFeatures, "BSplineKAN");
    const kind = this.kind;
    checkOptions(kind, options, BSPLINE_KAN_OPTIONS);
    const o = {
      gridSize: option(kind, options, "gridSize", COUNT, 5),
      splineOrder: option(kind, options, "splineOrder", SPLINE_ORDER, 3),
      gridRange: [...option(kind, options, "gridRange", RANGE, [-1, 1])] as [number, number],
      scaleNoise: option(kind, options, "scaleNoise", FINITE, 0.1),
      scaleBase: option(kind, options, "scaleBase", FINITE, 1),
      scaleSpline: option(kind, options, "scaleSpline", FINITE, 1),
      baseActivation: option(kind, options, "baseActivation", BASE_ACTIVATION, "silu"),
      bias: option(kind, options, "bias", BOOLEAN, false),
    };
    const seed = option(kind, options, "seed", SEED, 0);
    const nb = o.gridSize + o.splineOrder;
    this.checkParameterSize("grid", [inFeatures, nb + o.splineOrder + 1]);
    this.checkParameterSize("spline_weight", [outFeatures, inFeatures, nb]);
    const knots = uniformKnots(o.gridSize, o.splineOrder, o.gridRange);
    if (!knots.every(Number.isFinite)) {
      throw new KanError(
        `${kind}: option "gridRange" ${describe(o.gridRange)} with gridSize ${o.gridSize} and splineOrder ` +
          `${o.splineOrder} puts knots beyond float32's range`,
      );
    }
    checkGridRow(`${kind}: the grid of option "gridRange" ${describe(o.gridRange)}`, knots);
    this.options = o;
    this.basis = bsplineBasis(o.gridSize, o.splineOrder);
    this.#baseBasis = o.baseActivation === "silu"
      ? siluBasis
      : o.baseActivation === "identity"
      ? identityBasis
      : null;

    const grid = new Float32Array(inFeatures * knots.length);
    for (let i = 0; i < inFeatures; i++) grid.set(knots, i * knots.length);
    const rng = new Rng(seed);
    const baseWeight = kaimingUniform(rng, outFeatures * inFeatures, inFeatures, Math.sqrt(5) * o.scaleBase);
    const splineWeight = this.#fitNoise(rng, knots);
    if (!splineWeight.every(Number.isFinite)) {
      throw new KanError(
        `${kind}: option "scaleNoise" = ${o.scaleNoise} makes spline_weight overflow float32`,
      );
    }
    const scaler = kaimingUniform(rng, outFeatures * inFeatures, inFeatures, Math.sqrt(5) * o.scaleSpline);
    this.#grid = Parameter.of(gpu, "grid", [inFeatures, knots.length], grid, false);
    this.#baseWeight = Parameter.of(
      gpu,
      "base_weight",
      [outFeatures, inFeatures],
      baseWeight,
      this.#baseBasis !== null,
    );
    this.#splineWeight = Parameter.of(gpu, "spline_weight", [outFeatures, inFeatures, nb], splineWeight);
    this.#scaler = Parameter.of(gpu, "spline_scaler", [outFeatures, inFeatures], scaler);
    this.#bias = o.bias ? Parameter.of(gpu, "bias", [outFeatures], new Float32Array(outFeatures)) : null;
    flattenParameters(gpu, this.parameters());
  }

  /**
   * efficient-kan's init: noise `(U[0,1) - 1/2) * scaleNoise / G` at the `G + 1`
   * grid points, fitted by least squares (`curve2coeff`).
   */
  #fitNoise(rng: Rng, knots: Float32Array): Float32Array {
    const { gridSize: g, splineOrder: k, scaleNoise } = this.options;
    const { inFeatures: inDim, outFeatures: outDim } = this;
    const nb = this.basis.count;
    const out = new Float32Array(outDim * inDim * nb);
    // At grid point r only the bases r .. r + k are non-zero.
    const a: BandedRows = {
      rows: g + 1,
      cols: nb,
      width: k + 1,
      first: Int32Array.from({ length: g + 1 }, (_, r) => r),
      values: new Float64Array((g + 1) * (k + 1)),
    };
    for (let r = 0; r <= g; r++) {
      for (let t = 0; t <= k && r + t < nb; t++) {
        a.values[r * (k + 1) + t] = bsplineReference(knots, 0, k, r + t, knots[k + r])[0];
      }
    }
    for (let i = 0; i < inDim; i++) {
      const noise = Float64Array.from(
        { length: (g + 1) * outDim },
        () => (rng.uniform() - 0.5) * scaleNoise / g,
      );
      const coeff = leastSquares(a, noise, outDim);
      for (let o = 0; o < outDim; o++) {
        for (let j = 0; j < nb; j++) out[(o * inDim + i) * nb + j] = coeff[j * outDim + o];
      }
    }
    return out;
  }

  /** As efficient-kan's state dict: `grid`, `base_weight`, `spline_weight`, `spline_scaler` (and `bias`). */
  parameters(): readonly Parameter[] {
    const list = [this.#grid, this.#baseWeight, this.#splineWeight, this.#scaler];
    return this.#bias ? [...list, this.#bias] : list;
  }

  /**
   * The edge mask `[out, in]` (1 keeps an edge, 0 removes it, as pykan's
   * `mask`), or null when every edge is on. Not part of the state dict: a
   * masked edge's `base_weight` and `spline_scaler` are zero there (and are
   * set to zero again when a state dict is loaded into the masked layer), so a
   * saved layer computes the same function; a fresh layer that loads it has no
   * mask until `setEdgeMask` is called.
   */
  get edgeMask(): Float32Array | null {
    return this.#maskValues ? this.#maskValues.slice() : null;
  }
  #maskValues: Float32Array<ArrayBuffer> | null = null;

  /**
   * Switches edges off (`mask[o * in + i] = 0`) or on again (1), as pykan's
   * `mask`: a masked edge contributes nothing, its `base_weight` and
   * `spline_scaler` are set to zero now and get no gradient while the mask is
   * set (so no optimizer moves them); `null` clears the mask (the zeroed weights
   * stay zero). A masked layer trains layer by layer, not in the fused step.
   *
   * @example
   * ```ts
   * import { BSplineKAN, Gpu } from "../../mod.ts";
   * const gpu = await Gpu.request();
   * const layer = new BSplineKAN(gpu, 2, 1);
   * layer.setEdgeMask([1, 0]); // input 1 no longer reaches the output
   * console.log(layer.edgeMask);
   * gpu.destroy();
   * ```
   */
  setEdgeMask(mask: ArrayLike<number> | null): void {
    const where = `${this.kind}.setEdgeMask`;
    this.gpu.assertAlive();
    if (mask === null) {
      this.#mask?.dispose();
      this.#mask = null;
      this.#maskValues = null;
      return;
    }
    const values = checkEdgeMask(where, mask, this.outFeatures, this.inFeatures);
    const tensor = this.#mask ?? Tensor.zeros(this.gpu, [this.outFeatures, this.inFeatures]);
    this.gpu.write(tensor.buffer, 0, values);
    this.#mask = tensor;
    this.#maskValues = values;
    this.#zeroMasked(tensor);
  }

  /** Records `scaler *= mask` and `base_weight *= mask`. */
  #zeroMasked(mask: Tensor): void {
    const rows = this.outFeatures * this.inFeatures;
    const scratch = Tensor.empty(this.gpu, [this.outFeatures, this.inFeatures]);
    for (const p of [this.#scaler, this.#baseWeight]) {
      splineScaleForward(this.gpu, rows, 1, p.range, mask.binding, scratch.binding);
      this.gpu.copy(scratch.buffer, 0, p.range.buffer, p.range.offset ?? 0, rows * 4);
    }
    scratch.dispose();
  }

  /**
   * Keeps a set edge mask in force after a load: the loaded `base_weight` and
   * `spline_scaler` of masked edges are set to zero again (the mask is not
   * part of the state dict).
   */
  override afterLoad(_dict: StateDict, _prefix = ""): void {
    if (this.#mask) this.#zeroMasked(this.#mask);
  }

  /** Records the forward pass of `x`, keeping what the backward pass needs. */
  protected record(x: Tensor): Trace {
    const gpu = this.gpu;
    const { basis } = this;
    const base = this.#baseBasis;
    const dims = { batch: x.shape[0], inDim: this.inFeatures, outDim: this.outFeatures };
    const [grid, baseWeight, splineWeight, scaler, bias] = [
      this.#grid,
      this.#baseWeight,
      this.#splineWeight,
      this.#scaler,
      this.#bias,
    ];
    const rows = dims.outDim * dims.inDim;
    const mask = this.#mask;
    // With a mask, the scaler and base weight enter as `p * mask`: masked edges give nothing, get no gradient.
    const masked = (p: Parameter) => {
      if (!mask) return null;
      const t = Tensor.empty(gpu, [dims.outDim, dims.inDim]);
      splineScaleForward(gpu, rows, 1, p.range, mask.binding, t.binding);
      return t;
    };
    const maskedGrad = (p: Parameter, add: (into: BufferRange) => void) => {
      if (!mask) return add(p.gradRange);
      const g = Tensor.zeros(gpu, [dims.outDim, dims.inDim]);
      add(g.binding);
      splineScaleBackward(gpu, rows, 1, p.range, mask.binding, g.binding, p.gradRange, null);
      g.dispose();
    };
    const scalerMasked = masked(scaler);
    const baseMasked = base ? masked(baseWeight) : null;
    const scalerRange = scalerMasked?.binding ?? scaler.range;
    const baseRange = baseMasked?.binding ?? baseWeight.range;
    const weff = Tensor.empty(gpu, [dims.outDim, dims.inDim * basis.count]);
    splineScaleForward(gpu, rows, basis.count, splineWeight.range, scalerRange, weff.binding);
    const reg = this.regularizer && this.training
      ? recordRegularization(this, x, this.regularizer.settings, this.regularizer.target)
      : null;
    const y = Tensor.empty(gpu, [dims.batch, dims.outDim]);
    basisForward(
      gpu,
      basis,
      dims,
      x.binding,
      weff.binding,
      grid.range,
      bias?.range ?? null,
      y.binding,
      false,
    );
    if (base) basisForward(gpu, base, dims, x.binding, baseRange, null, null, y.binding, true);
    return {
      y,
      backward(dy, inputGrad) {
        if (splineWeight.trainable || scaler.trainable) {
          const dweff = Tensor.empty(gpu, weff.shape);
          basisGradWeight(gpu, basis, dims, x.binding, dy.binding, grid.range, dweff.binding, false);
          const grad = (dw: BufferRange | null, ds: BufferRange | null) =>
            splineScaleBackward(
              gpu,
              rows,
              basis.count,
              splineWeight.range,
              scalerRange,
              dweff.binding,
              dw,
              ds,
            );
          if (splineWeight.trainable) grad(splineWeight.gradRange, null);
          if (scaler.trainable) maskedGrad(scaler, (into) => grad(null, into));
          dweff.dispose();
        }
        if (base && baseWeight.trainable) {
          maskedGrad(
            baseWeight,
            (into) => basisGradWeight(gpu, base, dims, x.binding, dy.binding, null, into, true),
          );
        }
        if (bias?.trainable) reduceRows(gpu, dy.binding, dims.batch, dims.outDim, bias.gradRange, true);
        if (!inputGrad) {
          reg?.backward(null);
          return null;
        }
        const dx = Tensor.empty(gpu, x.shape);
        basisGradInput(
          gpu,
          basis,
          dims,
          x.binding,
          dy.binding,
          weff.binding,
          grid.range,
          dx.binding,
          false,
          null,
        );
        if (base) {
          basisGradInput(
            gpu,
            base,
            dims,
            x.binding,
            dy.binding,
            baseRange,
            null,
            dx.binding,
            true,
            null,
          );
        }
        reg?.backward(dx);
        return dx;
      },
      release: () => {
        reg?.release();
        weff.dispose();
        scalerMasked?.dispose();
        baseMasked?.dispose();
      },
    };
  }

  /** Releases the parameters and the edge mask. */
  override dispose(): void {
    this.#mask?.dispose();
    this.#mask = null;
    this.#maskValues = null;
    super.dispose();
  }

  /** Refuses a `grid` whose rows are not strictly increasing, before anything is loaded. */
  override checkState(dict: StateDict, prefix = ""): void {
    const key = `${prefix}grid`;
    const { data } = dict[key];
    const width = this.#grid.shape[1];
    for (let i = 0; i < this.inFeatures; i++) {
      checkGridRow(`loadStateDict: "${key}" row ${i}`, data.slice(i * width, (i + 1) * width));
    }
  }

  /** The float64 version. */
  reference(state: Record<string, ArrayLike<number>>): ReferenceLayer {
    const { basis, inFeatures: inDim, outFeatures: outDim } = this;
    const base = this.#baseBasis;
    const nb = basis.count;
    const w = state.spline_weight;
    const s = state.spline_scaler;
    const weff = Float64Array.from({ length: outDim * inDim * nb }, (_, k) => w[k] * s[Math.floor(k / nb)]);
    return {
      forward(x, batch) {
        const dims = { batch, inDim, outDim };
        const y = basisForwardReference(basis, dims, x, weff, state.grid, state.bias ?? null);
        if (base) {
          basisForwardReference(base, dims, x, state.base_weight, [], null).forEach((v, i) => y[i] += v);
        }
        return {
          y,
          backward(dy) {
            const g = basisBackwardReference(basis, dims, x, weff, state.grid, dy);
            const gb = base ? basisBackwardReference(base, dims, x, state.base_weight, [], dy) : null;
            const dscaler = new Float64Array(outDim * inDim);
            g.dw.forEach((v, k) => dscaler[Math.floor(k / nb)] += v * w[k]);
            const grads: Record<string, Float64Array> = {
              base_weight: gb?.dw ?? new Float64Array(outDim * inDim),
              spline_weight: g.dw.map((v, k) => v * s[Math.floor(k / nb)]),
              spline_scaler: dscaler,
            };
            if (state.bias) grads.bias = g.dbias;
            const dx = gb ? g.dx.map((v, i) => v + gb.dx[i]) : g.dx;
            return { dx, grads };
          },
        };
      },
    };
  }
}
