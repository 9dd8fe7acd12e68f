// y[b, o] = beta * y[b, o] + bias[o] + sum_k phi_k(x[b, k / NB]) * w[o, k],  k = i * NB + j.
// The basis file and tile_product.wgsl prepended to this one provide basis_value(i, j, x). The
// basis matrix phi is evaluated while the A tile is loaded: it never exists
// in GPU memory.
//
// Split-K: each invocation sums one part of the k range, so that its loops
// stay within the loop-trip budget (src/gpu/loop_trips.ts). With several
// parts, the dispatch covers parts part_base .. part_base + part_count - 1,
// writing the sums of its t-th part into y[t, b, o] (the host passes beta 0 and
// no bias), and reduce_rows.wgsl sums the parts.
override NB: u32 = 1u;

struct Params {
  batch: u32,
  in_dim: u32,
  out_dim: u32,
  beta: f32,
  has_bias: u32,
  part_k: u32, // tiled: k per part (a multiple of TK); direct: inputs i per part
  part_j: u32, // direct: basis functions j per part
  part_base: u32,
  part_count: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;          // [B, in]
@group(0) @binding(2) var<storage, read> w: array<f32>;          // [out, in * NB]
@group(0) @binding(3) var<storage, read> basis_data: array<f32>; // the basis's own layout
@group(0) @binding(4) var<storage, read> bias: array<f32>;       // [out] when has_bias
@group(0) @binding(5) var<storage, read_write> y: array<f32>;    // [parts, B, out]

// Writes the sum v of output (b, o) of part q.
fn store(q: u32, b: u32, o: u32, v: f32) {
  var total = v;
  if (p.has_bias != 0u) { total += bias[o]; }
  let idx = (q * p.batch + b) * p.out_dim + o;
  if (p.beta != 0.0) { total += p.beta * y[idx]; }
  y[idx] = total;
}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let K = p.in_dim * NB;
  let row0 = wid.y * TM;
  let col0 = wid.x * TN;
  let k_begin = (p.part_base + wid.z) * p.part_k;
  let k_end = min(K, k_begin + p.part_k);
  var acc: array<f32, 16>;
  for (var k0 = k_begin; k0 < k_end; k0 += TK) {
    for (var e = li; e < TM * TK; e += 256u) {
      let r = e / TK;
      let c = e % TK;
      let b = row0 + r;
      let k = k0 + c;
      var v = 0.0;
      if (b < p.batch && k < k_end) {
        let i = k / NB;
        v = basis_value(i, k % NB, x[b * p.in_dim + i]);
      }
      a_tile[c * TM + r] = v;
    }
    for (var e = li; e < TN * TK; e += 256u) {
      let n = e / TK;
      let c = e % TK;
      let o = col0 + n;
      let k = k0 + c;
      var v = 0.0;
      if (o < p.out_dim && k < k_end) {
        v = w[o * K + k];
      }
      b_tile[c * TN + n] = v;
    }
    workgroupBarrier();
    tile_product(lid, &acc, p.batch - min(row0, p.batch), p.out_dim - min(col0, p.out_dim));
    workgroupBarrier();
  }
  for (var m = 0u; m < RM; m++) {
    let b = row0 + lid.y + 16u * m;
    for (var n = 0u; n < RN; n++) {
      let o = col0 + lid.x + 16u * n;
      if (b < p.batch && o < p.out_dim) { store(wid.z, b, o, acc[m * RN + n]); }
    }
  }
}

// The same product without tiles or workgroup memory, each thread a BR x BC
// block of (b, o) (direct_block.wgsl) of one part (a range of inputs i and of
// functions j): for layers with few outputs, where a 64 x 64 tile would be
// mostly empty, and for small products. For each row it visits only the
// functions basis_range says may be non-zero (all of them unless the basis has
// local support, as B-splines do), loading each weight once for the whole block.
@compute @workgroup_size(64)
fn direct(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = gid.x + gid.y * nwg.x * 64u;
  let blocks = block_count(p.batch, p.out_dim);
  if (e >= blocks * p.part_count) { return; }
  let t = e / blocks;
  let q = p.part_base + t;
  let parts_j = (NB + p.part_j - 1u) / p.part_j;
  let origin = block_origin(e % blocks, p.out_dim);
  let i_begin = (q / parts_j) * p.part_k;
  let i_end = min(p.in_dim, i_begin + p.part_k);
  let j_begin = (q % parts_j) * p.part_j;
  let j_end = min(NB, j_begin + p.part_j);
  let K = p.in_dim * NB;
  var acc: array<f32, 16>;
  for (var z = 0u; z < 16u; z++) { acc[z] = 0.0; }
  for (var i = i_begin; i < i_end; i++) {
    var xv: array<f32, 4>;
    var ranges: array<vec2u, 4>;
    var lo = j_end;
    var hi = j_begin;
    for (var m = 0u; m < BR; m++) {
      xv[m] = x[block_index(origin.x, m, p.batch) * p.in_dim + i];
      ranges[m] = basis_range(i, xv[m]);
      lo = min(lo, max(ranges[m].x, j_begin));
      hi = max(hi, min(ranges[m].y, j_end));
    }
    for (var j = lo; j < hi; j++) {
      var wv: array<f32, 4>;
      for (var n = 0u; n < BC; n++) { wv[n] = w[block_index(origin.y, n, p.out_dim) * K + i * NB + j]; }
      for (var m = 0u; m < BR; m++) {
        if (j >= ranges[m].x && j < ranges[m].y) {
          let phi = basis_value(i, j, xv[m]);
          for (var n = 0u; n < BC; n++) { acc[m * 4u + n] = fma(phi, wv[n], acc[m * 4u + n]); }
        }
      }
    }
  }
  for (var m = 0u; m < BR; m++) {
    let b = origin.x + m;
    for (var n = 0u; n < BC; n++) {
      let o = origin.y + n;
      if (b < p.batch && o < p.out_dim) { store(t, b, o, acc[m * 4u + n]); }
    }
  }
}
