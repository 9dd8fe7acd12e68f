// efficient-kan's standalone spline scaler: w_eff[o, i, j] = w[o, i, j] * s[o, i].
//   forward:         out_w[o, k] = w[o, k] * s[o, k / NB]
//   backward_weight: out_w[o, k] += g[o, k] * s[o, k / NB]            (g = dL/dw_eff)
//   backward_scaler: out_s[o, i] += sum_j g[o, i * NB + j] * w[o, i * NB + j]
struct Params {
  rows: u32, // out * in
  nb: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> s: array<f32>;
@group(0) @binding(3) var<storage, read> g: array<f32>;
@group(0) @binding(4) var<storage, read_write> out_w: array<f32>;
@group(0) @binding(5) var<storage, read_write> out_s: array<f32>;

override WG: u32 = 256u;

fn index(gid: vec3u, nwg: vec3u) -> u32 {
  return gid.x + gid.y * nwg.x * WG;
}

@compute @workgroup_size(WG)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let k = index(gid, nwg);
  if (k < p.rows * p.nb) { out_w[k] = w[k] * s[k / p.nb]; }
}

@compute @workgroup_size(WG)
fn backward_weight(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let k = index(gid, nwg);
  if (k < p.rows * p.nb) { out_w[k] += g[k] * s[k / p.nb]; }
}

@compute @workgroup_size(WG)
fn backward_scaler(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = index(gid, nwg);
  if (r >= p.rows) { return; }
  var acc = 0.0;
  for (var j = 0u; j < p.nb; j++) { acc = fma(g[r * p.nb + j], w[r * p.nb + j], acc); }
  out_s[r] += acc;
}
