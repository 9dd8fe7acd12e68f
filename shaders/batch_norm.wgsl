// BatchNorm1d over the rows of z [rows, F] (torch.nn.BatchNorm1d: eps, momentum, affine, running
// statistics), one entry point per step; src/layers/batch_norm.ts records them in order.
// state holds, from bn_base: weight [F], bias [F], running_mean [F], running_var [F],
// num_batches_tracked [1] (the layer's parameters). stats [4F]: mean, 1/std, then the backward's sums
// of dy * zhat and of dy. Sums over rows go per chunk of `chunk` rows (so that no invocation loops past
// the loop-trip budget) into partial rows that reduce_rows.wgsl sums.
struct Params {
  rows: u32,
  features: u32,
  chunk: u32,
  bn_base: u32,
  eps: f32,
  momentum: f32,
  flag: u32, // finalize_train: update the running statistics; grad_input: batch statistics; grad_params: mask
  pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> c: array<f32>;
@group(0) @binding(4) var<storage, read_write> state: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;

fn index(gid: vec3u, nwg: vec3u) -> u32 {
  return gid.x + gid.y * nwg.x * 64u;
}

// out[k, f] = sum of z[r, f] over chunk k (a = z).
@compute @workgroup_size(64)
fn sum_partial(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = index(gid, nwg);
  let chunks = (p.rows + p.chunk - 1u) / p.chunk;
  if (e >= chunks * p.features) { return; }
  let k = e / p.features;
  let f = e % p.features;
  var s = 0.0;
  for (var r = k * p.chunk; r < min(p.rows, (k + 1u) * p.chunk); r++) { s += a[r * p.features + f]; }
  out[e] = s;
}

// out[k, f] = sum of (z[r, f] - mean_f)^2 over chunk k (a = z, b = the column sums).
@compute @workgroup_size(64)
fn sq_partial(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = index(gid, nwg);
  let chunks = (p.rows + p.chunk - 1u) / p.chunk;
  if (e >= chunks * p.features) { return; }
  let k = e / p.features;
  let f = e % p.features;
  let mean = b[f] / f32(p.rows);
  var s = 0.0;
  for (var r = k * p.chunk; r < min(p.rows, (k + 1u) * p.chunk); r++) {
    let d = a[r * p.features + f] - mean;
    s = fma(d, d, s);
  }
  out[e] = s;
}

// Batch statistics (a = column sums, b = sums of squared deviations) into out = stats; with flag,
// running_mean and running_var (unbiased) move by momentum and num_batches_tracked counts one more.
@compute @workgroup_size(64)
fn finalize_train(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let f = index(gid, nwg);
  if (f >= p.features) { return; }
  let n = f32(p.rows);
  let mean = a[f] / n;
  out[f] = mean;
  out[p.features + f] = 1.0 / sqrt(b[f] / n + p.eps);
  if (p.flag != 0u) {
    let rm = p.bn_base + 2u * p.features + f;
    let rv = p.bn_base + 3u * p.features + f;
    state[rm] = (1.0 - p.momentum) * state[rm] + p.momentum * mean;
    state[rv] = (1.0 - p.momentum) * state[rv] + p.momentum * (b[f] / (n - 1.0));
    if (f == 0u) { state[p.bn_base + 4u * p.features] += 1.0; }
  }
}

// The running statistics into out = stats.
@compute @workgroup_size(64)
fn finalize_eval(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let f = index(gid, nwg);
  if (f >= p.features) { return; }
  out[f] = state[p.bn_base + 2u * p.features + f];
  out[p.features + f] = 1.0 / sqrt(state[p.bn_base + 3u * p.features + f] + p.eps);
}

// out = y = weight * (z - mean) / std + bias (a = z, c = stats).
@compute @workgroup_size(64)
fn normalize(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = index(gid, nwg);
  if (e >= p.rows * p.features) { return; }
  let f = e % p.features;
  let zhat = (a[e] - c[f]) * c[p.features + f];
  out[e] = fma(state[p.bn_base + f], zhat, state[p.bn_base + p.features + f]);
}

// out[k, f] = sum of dy * zhat and out[k, F + f] = sum of dy over chunk k (a = z, b = dy, c = stats).
@compute @workgroup_size(64)
fn grad_partial(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = index(gid, nwg);
  let chunks = (p.rows + p.chunk - 1u) / p.chunk;
  if (e >= chunks * p.features) { return; }
  let k = e / p.features;
  let f = e % p.features;
  var sz = 0.0;
  var sd = 0.0;
  for (var r = k * p.chunk; r < min(p.rows, (k + 1u) * p.chunk); r++) {
    let g = b[r * p.features + f];
    sz = fma(g, (a[r * p.features + f] - c[f]) * c[p.features + f], sz);
    sd += g;
  }
  out[k * 2u * p.features + f] = sz;
  out[k * 2u * p.features + p.features + f] = sd;
}

// out = dz (a = z, b = dy, c = stats with the sums): with batch statistics (flag)
// weight / std * (dy - mean(dy) - zhat * mean(dy * zhat)), else weight / std * dy.
@compute @workgroup_size(64)
fn grad_input(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = index(gid, nwg);
  if (e >= p.rows * p.features) { return; }
  let f = e % p.features;
  let scale = state[p.bn_base + f] * c[p.features + f];
  var g = b[e];
  if (p.flag != 0u) {
    let n = f32(p.rows);
    let zhat = (a[e] - c[f]) * c[p.features + f];
    g = g - c[3u * p.features + f] / n - zhat * c[2u * p.features + f] / n;
  }
  out[e] = scale * g;
}

// out (the parameters' gradients, same layout as state) += the sums in c = stats: weight's when bit 0
// of flag is set, bias's when bit 1 is.
@compute @workgroup_size(64)
fn grad_params(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let f = index(gid, nwg);
  if (f >= p.features) { return; }
  if ((p.flag & 1u) != 0u) { out[p.bn_base + f] += c[2u * p.features + f]; }
  if ((p.flag & 2u) != 0u) { out[p.bn_base + p.features + f] += c[3u * p.features + f]; }
}
