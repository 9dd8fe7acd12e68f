// y[b, o] = beta * y[b, o] + bias[o] + sum_k phi_k(x[b, k / NB]) * w[o, k],  k = i * NB + j.
// The basis file and tile_product.wgsl prepended to this one provide basis_value(i, j, x). The
// basis matrix phi is evaluated while the A tile is loaded: it never exists
// in GPU memory.
override NB: u32 = 1u;

struct Params {
  batch: u32,
  in_dim: u32,
  out_dim: u32,
  beta: f32,
  has_bias: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;          // [B, in]
@group(0) @binding(2) var<storage, read> w: array<f32>;          // [out, in * NB]
@group(0) @binding(3) var<storage, read> basis_data: array<f32>; // the basis's own layout
@group(0) @binding(4) var<storage, read> bias: array<f32>;       // [out] when has_bias
@group(0) @binding(5) var<storage, read_write> y: array<f32>;    // [B, out]


@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let K = p.in_dim * NB;
  let row0 = wid.y * TM;
  let col0 = wid.x * TN;
  var acc: array<f32, 16>;
  for (var k0 = 0u; k0 < K; k0 += TK) {
    for (var e = li; e < TM * TK; e += 256u) {
      let r = e / TK;
      let c = e % TK;
      let b = row0 + r;
      let k = k0 + c;
      var v = 0.0;
      if (b < p.batch && k < K) {
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
      if (o < p.out_dim && k < K) {
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
      if (b < p.batch && o < p.out_dim) {
        var v = acc[m * RN + n];
        if (p.has_bias != 0u) { v += bias[o]; }
        let idx = b * p.out_dim + o;
        if (p.beta != 0.0) { v += p.beta * y[idx]; }
        y[idx] = v;
      }
    }
  }
}

// The same product without tiles or workgroup memory, each thread a BR x BC
// block of (b, o) (direct_block.wgsl): for layers with few outputs, where a
// 64 x 64 tile would be mostly empty, and for small products. For each row it
// visits only the functions basis_range says may be non-zero (all of them
// unless the basis has local support, as B-splines do), loading each weight
// once for the whole block.
@compute @workgroup_size(64)
fn direct(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = gid.x + gid.y * nwg.x * 64u;
  if (e >= block_count(p.batch, p.out_dim)) { return; }
  let origin = block_origin(e, p.out_dim);
  let K = p.in_dim * NB;
  var acc: array<f32, 16>;
  for (var t = 0u; t < 16u; t++) { acc[t] = 0.0; }
  for (var i = 0u; i < p.in_dim; i++) {
    var xv: array<f32, 4>;
    var ranges: array<vec2u, 4>;
    var lo = NB;
    var hi = 0u;
    for (var m = 0u; m < BR; m++) {
      xv[m] = x[block_index(origin.x, m, p.batch) * p.in_dim + i];
      ranges[m] = basis_range(i, xv[m]);
      lo = min(lo, ranges[m].x);
      hi = max(hi, ranges[m].y);
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
      if (b < p.batch && o < p.out_dim) {
        var v = acc[m * 4u + n];
        if (p.has_bias != 0u) { v += bias[o]; }
        let idx = b * p.out_dim + o;
        if (p.beta != 0.0) { v += p.beta * y[idx]; }
        y[idx] = v;
      }
    }
  }
}
