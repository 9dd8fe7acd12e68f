// The per-edge entry point of the layer kernels (src/basis/edge_function.ts):
//   y[b, o] = beta * y[b, o] + bias[o] + sum_i phi(x[b, i]; theta[., o, i]),
// with the edge function file prepended (edge_value, EDGE_PLANES). theta holds EDGE_PLANES planes
// [out, in] one after another from theta_base. No product to tile: each term is its own function
// evaluation, so each invocation computes one output (b, o) of one part.
//
// Split-K, as kan_forward.wgsl: each invocation sums a range of part_i inputs, so that its loops stay
// within the loop-trip budget (src/gpu/loop_trips.ts); with several parts the dispatch covers parts
// part_base .. part_base + part_count - 1, writing the t-th into y[t, b, o] (beta 0, no bias), and
// reduce_rows.wgsl sums them.
struct Params {
  batch: u32,
  in_dim: u32,
  out_dim: u32,
  beta: f32,
  has_bias: u32,
  part_i: u32,
  part_base: u32,
  part_count: u32,
  theta_base: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;          // [B, in]
@group(0) @binding(2) var<storage, read> theta: array<f32>;      // [EDGE_PLANES, out, in] at theta_base
@group(0) @binding(3) var<storage, read> bias: array<f32>;       // [out] when has_bias
@group(0) @binding(4) var<storage, read_write> y: array<f32>;    // [parts, B, out]

fn edge_params(o: u32, i: u32) -> array<f32, EDGE_PLANES> {
  var th: array<f32, EDGE_PLANES>;
  let plane = p.out_dim * p.in_dim;
  for (var q = 0u; q < EDGE_PLANES; q++) { th[q] = theta[p.theta_base + q * plane + o * p.in_dim + i]; }
  return th;
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = gid.x + gid.y * nwg.x * 64u;
  let size = p.batch * p.out_dim;
  if (e >= size * p.part_count) { return; }
  let t = e / size;
  let b = (e % size) / p.out_dim;
  let o = e % p.out_dim;
  let i_begin = (p.part_base + t) * p.part_i;
  let i_end = min(p.in_dim, i_begin + p.part_i);
  var acc = 0.0;
  for (var i = i_begin; i < i_end; i++) {
    acc += edge_value(x[b * p.in_dim + i], edge_params(o, i), i, p.in_dim);
  }
  if (p.has_bias != 0u) { acc += bias[o]; }
  let idx = (t * p.batch + b) * p.out_dim + o;
  if (p.beta != 0.0) { acc += p.beta * y[idx]; }
  y[idx] = acc;
}
