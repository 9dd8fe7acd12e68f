// u[b, :] = (x[b, :] - mean) / sqrt(var + eps) * gamma + beta over the `dim`
// features of each row (biased variance, as torch.nn.LayerNorm); the row's
// mean and 1/std are kept in stats [B, 2] for the backward pass.
//
// `main` does a row in one invocation (three passes over it) when that fits the
// loop-trip budget (src/gpu/loop_trips.ts). Longer rows take three kernels:
// `stats_partial` gives each (row, chunk of `chunk` features) its count, mean
// and sum of squared deviations, `stats_combine` merges a row's chunks (Chan et
// al.'s parallel update), and `normalize` writes u element by element.
struct Params {
  rows: u32,
  dim: u32,
  eps: f32,
  chunk: u32,  // features per chunk
  chunks: u32, // chunks per row
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> beta: array<f32>;
@group(0) @binding(4) var<storage, read_write> u: array<f32>;
@group(0) @binding(5) var<storage, read_write> stats: array<f32>;
@group(0) @binding(6) var<storage, read_write> part: array<f32>; // [B, chunks, 3]: count, mean, M2

override WG: u32 = 64u;

fn index(gid: vec3u, nwg: vec3u) -> u32 {
  return gid.x + gid.y * nwg.x * WG;
}

fn store_stats(b: u32, mean: f32, m2: f32) {
  stats[2u * b] = mean;
  stats[2u * b + 1u] = 1.0 / sqrt(m2 / f32(p.dim) + p.eps);
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let b = index(gid, nwg);
  if (b >= p.rows) { return; }
  let base = b * p.dim;
  var mean = 0.0;
  for (var i = 0u; i < p.dim; i++) { mean += x[base + i]; }
  mean /= f32(p.dim);
  var m2 = 0.0;
  for (var i = 0u; i < p.dim; i++) {
    let d = x[base + i] - mean;
    m2 = fma(d, d, m2);
  }
  store_stats(b, mean, m2);
  let rstd = stats[2u * b + 1u];
  for (var i = 0u; i < p.dim; i++) {
    u[base + i] = (x[base + i] - mean) * rstd * gamma[i] + beta[i];
  }
}

@compute @workgroup_size(WG)
fn stats_partial(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = index(gid, nwg);
  if (e >= p.rows * p.chunks) { return; }
  let b = e / p.chunks;
  let begin = (e % p.chunks) * p.chunk;
  let end = min(p.dim, begin + p.chunk);
  var mean = 0.0;
  for (var i = begin; i < end; i++) { mean += x[b * p.dim + i]; }
  mean /= f32(end - begin);
  var m2 = 0.0;
  for (var i = begin; i < end; i++) {
    let d = x[b * p.dim + i] - mean;
    m2 = fma(d, d, m2);
  }
  part[3u * e] = f32(end - begin);
  part[3u * e + 1u] = mean;
  part[3u * e + 2u] = m2;
}

@compute @workgroup_size(WG)
fn stats_combine(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let b = index(gid, nwg);
  if (b >= p.rows) { return; }
  var n = 0.0;
  var mean = 0.0;
  var m2 = 0.0;
  for (var c = 0u; c < p.chunks; c++) {
    let e = 3u * (b * p.chunks + c);
    let nc = part[e];
    let delta = part[e + 1u] - mean;
    let total = n + nc;
    mean += delta * nc / total;
    m2 += part[e + 2u] + delta * delta * n * nc / total;
    n = total;
  }
  store_stats(b, mean, m2);
}

@compute @workgroup_size(WG)
fn normalize(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = index(gid, nwg);
  if (e >= p.rows * p.dim) { return; }
  let b = e / p.dim;
  let i = e % p.dim;
  u[e] = (x[e] - stats[2u * b]) * stats[2u * b + 1u] * gamma[i] + beta[i];
}
