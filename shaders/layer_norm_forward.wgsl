// u[b, :] = (x[b, :] - mean) / sqrt(var + eps) * gamma + beta over the `dim`
// features of each row (biased variance, as torch.nn.LayerNorm); the row's
// mean and 1/std are kept in stats [B, 2] for the backward pass.
struct Params {
  rows: u32,
  dim: u32,
  eps: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> beta: array<f32>;
@group(0) @binding(4) var<storage, read_write> u: array<f32>;
@group(0) @binding(5) var<storage, read_write> stats: array<f32>;

override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let b = gid.x + gid.y * nwg.x * WG;
  if (b >= p.rows) { return; }
  let base = b * p.dim;
  var mean = 0.0;
  for (var i = 0u; i < p.dim; i++) { mean += x[base + i]; }
  mean /= f32(p.dim);
  var variance = 0.0;
  for (var i = 0u; i < p.dim; i++) {
    let d = x[base + i] - mean;
    variance = fma(d, d, variance);
  }
  variance /= f32(p.dim);
  let rstd = 1.0 / sqrt(variance + p.eps);
  for (var i = 0u; i < p.dim; i++) {
    u[base + i] = (x[base + i] - mean) * rstd * gamma[i] + beta[i];
  }
  stats[2u * b] = mean;
  stats[2u * b + 1u] = rstd;
}
