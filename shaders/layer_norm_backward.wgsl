// Backward of layer_norm_forward.wgsl, with xhat = (x - mean) * rstd:
//   input:  dx[b, i] = beta_acc * dx + rstd * (g - mean_i(g) - xhat * mean_i(g * xhat)),  g = du * gamma
//   params: dgamma[i] += sum_b du * xhat;  dbeta[i] += sum_b du
// Both sum in a fixed order (one thread per row, or per feature).
struct Params {
  rows: u32,
  dim: u32,
  beta_acc: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> du: array<f32>;
@group(0) @binding(4) var<storage, read> stats: array<f32>;
@group(0) @binding(5) var<storage, read_write> dx: array<f32>;
@group(0) @binding(6) var<storage, read_write> dgamma: array<f32>;
@group(0) @binding(7) var<storage, read_write> dbeta: array<f32>;

override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn input(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let b = gid.x + gid.y * nwg.x * WG;
  if (b >= p.rows) { return; }
  let base = b * p.dim;
  let mean = stats[2u * b];
  let rstd = stats[2u * b + 1u];
  var m1 = 0.0;
  var m2 = 0.0;
  for (var i = 0u; i < p.dim; i++) {
    let g = du[base + i] * gamma[i];
    m1 += g;
    m2 = fma(g, (x[base + i] - mean) * rstd, m2);
  }
  m1 /= f32(p.dim);
  m2 /= f32(p.dim);
  for (var i = 0u; i < p.dim; i++) {
    let xhat = (x[base + i] - mean) * rstd;
    var v = rstd * (du[base + i] * gamma[i] - m1 - xhat * m2);
    if (p.beta_acc != 0.0) { v += p.beta_acc * dx[base + i]; }
    dx[base + i] = v;
  }
}

@compute @workgroup_size(WG)
fn params(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.dim) { return; }
  var sg = 0.0;
  var sb = 0.0;
  for (var b = 0u; b < p.rows; b++) {
    let d = du[b * p.dim + i];
    sg = fma(d, (x[b * p.dim + i] - stats[2u * b]) * stats[2u * b + 1u], sg);
    sb += d;
  }
  dgamma[i] += sg;
  dbeta[i] += sb;
}
