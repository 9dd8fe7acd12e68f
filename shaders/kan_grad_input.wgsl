// For each basis index j: G_j[b, i] = sum_o dy[b, o] * w[o, i * NB + j] (a tiled
// product), then in its epilogue
//   dx[b, i] = beta * dx[b, i] + sum_j G_j[b, i] * dphi_j/dx(x[b, i])
// and, for bases with trainable parameters, per batch tile t
//   partial[t, q, i, j] = sum_{b in t} G_j[b, i] * dphi_j/dparam_q(x[b, i]).
// Neither G nor any basis derivative is stored beyond one tile.
//
// Split-K: each invocation covers one part, a range of j (part_j functions)
// and of o (part_o outputs), so that its loops stay within the loop-trip
// budget (src/gpu/loop_trips.ts). With several parts, the dispatch covers
// parts part_base .. part_base + part_count - 1, writing the sums of its t-th
// part into dx[t, b, i] (the host passes beta 0), and reduce_rows.wgsl sums the
// parts; the
// parameter partials get one row per (o range, batch tile), each j range
// writing its own columns.
override NB: u32 = 1u;

struct Params {
  batch: u32,
  in_dim: u32,
  out_dim: u32,
  beta: f32,
  chunk_rows: u32, // direct_params: rows per batch chunk
  part_j: u32,     // basis functions j per part
  part_o: u32,     // outputs o per part (tiled: a multiple of TK)
  part_base: u32,
  part_count: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;              // [B, in]
@group(0) @binding(2) var<storage, read> dy: array<f32>;             // [B, out]
@group(0) @binding(3) var<storage, read> w: array<f32>;              // [out, in * NB]
@group(0) @binding(4) var<storage, read> basis_data: array<f32>;
@group(0) @binding(5) var<storage, read_write> dx: array<f32>;       // [parts, B, in]
@group(0) @binding(6) var<storage, read_write> partial: array<f32>;  // [o parts * tiles, BASIS_PARAMS, in, NB]

// The ranges of part q: x = j_begin, y = j_end, z = o_begin, w = o_end.
fn part_ranges(q: u32) -> vec4u {
  let parts_o = (p.out_dim + p.part_o - 1u) / p.part_o;
  let j_begin = (q / parts_o) * p.part_j;
  let o_begin = (q % parts_o) * p.part_o;
  return vec4u(j_begin, min(NB, j_begin + p.part_j), o_begin, min(p.out_dim, o_begin + p.part_o));
}

// Writes the sum v of dx[b, i] of part q.
fn store_dx(q: u32, b: u32, i: u32, v: f32) {
  let idx = (q * p.batch + b) * p.in_dim + i;
  var total = v;
  if (p.beta != 0.0) { total += p.beta * dx[idx]; }
  dx[idx] = total;
}

var<workgroup> red: array<f32, 1024>;    // [16][TN]: column sums of the parameter partials

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u,
        @builtin(local_invocation_index) li: u32, @builtin(num_workgroups) nwg: vec3u) {
  let K = p.in_dim * NB;
  let range = part_ranges(p.part_base + wid.z);
  let parts_o = (p.out_dim + p.part_o - 1u) / p.part_o;
  let param_row = ((p.part_base + wid.z) % parts_o) * nwg.y + wid.y;
  let row0 = wid.y * TM;
  let col0 = wid.x * TN;
  var xv: array<f32, 16>;
  var gx: array<f32, 16>;
  for (var m = 0u; m < RM; m++) {
    let b = min(row0 + lid.y + 16u * m, p.batch - 1u);
    for (var n = 0u; n < RN; n++) {
      let i = min(col0 + lid.x + 16u * n, p.in_dim - 1u);
      xv[m * RN + n] = x[b * p.in_dim + i];
    }
  }
  for (var j = range.x; j < range.y; j++) {
    var acc: array<f32, 16>;
    for (var t = 0u; t < 16u; t++) { acc[t] = 0.0; }
    for (var o0 = range.z; o0 < range.w; o0 += TK) {
      for (var e = li; e < TM * TK; e += 256u) {
        let r = e / TK;
        let c = e % TK;
        let b = row0 + r;
        let o = o0 + c;
        var v = 0.0;
        if (b < p.batch && o < range.w) {
          v = dy[b * p.out_dim + o];
        }
        a_tile[c * TM + r] = v;
      }
      for (var e = li; e < TN * TK; e += 256u) {
        let c = e / TN;
        let n = e % TN;
        let i = col0 + n;
        let o = o0 + c;
        var v = 0.0;
        if (i < p.in_dim && o < range.w) {
          v = w[o * K + i * NB + j];
        }
        b_tile[c * TN + n] = v;
      }
      workgroupBarrier();
      tile_product(lid, &acc, p.batch - min(row0, p.batch), p.in_dim - min(col0, p.in_dim));
      workgroupBarrier();
    }
    for (var m = 0u; m < RM; m++) {
      for (var n = 0u; n < RN; n++) {
        let i = col0 + lid.x + 16u * n;
        if (row0 + lid.y + 16u * m < p.batch && i < p.in_dim) {
          gx[m * RN + n] = fma(acc[m * RN + n], basis_dx(i, j, xv[m * RN + n]), gx[m * RN + n]);
        }
      }
    }
    for (var q = 0u; q < BASIS_PARAMS; q++) {
      for (var n = 0u; n < RN; n++) {
        let i = min(col0 + lid.x + 16u * n, p.in_dim - 1u);
        var s = 0.0;
        for (var m = 0u; m < RM; m++) {
          if (row0 + lid.y + 16u * m < p.batch && col0 + lid.x + 16u * n < p.in_dim) {
            s = fma(acc[m * RN + n], basis_dparam(i, j, xv[m * RN + n], q), s);
          }
        }
        red[lid.y * TN + lid.x + 16u * n] = s;
      }
      workgroupBarrier();
      if (lid.y == 0u) {
        for (var n = 0u; n < RN; n++) {
          let col = lid.x + 16u * n;
          let i = col0 + col;
          var s = 0.0;
          for (var r = 0u; r < 16u; r++) { s += red[r * TN + col]; }
          if (i < p.in_dim) {
            partial[((param_row * BASIS_PARAMS + q) * p.in_dim + i) * NB + j] = s;
          }
        }
      }
      workgroupBarrier();
    }
  }
  for (var m = 0u; m < RM; m++) {
    let b = row0 + lid.y + 16u * m;
    for (var n = 0u; n < RN; n++) {
      let i = col0 + lid.x + 16u * n;
      if (b < p.batch && i < p.in_dim) { store_dx(wid.z, b, i, gx[m * RN + n]); }
    }
  }
}

// dx without tiles or workgroup memory, each thread a BR x BC block of
// (b, i) (direct_block.wgsl) of one part: for layers with few outputs and
// small products. For each j of the part that some (b, i) of the block may have
// non-zero, it forms G_j over the block and the part's outputs, loading each dy
// and weight once for the block.
@compute @workgroup_size(64)
fn direct(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = gid.x + gid.y * nwg.x * 64u;
  let blocks = block_count(p.batch, p.in_dim);
  if (e >= blocks * p.part_count) { return; }
  let part = e / blocks;
  let range = part_ranges(p.part_base + part);
  let origin = block_origin(e % blocks, p.in_dim);
  let K = p.in_dim * NB;
  var xv: array<f32, 16>;
  var ranges: array<vec2u, 16>;
  var v: array<f32, 16>;
  var lo = range.y;
  var hi = range.x;
  for (var m = 0u; m < BR; m++) {
    for (var n = 0u; n < BC; n++) {
      let i = block_index(origin.y, n, p.in_dim);
      xv[m * 4u + n] = x[block_index(origin.x, m, p.batch) * p.in_dim + i];
      ranges[m * 4u + n] = basis_range(i, xv[m * 4u + n]);
      lo = min(lo, max(ranges[m * 4u + n].x, range.x));
      hi = max(hi, min(ranges[m * 4u + n].y, range.y));
      v[m * 4u + n] = 0.0;
    }
  }
  for (var j = lo; j < hi; j++) {
    var g: array<f32, 16>;
    for (var t = 0u; t < 16u; t++) { g[t] = 0.0; }
    for (var o = range.z; o < range.w; o++) {
      var dyv: array<f32, 4>;
      var wv: array<f32, 4>;
      for (var m = 0u; m < BR; m++) { dyv[m] = dy[block_index(origin.x, m, p.batch) * p.out_dim + o]; }
      for (var n = 0u; n < BC; n++) { wv[n] = w[o * K + block_index(origin.y, n, p.in_dim) * NB + j]; }
      for (var m = 0u; m < BR; m++) {
        for (var n = 0u; n < BC; n++) { g[m * 4u + n] = fma(dyv[m], wv[n], g[m * 4u + n]); }
      }
    }
    for (var m = 0u; m < BR; m++) {
      for (var n = 0u; n < BC; n++) {
        let t = m * 4u + n;
        if (j >= ranges[t].x && j < ranges[t].y) {
          v[t] = fma(g[t], basis_dx(block_index(origin.y, n, p.in_dim), j, xv[t]), v[t]);
        }
      }
    }
  }
  for (var m = 0u; m < BR; m++) {
    let b = origin.x + m;
    for (var n = 0u; n < BC; n++) {
      let i = origin.y + n;
      if (b < p.batch && i < p.in_dim) { store_dx(part, b, i, v[m * 4u + n]); }
    }
  }
}

// The basis-parameter gradients without tiles, one thread per (batch chunk c,
// o range r, q, i, j), summing its chunk's rows and its outputs in order into
// partial[c * o_parts + r, q, i, j].
@compute @workgroup_size(64)
fn direct_params(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = gid.x + gid.y * nwg.x * 64u;
  let per_q = p.in_dim * NB;
  let chunks = (p.batch + p.chunk_rows - 1u) / p.chunk_rows;
  let parts_o = (p.out_dim + p.part_o - 1u) / p.part_o;
  if (e >= chunks * parts_o * BASIS_PARAMS * per_q) { return; }
  let row = e / (BASIS_PARAMS * per_q);
  let c = row / parts_o;
  let o_begin = (row % parts_o) * p.part_o;
  let q = (e / per_q) % BASIS_PARAMS;
  let i = (e % per_q) / NB;
  let j = e % NB;
  let K = p.in_dim * NB;
  var v = 0.0;
  for (var b = c * p.chunk_rows; b < min(p.batch, (c + 1u) * p.chunk_rows); b++) {
    var g = 0.0;
    for (var o = o_begin; o < min(p.out_dim, o_begin + p.part_o); o++) {
      g = fma(dy[b * p.out_dim + o], w[o * K + i * NB + j], g);
    }
    v = fma(g, basis_dparam(i, j, x[b * p.in_dim + i], q), v);
  }
  partial[e] = v;
}
