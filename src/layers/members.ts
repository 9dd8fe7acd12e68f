/**
 * The family's members, listed once: the basis name that `kan()`, the
 * command line (`--model`) and the experiments use, the layer class, the
 * label of tables and figures, the options the layer takes, and how the
 * experiments configure it. Everything that enumerates the family reads
 * {@linkcode MEMBERS}.
 *
 * @module
 */

import { KanError } from "../errors.ts";
import type { Gpu } from "../gpu/gpu.ts";
import { describe } from "../validate.ts";
import { BSPLINE_KAN_OPTIONS, BSplineKAN, type BSplineKANOptions } from "./bspline_kan.ts";
import { FAST_KAN_OPTIONS, FastKAN, type FastKANOptions } from "./fast_kan.ts";
import { FASTER_KAN_OPTIONS, FasterKAN, type FasterKANOptions } from "./faster_kan.ts";
import type { Layer } from "./layer.ts";
import { Linear, LINEAR_OPTIONS, type LinearOptions } from "./linear.ts";
import { RELU_KAN_OPTIONS, ReLUKAN, type ReLUKANOptions } from "./relu_kan.ts";
import { CHEBY_KAN_OPTIONS, ChebyKAN, type ChebyKANOptions } from "./cheby_kan.ts";
import { JACOBI_KAN_OPTIONS, JacobiKAN, type JacobiKANOptions } from "./jacobi_kan.ts";
import { FOURIER_KAN_OPTIONS, FourierKAN, type FourierKANOptions } from "./fourier_kan.ts";
import { WAV_KAN_OPTIONS, WavKAN, type WavKANOptions } from "./wav_kan.ts";
import { RATIONAL_KAN_OPTIONS, RationalKAN, type RationalKANOptions } from "./rational_kan.ts";

/** The family members `kan()` builds: the `basis` option, and the command line's `--model`. */
export type BasisName =
  | "bspline"
  | "fast"
  | "faster"
  | "relu"
  | "chebyshev"
  | "jacobi"
  | "fourier"
  | "wavelet"
  | "rational"
  | "mlp";

/** One member of the family. */
export interface FamilyMember {
  /** `kan()`'s `basis` and the command line's `--model`. */
  readonly basis: BasisName;
  /** The layer class's name (its `kind`). */
  readonly className: string;
  /** The name in tables and figures, e.g. `"B-spline KAN"`. */
  readonly label: string;
  /** The implementation whose defaults, math and state dict the layer follows. */
  readonly reference: string;
  /** The options the layer takes (`seed` included). */
  readonly options: readonly string[];
  /** The option that a grid size sets (`--grid`), or null where there is none. */
  readonly gridOption: string | null;
  /** The option that an order sets (`--order`), or null where there is none. */
  readonly orderOption: string | null;
  /** Whether the layer takes `useLayerNorm` (a LayerNorm before the basis; on by default). */
  readonly layerNorm: boolean;
  /**
   * The options of the function-fitting experiment (and of `deno task train`
   * on a function) for a function fitted with grid size `grid`: no LayerNorm
   * (over one input it outputs zeros, over two it maps every point to about
   * (±1, ∓1)), and the basis functions spread over [-1, 1].
   */
  fittingOptions(grid: number): Readonly<Record<string, unknown>>;
  /** The widths it fits a function with, given the KAN width of the function (`[d, ..., 1]`). */
  fittingWidth(width: readonly number[]): number[];
  /** Builds one layer; `last` tells the MLP not to end in its activation. */
  build(gpu: Gpu, inFeatures: number, outFeatures: number, options: object, last: boolean): Layer;
}

/**
 * Centers of FastKAN and FasterKAN for grid size `g`: G + 3 of them (as many
 * functions per input as the B-spline KAN of order 3 has) on the B-spline
 * KAN's range [-1, 1], so that both cover the same inputs with the same resolution.
 */
function rbfGrid(g: number): { gridMin: number; gridMax: number; numGrids: number } {
  return { gridMin: -1, gridMax: 1, numGrids: g + 3 };
}

/**
 * The family, in the order of tables and of every listing.
 *
 * @example
 * ```ts
 * import { MEMBERS } from "./members.ts";
 * console.log(MEMBERS.map((m) => `${m.basis}: ${m.label}`).join("\n"));
 * ```
 */
export const MEMBERS: readonly FamilyMember[] = [
  {
    basis: "bspline",
    className: "BSplineKAN",
    label: "B-spline KAN",
    reference: "efficient-kan KANLinear",
    options: BSPLINE_KAN_OPTIONS,
    gridOption: "gridSize",
    orderOption: "splineOrder",
    layerNorm: false,
    fittingOptions: (grid) => ({ gridSize: grid, splineOrder: 3 }),
    fittingWidth: (w) => [...w],
    build: (gpu, a, b, o) => new BSplineKAN(gpu, a, b, o as BSplineKANOptions),
  },
  {
    basis: "fast",
    className: "FastKAN",
    label: "FastKAN",
    reference: "fast-kan FastKANLayer",
    options: FAST_KAN_OPTIONS,
    gridOption: "numGrids",
    orderOption: null,
    layerNorm: true,
    fittingOptions: (grid) => ({ ...rbfGrid(grid), useLayerNorm: false }),
    fittingWidth: (w) => [...w],
    build: (gpu, a, b, o) => new FastKAN(gpu, a, b, o as FastKANOptions),
  },
  {
    basis: "faster",
    className: "FasterKAN",
    label: "FasterKAN",
    reference: "faster-kan FasterKANLayer",
    options: FASTER_KAN_OPTIONS,
    gridOption: "numGrids",
    orderOption: null,
    layerNorm: true,
    fittingOptions: (grid) => {
      const g = rbfGrid(grid);
      return { ...g, invDenominator: (g.numGrids - 1) / (g.gridMax - g.gridMin), useLayerNorm: false };
    },
    fittingWidth: (w) => [...w],
    build: (gpu, a, b, o) => new FasterKAN(gpu, a, b, o as FasterKANOptions),
  },
  {
    basis: "relu",
    className: "ReLUKAN",
    label: "ReLU-KAN",
    reference: "ReLU-KAN ReLUKANLayer",
    options: RELU_KAN_OPTIONS,
    gridOption: "g",
    orderOption: "k",
    layerNorm: false,
    fittingOptions: (grid) => ({ g: grid, k: 3 }),
    fittingWidth: (w) => [...w],
    build: (gpu, a, b, o) => new ReLUKAN(gpu, a, b, o as ReLUKANOptions),
  },
  {
    basis: "chebyshev",
    className: "ChebyKAN",
    label: "ChebyKAN",
    reference: "ChebyKAN ChebyKANLayer",
    options: CHEBY_KAN_OPTIONS,
    gridOption: "degree",
    orderOption: null,
    layerNorm: false,
    // As many functions per input as the B-spline KAN of order 3 (G + 3).
    fittingOptions: (grid) => ({ degree: grid + 2 }),
    fittingWidth: (w) => [...w],
    build: (gpu, a, b, o) => new ChebyKAN(gpu, a, b, o as ChebyKANOptions),
  },
  {
    basis: "jacobi",
    className: "JacobiKAN",
    label: "JacobiKAN",
    reference: "JacobiKAN JacobiKANLayer",
    options: JACOBI_KAN_OPTIONS,
    gridOption: "degree",
    orderOption: null,
    layerNorm: false,
    fittingOptions: (grid) => ({ degree: grid + 2 }),
    fittingWidth: (w) => [...w],
    build: (gpu, a, b, o) => new JacobiKAN(gpu, a, b, o as JacobiKANOptions),
  },
  {
    basis: "fourier",
    className: "FourierKAN",
    label: "FourierKAN",
    reference: "FourierKAN NaiveFourierKANLayer",
    options: FOURIER_KAN_OPTIONS,
    gridOption: "gridsize",
    orderOption: null,
    layerNorm: false,
    // 2 * gridsize functions per input: about G + 3, as the B-spline KAN of order 3.
    fittingOptions: (grid) => ({ gridsize: Math.ceil((grid + 3) / 2) }),
    fittingWidth: (w) => [...w],
    build: (gpu, a, b, o) => new FourierKAN(gpu, a, b, o as FourierKANOptions),
  },
  {
    basis: "wavelet",
    className: "WavKAN",
    label: "Wav-KAN",
    reference: "Wav-KAN KANLinear",
    options: WAV_KAN_OPTIONS,
    gridOption: null,
    orderOption: null,
    layerNorm: false,
    // No grid: one wavelet per edge, scaled and translated; the default Mexican hat.
    fittingOptions: () => ({}),
    fittingWidth: (w) => [...w],
    build: (gpu, a, b, o) => new WavKAN(gpu, a, b, o as WavKANOptions),
  },
  {
    basis: "rational",
    className: "RationalKAN",
    label: "GR-KAN (rational)",
    reference: "KAT KAT_Group + nn.Linear",
    options: RATIONAL_KAN_OPTIONS,
    gridOption: null,
    orderOption: null,
    layerNorm: false,
    // No grid: a trainable rational per group of inputs, then a linear map; an MLP's widths, as KAT's.
    fittingOptions: () => ({}),
    fittingWidth: (w) => [w[0], 64, 64, w[w.length - 1]],
    build: (gpu, a, b, o) => new RationalKAN(gpu, a, b, o as RationalKANOptions),
  },
  {
    basis: "mlp",
    className: "Linear",
    label: "MLP",
    reference: "torch.nn.Linear",
    options: LINEAR_OPTIONS,
    gridOption: null,
    orderOption: null,
    layerNorm: false,
    fittingOptions: () => ({}),
    fittingWidth: (w) => [w[0], 64, 64, w[w.length - 1]],
    build: (gpu, a, b, o, last) => {
      const activation = (o as LinearOptions).activation ?? "silu";
      return new Linear(gpu, a, b, { ...o, activation: last ? "none" : activation } as LinearOptions);
    },
  },
];

/**
 * The basis names of {@linkcode MEMBERS}, in order.
 *
 * @example
 * ```ts
 * import { BASIS_NAMES } from "./members.ts";
 * console.log(BASIS_NAMES.join(", ")); // "bspline, fast, faster, relu, chebyshev, jacobi, fourier, wavelet, rational, mlp"
 * ```
 */
export const BASIS_NAMES: readonly BasisName[] = MEMBERS.map((m) => m.basis);

/**
 * The member of basis `basis`.
 *
 * @example
 * ```ts
 * import { member } from "./members.ts";
 * console.log(member("relu").label); // "ReLU-KAN"
 * ```
 */
export function member(basis: BasisName): FamilyMember {
  const found = MEMBERS.find((m) => m.basis === basis);
  if (found === undefined) {
    throw new KanError(`member: basis must be one of ${BASIS_NAMES.join(", ")}, got ${describe(basis)}`);
  }
  return found;
}
