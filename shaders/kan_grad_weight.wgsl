// dw[o, k] = beta * dw[o, k] + sum_b dy[b, o] * phi_k(x[b, k / NB]),  k = i * NB + j.
// The basis matrix is evaluated while the B tile is loaded, never stored.
//
// Split over the batch: each invocation sums the rows of one chunk (chunk_rows
// rows, chunk index chunk_base + wid.z or + c), so that its loops stay within
// the loop-trip budget (src/gpu/loop_trips.ts). With several chunks, chunk q
// writes dw[q, o, k] (the host passes beta 0) and reduce_rows.wgsl sums them.
override NB: u32 = 1u;

struct Params {
  batch: u32,
  in_dim: u32,
  out_dim: u32,
  beta: f32,
  chunk_rows: u32, // rows per batch chunk (tiled: a multiple of TK)
  chunk_base: u32, // the first chunk of this dispatch
  chunk_count: u32, // chunks in this dispatch
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;          // [B, in]
@group(0) @binding(2) var<storage, read> dy: array<f32>;         // [B, out]
@group(0) @binding(3) var<storage, read> basis_data: array<f32>;
@group(0) @binding(4) var<storage, read_write> dw: array<f32>;   // [chunks, out, in * NB]

// Writes the sum v of weight (o, k) of chunk q of this dispatch.
fn store(q: u32, o: u32, k: u32, v: f32) {
  let idx = (q * p.out_dim + o) * p.in_dim * NB + k;
  var total = v;
  if (p.beta != 0.0) { total += p.beta * dw[idx]; }
  dw[idx] = total;
}


@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let K = p.in_dim * NB;
  let row0 = wid.y * TM;
  let col0 = wid.x * TN;
  let b_begin = (p.chunk_base + wid.z) * p.chunk_rows;
  let b_end = min(p.batch, b_begin + p.chunk_rows);
  var acc: array<f32, 16>;
  for (var b0 = b_begin; b0 < b_end; b0 += TK) {
    for (var e = li; e < TM * TK; e += 256u) {
      let c = e / TM;
      let r = e % TM;
      let b = b0 + c;
      let o = row0 + r;
      var v = 0.0;
      if (b < b_end && o < p.out_dim) {
        v = dy[b * p.out_dim + o];
      }
      a_tile[c * TM + r] = v;
    }
    for (var e = li; e < TN * TK; e += 256u) {
      let c = e / TN;
      let n = e % TN;
      let b = b0 + c;
      let k = col0 + n;
      var v = 0.0;
      if (b < b_end && k < K) {
        let i = k / NB;
        v = basis_value(i, k % NB, x[b * p.in_dim + i]);
      }
      b_tile[c * TN + n] = v;
    }
    workgroupBarrier();
    tile_product(lid, &acc, p.out_dim - min(row0, p.out_dim), K - min(col0, K));
    workgroupBarrier();
  }
  for (var m = 0u; m < RM; m++) {
    let o = row0 + lid.y + 16u * m;
    for (var n = 0u; n < RN; n++) {
      let k = col0 + lid.x + 16u * n;
      if (o < p.out_dim && k < K) { store(wid.z, o, k, acc[m * RN + n]); }
    }
  }
}

// The same product without tiles or workgroup memory, for layers with few
// outputs and small products: each thread a BR x BC block of weights (o, k)
// (direct_block.wgsl) of one batch chunk c, summing the chunk's rows in order
// into dw[c, o, k]; with several chunks the caller sums the chunks
// (reduce_rows). Each dy and basis value it evaluates serves the whole block.
@compute @workgroup_size(64)
fn direct(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let K = p.in_dim * NB;
  let e = gid.x + gid.y * nwg.x * 64u;
  let per_chunk = block_count(p.out_dim, K);
  if (e >= p.chunk_count * per_chunk) { return; }
  let c = e / per_chunk;
  let origin = block_origin(e % per_chunk, K);
  let b_begin = (p.chunk_base + c) * p.chunk_rows;
  var acc: array<f32, 16>;
  for (var t = 0u; t < 16u; t++) { acc[t] = 0.0; }
  for (var b = b_begin; b < min(p.batch, b_begin + p.chunk_rows); b++) {
    var dyv: array<f32, 4>;
    var phi: array<f32, 4>;
    for (var m = 0u; m < BR; m++) { dyv[m] = dy[b * p.out_dim + block_index(origin.x, m, p.out_dim)]; }
    for (var n = 0u; n < BC; n++) {
      let k = block_index(origin.y, n, K);
      let i = k / NB;
      phi[n] = basis_value(i, k % NB, x[b * p.in_dim + i]);
    }
    for (var m = 0u; m < BR; m++) {
      for (var n = 0u; n < BC; n++) { acc[m * 4u + n] = fma(dyv[m], phi[n], acc[m * 4u + n]); }
    }
  }
  for (var m = 0u; m < BR; m++) {
    let o = origin.x + m;
    for (var n = 0u; n < BC; n++) {
      let k = origin.y + n;
      if (o < p.out_dim && k < K) { store(c, o, k, acc[m * 4u + n]); }
    }
  }
}
