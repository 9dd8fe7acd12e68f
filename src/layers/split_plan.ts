/**
 * How each layer kernel (kan_forward, kan_grad_weight, kan_grad_input) splits
 * its reduction into parts so that no invocation loops past the loop-trip
 * budget (`src/gpu/loop_trips.ts`), whatever the shape.
 *
 * Each plan counts the loop trips of one invocation from the loops of the
 * WGSL, as llvmpipe charges them ({@linkcode loopTrips}: `n + 1` for a loop of
 * `n` iterations), as if no loop were unrolled and taking every
 * data-dependent loop at its longest (a B-spline block may visit every
 * function of its inputs); the comments name the loops.
 * `tests/loop_budget_test.ts` checks the counts against kernels instrumented
 * to count their trips.
 *
 * @module
 */

import { type Basis, basisLoopTrips } from "../basis/basis.ts";
import { loopTrips, unitsPerPart } from "../gpu/loop_trips.ts";

/** Output rows (and columns) of one tile of the tiled entry points (tile_product.wgsl `TM`, `TN`). */
export const TILE = 64;
/** The reduction step of the tiles (`TK`). */
export const TILE_STEP = 16;
/** Outputs of one thread of a tile, per dimension (`RM`, `RN`). */
const TILE_BLOCK = 4;
/** Threads of a tiled workgroup. */
const TILE_THREADS = 256;
/** One `tile_product` call: the `c` loop; per `c` the `m` and `n` loads and the `m x n` products. */
const TILE_PRODUCT_TRIPS = loopTrips(
  TILE_STEP,
  2 * loopTrips(TILE_BLOCK) + loopTrips(TILE_BLOCK, loopTrips(TILE_BLOCK)),
);
/** The strided loop that fills one tile (`TM * TK / 256` elements per thread), each element costing `body`. */
function tileLoad(body: number): number {
  return loopTrips(TILE * TILE_STEP / TILE_THREADS, body);
}
/** A tiled thread's `m x n` nest over its outputs (the epilogue), each costing `body`. */
function tileNest(body = 0): number {
  return loopTrips(TILE_BLOCK, loopTrips(TILE_BLOCK, body));
}

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
    // Per TK step: the k0 iteration, the A tile (a basis value each), the B tile, the product;
    // then the k0 loop's last test and the epilogue.
    const step = 1 + tileLoad(trips.value) + tileLoad(0) + TILE_PRODUCT_TRIPS;
    const steps = unitsPerPart("kan_forward", step, 1 + tileNest());
    const partK = Math.min(roundUp(k, TILE_STEP), TILE_STEP * steps);
    return { partK, partJ: nb, parts: Math.ceil(k / partK) };
  }
  const { BR, BC } = block.constants;
  // acc init, the i loop's last test, the epilogue; per input: its iteration, the m loop with
  // basis_range, the j loop's last test; per function: its iteration, the weight loads, the m loop
  // with a basis value and the n loop.
  const fixed = loopTrips(16) + 1 + loopTrips(BR, loopTrips(BC));
  const perInput = 1 + loopTrips(BR, trips.range) + 1;
  const perFunction = 1 + loopTrips(BC) + loopTrips(BR, trips.value + loopTrips(BC));
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
    // Per TK rows: the b0 iteration, the dy tile, the basis tile, the product; the b0 loop's last
    // test and the epilogue.
    const step = 1 + tileLoad(0) + tileLoad(trips.value) + TILE_PRODUCT_TRIPS;
    const steps = unitsPerPart("kan_grad_weight", step, 1 + tileNest());
    chunkRows = Math.min(roundUp(dims.batch, TILE_STEP), TILE_STEP * steps);
  } else {
    const { BR, BC } = block.constants;
    // Per row: its iteration, the dy loads, the basis values, the m x n products; acc init, the b
    // loop's last test and the epilogue.
    const perRow = 1 + loopTrips(BR) + loopTrips(BC, trips.value) + loopTrips(BR, loopTrips(BC));
    const fixed = loopTrips(16) + 1 + loopTrips(BR, loopTrips(BC));
    chunkRows = Math.min(CHUNK_ROWS, unitsPerPart("kan_grad_weight", perRow, fixed));
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
    // The x loads, the j loop's last test and the dx stores; per j: its iteration, acc init, the o0
    // loop's last test, per TK outputs a tile step, then the dx terms and, per basis parameter, its
    // terms and the 16-row sums (a loop that runs no times when there are none).
    const fixed = tileNest() + 1 + tileNest();
    const step = 1 + tileLoad(0) + tileLoad(0) + TILE_PRODUCT_TRIPS;
    const perParam = loopTrips(TILE_BLOCK, loopTrips(TILE_BLOCK, trips.dparam)) +
      loopTrips(TILE_BLOCK, loopTrips(16));
    const perJ = 1 + loopTrips(16) + 1 + tileNest(trips.dx) + loopTrips(q, perParam);
    const steps = Math.min(
      Math.ceil(dims.outDim / TILE_STEP),
      unitsPerPart("kan_grad_input", step, fixed + perJ),
    );
    partO = steps * TILE_STEP;
    partJ = Math.min(nb, unitsPerPart("kan_grad_input", perJ + steps * step, fixed));
    rowsPerParamRow = Math.ceil(dims.batch / TILE);
  } else {
    const { BR, BC } = block.constants;
    // The x/range loads, the j loop's last test and the dx stores; per j: its iteration, g init, the
    // o loop's last test, per output its loads and products, then the dx terms.
    const fixed = loopTrips(BR, loopTrips(BC, trips.range)) + 1 + loopTrips(BR, loopTrips(BC));
    const perOutput = 1 + loopTrips(BR) + loopTrips(BC) + loopTrips(BR, loopTrips(BC));
    const perJ = 1 + loopTrips(16) + 1 + loopTrips(BR, loopTrips(BC, trips.dx));
    partO = Math.min(dims.outDim, unitsPerPart("kan_grad_input", perOutput, fixed + perJ));
    partJ = Math.min(nb, unitsPerPart("kan_grad_input", perJ + partO * perOutput, fixed));
    if (q > 0) {
      // direct_params, per row of its chunk: its iteration, the o loop over the part's outputs,
      // dparam; then the row loop's last test.
      const perRow = 1 + loopTrips(partO) + trips.dparam;
      chunkRows = Math.min(CHUNK_ROWS, unitsPerPart("kan_grad_input", perRow, 1));
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
