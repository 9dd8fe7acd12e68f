// The per-edge backward entry points of the layer kernels (src/basis/edge_function.ts), with the edge
// function file prepended (edge_derivs, EDGE_PLANES, EDGE_DERIVS):
//   params: dtheta[q, o, i] = beta * dtheta[q, o, i] + sum_b dy[b, o] * dphi/dtheta_q(x[b, i]; theta[., o, i])
//           for the planes whose bit is set in mask (the others get 0 added),
//   input:  dx[b, i] = beta * dx[b, i] + sum_o dy[b, o] * dphi/dx(x[b, i]; theta[., o, i]).
// Each invocation computes one output of one part: params sums a chunk of `chunk` rows (parts over
// the batch), input a range of `chunk` outputs (parts over o), so that no invocation loops past the
// loop-trip budget (src/gpu/loop_trips.ts); with several parts the t-th part of the dispatch writes
// row t of out (beta 0) and reduce_rows.wgsl sums them.
struct Params {
  batch: u32,
  in_dim: u32,
  out_dim: u32,
  beta: f32,
  chunk: u32,
  part_base: u32,
  part_count: u32,
  theta_base: u32,
  mask: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;          // [B, in]
@group(0) @binding(2) var<storage, read> dy: array<f32>;         // [B, out]
@group(0) @binding(3) var<storage, read> theta: array<f32>;      // [EDGE_PLANES, out, in] at theta_base
@group(0) @binding(4) var<storage, read_write> out: array<f32>;  // params: [parts, EDGE_PLANES, out, in]; input: [parts, B, in]

fn edge_params(o: u32, i: u32) -> array<f32, EDGE_PLANES> {
  var th: array<f32, EDGE_PLANES>;
  let plane = p.out_dim * p.in_dim;
  for (var q = 0u; q < EDGE_PLANES; q++) { th[q] = theta[p.theta_base + q * plane + o * p.in_dim + i]; }
  return th;
}

@compute @workgroup_size(64)
fn params(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = gid.x + gid.y * nwg.x * 64u;
  let plane = p.out_dim * p.in_dim;
  if (e >= plane * p.part_count) { return; }
  let t = e / plane;
  let o = (e % plane) / p.in_dim;
  let i = e % p.in_dim;
  let th = edge_params(o, i);
  let b_begin = (p.part_base + t) * p.chunk;
  var acc: array<f32, EDGE_PLANES>;
  for (var q = 0u; q < EDGE_PLANES; q++) { acc[q] = 0.0; }
  for (var b = b_begin; b < min(p.batch, b_begin + p.chunk); b++) {
    let g = dy[b * p.out_dim + o];
    let d = edge_derivs(x[b * p.in_dim + i], th, i, p.in_dim);
    for (var q = 0u; q < EDGE_PLANES; q++) { acc[q] = fma(g, d[q + 1u], acc[q]); }
  }
  for (var q = 0u; q < EDGE_PLANES; q++) {
    let idx = (t * EDGE_PLANES + q) * plane + o * p.in_dim + i;
    var v = select(0.0, acc[q], ((p.mask >> q) & 1u) != 0u);
    if (p.beta != 0.0) { v += p.beta * out[idx]; }
    out[idx] = v;
  }
}

@compute @workgroup_size(64)
fn input(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = gid.x + gid.y * nwg.x * 64u;
  let size = p.batch * p.in_dim;
  if (e >= size * p.part_count) { return; }
  let t = e / size;
  let b = (e % size) / p.in_dim;
  let i = e % p.in_dim;
  let xv = x[b * p.in_dim + i];
  let o_begin = (p.part_base + t) * p.chunk;
  var acc = 0.0;
  for (var o = o_begin; o < min(p.out_dim, o_begin + p.chunk); o++) {
    acc = fma(dy[b * p.out_dim + o], edge_derivs(xv, edge_params(o, i), i, p.in_dim)[0], acc);
  }
  let idx = (t * p.batch + b) * p.in_dim + i;
  if (p.beta != 0.0) { acc += p.beta * out[idx]; }
  out[idx] = acc;
}
