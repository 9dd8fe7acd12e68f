/**
 * How each layer kernel (kan_forward, kan_grad_weight, kan_grad_input) splits
 * its reduction into parts so that no invocation loops past the loop-trip
 * budget (`src/gpu/loop_trips.ts`), whatever the shape.
 *
 * Each plan counts the loop iterations of one invocation from the loops of the
 * WGSL, as if no loop were unrolled and taking every data-dependent loop at its
 * longest (a B-spline block may visit every function of its inputs); the
 * comments name the loops. `tests/loop_budget_test.ts` checks the counts
 * against kernels instrumented to count their trips.
 *
 * @module
 */

import { type Basis, basisLoopTrips } from "../basis/basis.ts";
import { unitsPerPart } from "../gpu/loop_trips.ts";

/** Output rows (and columns) of one tile of the tiled entry points (tile_product.wgsl `TM`, `TN`). */
export const TILE = 64;
/** The reduction step of the tiles (`TK`). */
export const TILE_STEP = 16;
/** Outputs of one thread of a tile, per dimension (`RM`, `RN`). */
const TILE_BLOCK = 4;
/** Threads of a tiled workgroup. */
const TILE_THREADS = 256;
/** Loop trips of one `tile_product` call: the `c` loop, and per `c` the loads and the `m x n` products. */
const TILE_PRODUCT_TRIPS = TILE_STEP * (1 + 2 * TILE_BLOCK + TILE_BLOCK * (1 + TILE_BLOCK));
/** Trips of the strided loop that fills one tile: `TM * TK / 256` elements per thread. */
const TILE_LOAD = TILE * TILE_STEP / TILE_THREADS;
/** Trips of the epilogue of a tiled thread: the `m` loop around the `n` loop. */
const TILE_EPILOGUE = TILE_BLOCK * (1 + TILE_BLOCK);

/** The most rows (and columns) of the register block of one direct thread. */
const BLOCK = 4;
/** Batch rows per chunk of the direct gradient kernels (fewer when a row costs more trips). */
const CHUNK_ROWS = 64;

/** A direct entry point's register block over a `rows x cols` output, and how many blocks cover it. */
export interface DirectBlock {
  /** Block rows and columns (the `override` constants `BR`, `BC`). */
  constants: { BR: number; BC: number };
  /** Blocks covering the output. */
  count: number;
}

/** The register block of a direct thread over a `rows x cols` output. */
export function directBlock(rows: number, cols: number): DirectBlock {
  const BR = Math.min(BLOCK, rows);
  const BC = Math.min(BLOCK, cols);
  return { constants: { BR, BC }, count: Math.ceil(rows / BR) * Math.ceil(cols / BC) };
}

/** The shapes of one call: batch `B`, input width, output width. */
export interface LayerDims {
  /** Batch rows. */
  batch: number;
  /** Input features. */
  inDim: number;
  /** Output features. */
  outDim: number;
}

/** How the forward kernel splits `sum_k`: parts of `partK` (tiled: columns k; direct: inputs i) x `partJ` functions. */
export interface ForwardPlan {
  /** Tiled: columns k per part; direct: inputs per part. */
  partK: number;
  /** Direct: functions j per part (tiled: all). */
  partJ: number;
  /** Number of parts. */
  parts: number;
}

/** Rounds `n` up to a multiple of `step`. */
function roundUp(n: number, step: number): number {
  return Math.ceil(n / step) * step;
}

/** The forward plan of the tiled (`block` null) or direct entry point. */
export function forwardPlan(basis: Basis, dims: LayerDims, block: DirectBlock | null): ForwardPlan {
  const trips = basisLoopTrips(basis);
  const nb = basis.count;
  if (!block) {
    const k = dims.inDim * nb;
    // Per TK step: the k0 loop, the A tile (a basis value each), the B tile, the product.
    const step = 1 + TILE_LOAD * (1 + trips.value) + TILE_LOAD + TILE_PRODUCT_TRIPS;
    const partK = Math.min(
      roundUp(k, TILE_STEP),
      TILE_STEP * unitsPerPart("kan_forward", step, TILE_EPILOGUE),
    );
    return { partK, partJ: nb, parts: Math.ceil(k / partK) };
  }
  const { BR, BC } = block.constants;
  // acc init (16) and the epilogue; per input: the i loop, the m loop with basis_range;
  // per function: the j loop, the weight loads, the m loop with a basis value and the n loop.
  const fixed = 16 + BR * (1 + BC);
  const perInput = 1 + BR * (1 + trips.range);
  const perFunction = 1 + BC + BR * (1 + trips.value + BC);
  const partJ = Math.min(nb, unitsPerPart("kan_forward", perFunction, fixed + perInput));
  const partK = Math.min(dims.inDim, unitsPerPart("kan_forward", perInput + partJ * perFunction, fixed));
  return { partK, partJ, parts: Math.ceil(dims.inDim / partK) * Math.ceil(nb / partJ) };
}

/** How the weight-gradient kernel splits `sum_b`: chunks of `chunkRows` rows. */
export interface GradWeightPlan {
  /** Batch rows per chunk. */
  chunkRows: number;
  /** Number of chunks. */
  chunks: number;
}

/** The weight-gradient plan of the tiled (`block` null) or direct entry point. */
export function gradWeightPlan(basis: Basis, dims: LayerDims, block: DirectBlock | null): GradWeightPlan {
  const trips = basisLoopTrips(basis);
  let chunkRows: number;
  if (!block) {
    // Per TK rows: the b0 loop, the dy tile, the basis tile, the product.
    const step = 1 + TILE_LOAD + TILE_LOAD * (1 + trips.value) + TILE_PRODUCT_TRIPS;
    chunkRows = Math.min(
      roundUp(dims.batch, TILE_STEP),
      TILE_STEP * unitsPerPart("kan_grad_weight", step, TILE_EPILOGUE),
    );
  } else {
    const { BR, BC } = block.constants;
    // Per row: the b loop, dy loads, basis values, the m x n products; acc init and epilogue.
    const perRow = 1 + BR + BC * (1 + trips.value) + BR * (1 + BC);
    chunkRows = Math.min(CHUNK_ROWS, unitsPerPart("kan_grad_weight", perRow, 16 + BR * (1 + BC)));
  }
  return { chunkRows, chunks: Math.ceil(dims.batch / chunkRows) };
}

/** How the input-gradient kernel splits `sum_j sum_o`: parts of `partJ` functions x `partO` outputs. */
export interface GradInputPlan {
  /** Functions j per part. */
  partJ: number;
  /** Outputs o per part. */
  partO: number;
  /** Number of parts. */
  parts: number;
  /** Ranges of outputs (`ceil(out / partO)`). */
  partsO: number;
  /** Batch rows per chunk of the direct parameter-gradient entry point. */
  chunkRows: number;
  /** Rows of the basis-parameter partials (one per output range and batch tile or chunk). */
  paramRows: number;
}

/** The input-gradient plan of the tiled (`block` null) or direct entry point. */
export function gradInputPlan(basis: Basis, dims: LayerDims, block: DirectBlock | null): GradInputPlan {
  const trips = basisLoopTrips(basis);
  const nb = basis.count;
  const q = basis.paramCount;
  let partJ: number;
  let partO: number;
  let rowsPerParamRow: number;
  let chunkRows = CHUNK_ROWS;
  if (!block) {
    // x loads and the dx stores; per j: the j loop, acc init (16), per TK outputs a tile step,
    // then the dx terms and, per basis parameter, its terms and the 16-row reduction.
    const fixed = 2 * TILE_EPILOGUE;
    const step = 1 + 2 * TILE_LOAD + TILE_PRODUCT_TRIPS;
    const perJ = 1 + 16 + TILE_BLOCK * (1 + TILE_BLOCK * (1 + trips.dx)) +
      q * (1 + TILE_BLOCK * (1 + TILE_BLOCK * (1 + trips.dparam)) + TILE_BLOCK * (1 + 16));
    const steps = Math.min(
      Math.ceil(dims.outDim / TILE_STEP),
      unitsPerPart("kan_grad_input", step, fixed + perJ),
    );
    partO = steps * TILE_STEP;
    partJ = Math.min(nb, unitsPerPart("kan_grad_input", perJ + steps * step, fixed));
    rowsPerParamRow = Math.ceil(dims.batch / TILE);
  } else {
    const { BR, BC } = block.constants;
    // The x/range loads and the dx stores; per j: the j loop, g init (16), per output its loads and
    // products, then the dx terms.
    const fixed = BR * (1 + BC * (1 + trips.range)) + BR * (1 + BC);
    const perOutput = 1 + BR + BC + BR * (1 + BC);
    const perJ = 1 + 16 + BR * (1 + BC * (1 + trips.dx));
    partO = Math.min(dims.outDim, unitsPerPart("kan_grad_input", perOutput, fixed + perJ));
    partJ = Math.min(nb, unitsPerPart("kan_grad_input", perJ + partO * perOutput, fixed));
    if (q > 0) {
      // direct_params, per row of its chunk: the b loop, the o loop over the part's outputs, dparam.
      const perRow = 2 + partO + trips.dparam;
      chunkRows = Math.min(CHUNK_ROWS, unitsPerPart("kan_grad_input", perRow, 0));
    }
    rowsPerParamRow = Math.ceil(dims.batch / chunkRows);
  }
  const partsO = Math.ceil(dims.outDim / partO);
  return {
    partJ,
    partO,
    parts: Math.ceil(nb / partJ) * partsO,
    partsO,
    chunkRows,
    paramRows: partsO * rowsPerParamRow,
  };
}
