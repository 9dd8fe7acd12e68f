/**
 * The fused step: a whole training step of a small model in at most three
 * dispatches, whatever its depth (one kernel for every layer's forward pass,
 * the loss and every layer's backward pass, writing per-workgroup partial
 * gradients; one optimizer kernel that sums them in a fixed order and
 * updates every parameter; on logged steps, one sum of the loss), and its
 * forward pass and evaluation in one dispatch (plus the sums).
 *
 * A model runs fused when its layers are all of the family (B-spline KAN,
 * FastKAN, FasterKAN, ReLU-KAN, Linear), its parameters share one block (a
 * `Sequential` or `kan()` model), every width is at most
 * {@linkcode FUSED_MAX_WIDTH}, every layer has at most
 * {@linkcode FUSED_MAX_BASIS} functions per input, a row costs at most
 * {@linkcode FUSED_MAX_ROW_WORK} multiply-adds, a block of at least
 * {@linkcode FUSED_MIN_ROWS} rows fits the device's workgroup memory, and one
 * thread's loops fit the loop-trip budget. Otherwise the layer-by-layer
 * kernels run. `model.fused = false` (or `fit({ fused: false })`) turns it off.
 *
 * @module
 */

import type { Gpu } from "../gpu/gpu.ts";
import { type Kernel, KernelSpecs } from "../gpu/kernel.ts";
import { tripBudget, unitsPerPart } from "../gpu/loop_trips.ts";
import type { BufferRange } from "../gpu/recorder.ts";
import type { Layer } from "../layers/layer.ts";
import type { Parameter, ParameterBlock } from "../layers/parameter.ts";
import { Tensor } from "../tensor.ts";
import type { LossName } from "../train/loss.ts";
import { describeLayer, type FusedLayer, oneBlock } from "./fused_layers.ts";
import { FUSED_WG, fusedSource, fusedTrips, rowLayout } from "./fused_source.ts";

/** The widest layer input or output that runs fused. */
export const FUSED_MAX_WIDTH = 64;
/** The most basis functions per input of a fused layer. */
export const FUSED_MAX_BASIS = 32;
/**
 * The most multiply-adds per row (sum over layers of inputs x outputs x the
 * functions an input may have non-zero) of a fused model. Past it, on the
 * CPU adapter (lavapipe), the layer kernels' blocked products beat one thread
 * per row: an MLP [4, 64, 64, 1] (4,416) took 27 ms a step fused and 13 ms
 * layer by layer, a B-spline KAN [4, 4, 2, 1] (about 100) 8 ms fused and 20 ms
 * layer by layer. Not measured on a GPU.
 */
export const FUSED_MAX_ROW_WORK = 2048;
/** The fewest rows a fused workgroup must hold. */
export const FUSED_MIN_ROWS = 4;
/** The most rows of a fused workgroup (one thread per row). */
const MAX_ROWS = FUSED_WG;

/** A model the fused step runs: its layers, its parameter block and rows per workgroup. */
export interface FusedModel {
  /** The layers' descriptions. */
  layers: FusedLayer[];
  /** The one block of every parameter. */
  block: ParameterBlock;
  /** Rows per workgroup. */
  rows: number;
  /** The kernel for a loss. */
  kernel(loss: LossName): Kernel;
}

const specs = new KernelSpecs();

/** The layers of a model, or null when it is neither a layer list nor a layer. */
function layersOf(model: { layers?: readonly Layer[] }): readonly Layer[] | null {
  return Array.isArray(model.layers) ? model.layers : null;
}

/**
 * The fused form of `model` (a `Sequential`), or null when it does not run
 * fused (see the module doc).
 */
export function fusedModel(
  gpu: Gpu,
  model: { layers?: readonly Layer[]; parameters(): readonly Parameter[] },
):
  | FusedModel
  | null {
  const list = layersOf(model);
  if (!list || list.length === 0) return null;
  const block = oneBlock(model.parameters());
  if (!block) return null;
  const layers: FusedLayer[] = [];
  for (const layer of list) {
    const d = describeLayer(layer);
    if (!d || d.inDim > FUSED_MAX_WIDTH || d.outDim > FUSED_MAX_WIDTH || d.basis.count > FUSED_MAX_BASIS) {
      return null;
    }
    layers.push(d);
  }
  const work = layers.reduce((sum, l) => sum + l.inDim * l.outDim * (l.basis.support ?? l.basis.count), 0);
  if (work > FUSED_MAX_ROW_WORK) return null;
  const stride = rowLayout(layers).stride;
  const memory = Math.min(gpu.device.limits.maxComputeWorkgroupStorageSize, 32768) / 4;
  // As many rows per workgroup as its memory holds and its threads' loops allow.
  const trips = (rows: number) =>
    Math.max(fusedTrips(layers, rows, "mse"), fusedTrips(layers, rows, "crossEntropy"));
  let rows = MAX_ROWS;
  while (rows >= FUSED_MIN_ROWS && (rows * (stride + 2) > memory || trips(rows) > tripBudget.trips)) {
    rows /= 2;
  }
  if (rows < FUSED_MIN_ROWS) return null;
  const size = block.value.size;
  const signature = JSON.stringify(
    layers.map((l) => ({
      ...l,
      basis: [l.basis.name, l.basis.count, l.basis.constants],
      base: l.base?.name,
    })),
  );
  return {
    layers,
    block,
    rows,
    kernel(loss) {
      const spec = specs.get(`${signature}|${rows}|${size}|${loss}`, () => ({
        name: `fused_step<${layers.map((l) => `${l.kind}${l.inDim}x${l.outDim}`).join(",")}>.${loss}`,
        source: fusedSource(layers, rows, size, loss),
        bindings: ["uniform", "read", "read", "read", "read", "storage", "storage", "storage"],
      }));
      return gpu.kernel(spec);
    },
  };
}

/** Workgroups for `rows` rows. */
export function fusedBlocks(model: FusedModel, rows: number): number {
  return Math.ceil(rows / model.rows);
}

/**
 * Where the correct counts start in the per-workgroup sums of `rows` rows (after
 * the losses, at an offset a kernel can bind), and the sums' length.
 */
export function fusedSumsLayout(model: FusedModel, rows: number): { correctAt: number; size: number } {
  const blocks = fusedBlocks(model, rows);
  const align = Math.max(1, model.block.value.gpu.device.limits.minStorageBufferOffsetAlignment / 4);
  const correctAt = Math.ceil(blocks / align) * align;
  return { correctAt, size: correctAt + blocks };
}

/** Whether the optimizer kernel can sum the partials of `rows` rows (one loop over the workgroups). */
export function fusedFits(model: FusedModel, rows: number): boolean {
  const blocks = fusedBlocks(model, rows);
  const floats = blocks * model.block.value.size;
  const limit = model.block.value.gpu.device.limits.maxStorageBufferBindingSize / 4;
  return floats <= limit && blocks <= unitsPerPart("fused_step", 1, 2);
}

/** What one fused dispatch reads and writes. */
export interface FusedCall {
  /** `0` outputs, `1` loss, `2` train. */
  mode: 0 | 1 | 2;
  /** The loss (for modes 1 and 2). */
  loss: LossName;
  /** Inputs `[N, in]`. */
  x: Tensor;
  /** Targets (`[N, out]` or class ids `[N]`), or null for mode 0. */
  target: Tensor | null;
  /** Rows of this call. */
  rows: number;
  /** Rows read through `index[start + row]` instead of directly, or null. */
  index: { range: BufferRange; start: number } | null;
  /** Mode 2: the partial gradients, `[blocks, block size]`. */
  partials: BufferRange | null;
  /** Modes 1 and 2: per-workgroup sums, laid out as {@linkcode fusedSumsLayout} says. */
  sums: BufferRange | null;
  /** Mode 0: the outputs `[rows, out]`. */
  out: BufferRange | null;
}

/** Records one fused dispatch. */
export function recordFused(gpu: Gpu, model: FusedModel, call: FusedCall): void {
  const blocks = fusedBlocks(model, call.rows);
  const outDim = model.layers[model.layers.length - 1].outDim;
  const scale = call.loss === "mse" ? 1 / (call.rows * outDim) : 1 / call.rows;
  const x = Math.min(blocks, 65535);
  gpu.dispatch(
    model.kernel(call.loss),
    {
      layout: "uuuufu",
      values: [
        call.rows,
        call.mode,
        call.index ? 1 : 0,
        call.index?.start ?? 0,
        scale,
        fusedSumsLayout(model, call.rows).correctAt,
      ],
    },
    [
      call.x.binding,
      call.target?.binding ?? gpu.placeholder(0),
      call.index?.range ?? gpu.placeholder(1),
      model.block.value.binding,
      call.partials ?? gpu.placeholder(2),
      call.sums ?? gpu.placeholder(3),
      call.out ?? gpu.placeholder(4),
    ],
    [x, Math.ceil(blocks / x)],
  );
}

/** The fused forward pass: `[rows, out]` outputs of `x` in one dispatch. */
export function fusedForward(gpu: Gpu, model: FusedModel, x: Tensor): Tensor {
  const rows = x.shape[0];
  const y = Tensor.empty(gpu, [rows, model.layers[model.layers.length - 1].outDim]);
  recordFused(gpu, model, {
    mode: 0,
    loss: "mse",
    x,
    target: null,
    rows,
    index: null,
    partials: null,
    sums: null,
    out: y.binding,
  });
  return y;
}
