// Backward of layer_norm_forward.wgsl, with xhat = (x - mean) * rstd:
//   input:  dx[b, i] = beta_acc * dx + rstd * (g - mean_i(g) - xhat * mean_i(g * xhat)),  g = du * gamma
//   params: dgamma[i] += sum_b du * xhat;  dbeta[i] += sum_b du
// Both sum in a fixed order. `input` does a row in one invocation when that
// fits the loop-trip budget (src/gpu/loop_trips.ts); longer rows take
// `input_partial` (sums per (row, chunk of features) into out_a, used as
// scratch [B, chunks, 2]), `input_combine` (the row's means, into the first
// chunk's slot) and `input_apply` (element by element). `params` sums one
// chunk of `chunk_rows` batch rows per invocation: with one chunk it adds into
// dgamma (out_a) and dbeta (out_b), with several it writes chunk c into row c
// of the partials bound there, which the host sums.
struct Params {
  rows: u32,
  dim: u32,
  beta_acc: f32,
  chunk: u32,      // features per chunk (input_*)
  chunks: u32,     // chunks per row (input_*)
  chunk_rows: u32, // batch rows per chunk (params)
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> du: array<f32>;
@group(0) @binding(4) var<storage, read> stats: array<f32>;
@group(0) @binding(5) var<storage, read_write> dx: array<f32>;
@group(0) @binding(6) var<storage, read_write> out_a: array<f32>; // dgamma [dim] or [chunks, dim]; input scratch
@group(0) @binding(7) var<storage, read_write> out_b: array<f32>; // dbeta [dim] or [chunks, dim]

override WG: u32 = 64u;

fn index(gid: vec3u, nwg: vec3u) -> u32 {
  return gid.x + gid.y * nwg.x * WG;
}

fn xhat(b: u32, i: u32) -> f32 {
  return (x[b * p.dim + i] - stats[2u * b]) * stats[2u * b + 1u];
}

fn input_value(b: u32, i: u32, m1: f32, m2: f32) -> f32 {
  let idx = b * p.dim + i;
  var v = stats[2u * b + 1u] * (du[idx] * gamma[i] - m1 - xhat(b, i) * m2);
  if (p.beta_acc != 0.0) { v += p.beta_acc * dx[idx]; }
  return v;
}

@compute @workgroup_size(WG)
fn input(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let b = index(gid, nwg);
  if (b >= p.rows) { return; }
  var m1 = 0.0;
  var m2 = 0.0;
  for (var i = 0u; i < p.dim; i++) {
    let g = du[b * p.dim + i] * gamma[i];
    m1 += g;
    m2 = fma(g, xhat(b, i), m2);
  }
  m1 /= f32(p.dim);
  m2 /= f32(p.dim);
  for (var i = 0u; i < p.dim; i++) { dx[b * p.dim + i] = input_value(b, i, m1, m2); }
}

@compute @workgroup_size(WG)
fn input_partial(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = index(gid, nwg);
  if (e >= p.rows * p.chunks) { return; }
  let b = e / p.chunks;
  let begin = (e % p.chunks) * p.chunk;
  var m1 = 0.0;
  var m2 = 0.0;
  for (var i = begin; i < min(p.dim, begin + p.chunk); i++) {
    let g = du[b * p.dim + i] * gamma[i];
    m1 += g;
    m2 = fma(g, xhat(b, i), m2);
  }
  out_a[2u * e] = m1;
  out_a[2u * e + 1u] = m2;
}

@compute @workgroup_size(WG)
fn input_combine(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let b = index(gid, nwg);
  if (b >= p.rows) { return; }
  var m1 = 0.0;
  var m2 = 0.0;
  for (var c = 0u; c < p.chunks; c++) {
    m1 += out_a[2u * (b * p.chunks + c)];
    m2 += out_a[2u * (b * p.chunks + c) + 1u];
  }
  out_a[2u * b * p.chunks] = m1 / f32(p.dim);
  out_a[2u * b * p.chunks + 1u] = m2 / f32(p.dim);
}

@compute @workgroup_size(WG)
fn input_apply(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = index(gid, nwg);
  if (e >= p.rows * p.dim) { return; }
  let b = e / p.dim;
  let slot = 2u * b * p.chunks;
  dx[e] = input_value(b, e % p.dim, out_a[slot], out_a[slot + 1u]);
}

@compute @workgroup_size(WG)
fn params(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = index(gid, nwg);
  let chunks = (p.rows + p.chunk_rows - 1u) / p.chunk_rows;
  if (e >= chunks * p.dim) { return; }
  let c = e / p.dim;
  let i = e % p.dim;
  var sg = 0.0;
  var sb = 0.0;
  for (var b = c * p.chunk_rows; b < min(p.rows, (c + 1u) * p.chunk_rows); b++) {
    let d = du[b * p.dim + i];
    sg = fma(d, xhat(b, i), sg);
    sb += d;
  }
  if (chunks == 1u) {
    out_a[i] += sg;
    out_b[i] += sb;
  } else {
    out_a[e] = sg;
    out_b[e] = sb;
  }
}
