// Register blocks of the direct (untiled) entry points of the layer kernels:
// each thread computes a BR x BC block of its output, so every value it loads
// from a storage buffer serves BR or BC multiply-adds instead of one. Blocks
// at the edges clamp their loads into range and skip the stores out of it.
override BR: u32 = 4u; // block rows, 1 to 4
override BC: u32 = 4u; // block columns, 1 to 4

// How many blocks cover a rows x cols output.
fn block_count(rows: u32, cols: u32) -> u32 {
  return ((rows + BR - 1u) / BR) * ((cols + BC - 1u) / BC);
}

// The first row and column of block e of an output with cols columns.
fn block_origin(e: u32, cols: u32) -> vec2u {
  let per_row = (cols + BC - 1u) / BC;
  return vec2u((e / per_row) * BR, (e % per_row) * BC);
}

// Row (or column) `origin + t` of a block, clamped below `limit` for loads.
fn block_index(origin: u32, t: u32, limit: u32) -> u32 {
  return min(origin + t, limit - 1u);
}
