/**
 * The Kolmogorov–Arnold Network family (KAN with B-splines, FastKAN,
 * FasterKAN, ReLU-KAN, ChebyKAN, JacobiKAN, FourierKAN, Wav-KAN, the
 * group-rational KAN) and an MLP baseline, trained and run on the GPU through
 * WebGPU (Deno's, or a browser's), with WGSL compute kernels: models, layers,
 * optimizers, schedules, training, checkpoints and errors. Kernel writers
 * import `./kernels.ts` (the package's `"./kernels"`).
 *
 * @example
 * ```ts
 * import { Gpu, Tensor } from "./mod.ts";
 * const gpu = await Gpu.request();
 * console.log(gpu.adapterInfo.description);
 * const x = Tensor.from(gpu, [1, 2, 3, 4], [2, 2]);
 * console.log(await x.read());
 * console.log(gpu.stats());
 * gpu.destroy();
 * ```
 *
 * @module
 */

export { KanError } from "./src/errors.ts";
export { Gpu, type GpuAdapterInfo, type GpuRequestOptions, type GpuStats } from "./src/gpu/gpu.ts";
export { Tensor } from "./src/tensor.ts";
export { type BasisName, kan, type KanOptions } from "./src/layers/kan.ts";
export { BASIS_NAMES, type FamilyMember, member, MEMBERS } from "./src/layers/members.ts";
export { Sequential } from "./src/layers/sequential.ts";
export { type BaseActivation, BSplineKAN, type BSplineKANOptions } from "./src/layers/bspline_kan.ts";
export { FastKAN, type FastKANOptions } from "./src/layers/fast_kan.ts";
export { FasterKAN, type FasterKANOptions } from "./src/layers/faster_kan.ts";
export { ReLUKAN, type ReLUKANOptions } from "./src/layers/relu_kan.ts";
export { Linear, type LinearOptions } from "./src/layers/linear.ts";
export { ChebyKAN, type ChebyKANOptions } from "./src/layers/cheby_kan.ts";
export { JacobiKAN, type JacobiKANOptions } from "./src/layers/jacobi_kan.ts";
export { FourierKAN, type FourierKANOptions } from "./src/layers/fourier_kan.ts";
export { WAV_KAN_OPTIONS, type WaveletType, WavKAN, type WavKANOptions } from "./src/layers/wav_kan.ts";
export { type EdgeSymbol, SymbolicEdges, type SymbolParameters } from "./src/layers/symbolic_edges.ts";
export { HybridKAN } from "./src/layers/hybrid_kan.ts";
export {
  RATIONAL_KAN_OPTIONS,
  RationalKAN,
  type RationalKANOptions,
  type RationalMode,
} from "./src/layers/rational_kan.ts";
export type { Activation } from "./src/layers/reference_ops.ts";
export { type LoadStateDictOptions, Module, type StateDictOptions } from "./src/layers/module.ts";
export { Layer } from "./src/layers/layer.ts";
export { Parameter, type StateDict, type StateEntry } from "./src/layers/parameter.ts";
export { SGD, type SGDOptions } from "./src/train/sgd.ts";
export { Adam, type AdamOptions, type AdamSettings, AdamW } from "./src/train/adam.ts";
export { LBFGS, type LBFGSOptions } from "./src/train/lbfgs.ts";
export type { LbfgsSettings } from "./src/train/lbfgs_core.ts";
export { type ClosureOptimizer, type GpuOptimizer, LearningRate } from "./src/train/optimizer.ts";
export type { Evaluation, FitHistory, FitOptions, FitProgress, Trainable } from "./src/train/fit.ts";
export {
  cosineDecay,
  type CosineDecayOptions,
  exponentialDecay,
  type ExponentialDecayOptions,
  type Schedule,
  stepDecay,
  type StepDecayOptions,
  warmup,
} from "./src/train/schedules.ts";
export type { LossName } from "./src/train/loss.ts";
export type { ProgressMode } from "./src/train/progress.ts";
export { decodeSafetensors, encodeSafetensors } from "./src/io/safetensors.ts";
export { loadSafetensors, readSafetensors, saveSafetensors } from "./src/io/safetensors_file.ts";
export { CHECKPOINT_FORMATS, type CheckpointFormat } from "./src/io/formats/checkpoint_format.ts";
export type { ParameterCount } from "./src/layers/model_summary.ts";
export {
  loadCheckpoint,
  type LoadCheckpointOptions,
  saveCheckpoint,
  type SaveCheckpointOptions,
} from "./src/io/checkpoint.ts";
export { type CheckpointParts, decodeCheckpoint, encodeCheckpoint } from "./src/io/checkpoint_codec.ts";
export type { OptimizerStateDict } from "./src/train/optimizer_state.ts";
// Interpretability (pykan's workflow): grid update and extension, regularization settings, scores,
// pruning, edge curves and plots, symbolic edges and formulas, and the expression language.
export {
  type GridInput,
  type GridUpdate,
  updateGrid,
  type UpdateGridOptions,
  updateModelGrid,
} from "./src/interpret/grid_update.ts";
export { refineLayer, refineModel, type RefineOptions } from "./src/interpret/grid_refine.ts";
export { REGULARIZATION_SETTINGS, type RegularizationSettings } from "./src/interpret/regularization.ts";
export { type EdgeStatistics, edgeStatistics } from "./src/interpret/edge_statistics.ts";
export { attribute, type Attribution } from "./src/interpret/attribution.ts";
export { type NetworkScores, prune, type PruneOptions, type PruneResult } from "./src/interpret/prune.ts";
export {
  type EdgeCurve,
  edgeCurves,
  type EdgeCurvesOptions,
  edgeFunction,
  type LayerCurves,
} from "./src/interpret/edge_curves.ts";
export { type NetworkPlotOptions, plotNetwork } from "./src/interpret/network_plot.ts";
export {
  autoSymbolic,
  type AutoSymbolicOptions,
  type AutoSymbolicResult,
  type EdgeChoice,
  type SymbolicFormula,
  symbolicFormula,
  type SymbolicFormulaOptions,
  symbolicNetwork,
} from "./src/interpret/symbolic_model.ts";
export { SYMBOLIC_EDGE_FUNCTIONS } from "./src/basis/symbolic_edge.ts";
export {
  type BinaryOperator,
  evaluateExpression,
  type Expr,
  formatExpression,
  parseExpression,
} from "./src/symbolic/expression.ts";
export { SYMBOLIC_LIBRARY, type SymbolicFunction } from "./src/symbolic/library.ts";
export {
  fitSymbol,
  type FitSymbolOptions,
  suggestSymbols,
  type SuggestSymbolsOptions,
  type SymbolFit,
  type SymbolSuggestion,
} from "./src/symbolic/fit_symbol.ts";
export {
  composeNetwork,
  evaluateNetwork,
  simplifyExpression,
  type SymbolEdge,
  type SymbolicLayer,
} from "./src/symbolic/compose.ts";
export { refitConstants, type RefitOptions, type RefitResult } from "./src/symbolic/refit.ts";
export { roundConstants, type RoundOptions, type RoundResult } from "./src/symbolic/simplify_round.ts";
// Types that the classes above take or return; writing kernels and layers needs "@kan/gpu/kernels".
export type { BufferRange } from "./src/gpu/recorder.ts";
export type { Basis, BasisLoopTrips } from "./src/basis/basis.ts";
export type { ReferenceLayer, ReferenceTrace, Trace } from "./src/layers/layer.ts";
export type { ParameterBlock } from "./src/layers/parameter.ts";
export type { NormalizedBasisLayer, NormalizedBasisParameters } from "./src/layers/normalized_basis_layer.ts";
export type { CoefficientLayer, CoefficientParameters } from "./src/layers/coefficient_layer.ts";
export type { EdgeFunction } from "./src/basis/edge_function.ts";
export type { GradientPartials } from "./src/train/optimizer.ts";
