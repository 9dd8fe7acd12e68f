/**
 * What the fused step needs to know of each layer: its kind, widths, basis,
 * optional parts, and where each parameter lies in the model's one parameter
 * block. A model whose layers all describe themselves here, share one block
 * and are small enough (`fused_plan.ts`) trains in one fused kernel.
 *
 * @module
 */

import type { Basis } from "../basis/basis.ts";
import { identityBasis, siluBasis } from "../basis/single.ts";
// Types only: the layers import the training loop, which imports this module.
import type { BSplineKAN } from "../layers/bspline_kan.ts";
import type { FasterKAN } from "../layers/faster_kan.ts";
import type { FastKAN } from "../layers/fast_kan.ts";
import type { Layer } from "../layers/layer.ts";
import type { Linear } from "../layers/linear.ts";
import type { Parameter, ParameterBlock } from "../layers/parameter.ts";
import type { Activation } from "../layers/reference_ops.ts";
import type { ReLUKAN } from "../layers/relu_kan.ts";
import type { CoefficientLayer } from "../layers/coefficient_layer.ts";

/** The parts of a fused layer: which of `y = sum phi(u) W + base(x) Wb + bias` it has. */
export interface FusedLayer {
  /** `"spline"` (B-spline: weights times a scaler), `"basis"` (FastKAN, FasterKAN, ReLU-KAN) or `"linear"`. */
  kind: "spline" | "basis" | "linear";
  /** Input width. */
  inDim: number;
  /** Output width. */
  outDim: number;
  /** The basis of the main branch (the identity for `"linear"`). */
  basis: Basis;
  /** Offset of the basis's data (grid, centers, phases) in the block, or -1. */
  data: number;
  /** Offset of the main weights, `[out, in * nBasis]`. */
  weight: number;
  /** Offset of the B-spline scaler `[out, in]`, or -1. */
  scaler: number;
  /** The base branch's basis (SiLU or the identity) on the raw input, or null. */
  base: Basis | null;
  /** Offset of the base weights `[out, in]`, or -1. */
  baseWeight: number;
  /** Offset of the bias `[out]` (the base branch's bias for FastKAN), or -1. */
  bias: number;
  /** Offsets of a LayerNorm's weight and bias `[in]` on the main branch's input, or null. */
  layerNorm: { weight: number; bias: number } | null;
  /** The activation on the output (`"linear"` only). */
  activation: Activation;
  /** Whether the basis has trainable parameters (ReLU-KAN's phases) whose gradients are wanted. */
  basisParams: boolean;
}

function offsetOf(named: Map<string, Parameter>, name: string): number {
  return named.get(name)?.offset ?? -1;
}

/** The fused description of `layer`, or null for a layer the fused step does not run. */
export function describeLayer(layer: Layer): FusedLayer | null {
  const named = layer.namedParameters();
  const common = { inDim: layer.inFeatures, outDim: layer.outFeatures, activation: "none" as Activation };
  if (layer.kind === "BSplineKAN") {
    const spline = layer as BSplineKAN;
    if (spline.edgeMask) return null; // masked layers run layer by layer
    const base = spline.options.baseActivation;
    return {
      ...common,
      kind: "spline",
      basis: spline.basis,
      data: offsetOf(named, "grid"),
      weight: offsetOf(named, "spline_weight"),
      scaler: offsetOf(named, "spline_scaler"),
      base: base === "silu" ? siluBasis : base === "identity" ? identityBasis : null,
      baseWeight: base === "zero" ? -1 : offsetOf(named, "base_weight"),
      bias: offsetOf(named, "bias"),
      layerNorm: null,
      basisParams: false,
    };
  }
  if (layer.kind === "FastKAN" || layer.kind === "FasterKAN") {
    const norm = named.get("layernorm.weight");
    return {
      ...common,
      kind: "basis",
      basis: (layer as FastKAN | FasterKAN).basis,
      data: offsetOf(named, "rbf.grid"),
      weight: offsetOf(named, "spline_linear.weight"),
      scaler: -1,
      base: named.has("base_linear.weight") ? siluBasis : null,
      baseWeight: offsetOf(named, "base_linear.weight"),
      bias: offsetOf(named, "base_linear.bias"),
      layerNorm: norm ? { weight: norm.offset, bias: offsetOf(named, "layernorm.bias") } : null,
      basisParams: false,
    };
  }
  if (layer.kind === "ReLUKAN") {
    return {
      ...common,
      kind: "basis",
      basis: (layer as ReLUKAN).basis,
      data: offsetOf(named, "phase_low"),
      weight: offsetOf(named, "equal_size_conv.weight"),
      scaler: -1,
      base: null,
      baseWeight: -1,
      bias: offsetOf(named, "equal_size_conv.bias"),
      layerNorm: null,
      basisParams: named.get("phase_low")!.trainable || named.get("phase_height")!.trainable,
    };
  }
  if (layer.kind === "ChebyKAN" || layer.kind === "JacobiKAN" || layer.kind === "FourierKAN") {
    const coefficients = layer as CoefficientLayer;
    return {
      ...common,
      kind: "basis",
      basis: coefficients.basis,
      data: -1,
      weight: coefficients.coefficients.offset,
      scaler: -1,
      base: null,
      baseWeight: -1,
      bias: offsetOf(named, "bias"),
      layerNorm: null,
      basisParams: false,
    };
  }
  if (layer.kind === "Linear") {
    return {
      ...common,
      kind: "linear",
      basis: identityBasis,
      data: -1,
      weight: offsetOf(named, "weight"),
      scaler: -1,
      base: null,
      baseWeight: -1,
      bias: offsetOf(named, "bias"),
      layerNorm: null,
      activation: (layer as Linear).activation,
      basisParams: false,
    };
  }
  return null;
}

/** The one block every parameter of `parameters` lies in, or null when they use several. */
export function oneBlock(parameters: readonly Parameter[]): ParameterBlock | null {
  const blocks = new Set(parameters.map((p) => p.block));
  return blocks.size === 1 ? [...blocks][0] : null;
}
