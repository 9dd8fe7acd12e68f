// out[c] = beta * out[c] + sum_r a[r, c] for a [rows, cols] (bias gradients,
// and the per-tile partial sums of basis-parameter gradients). One thread per
// column sums in a fixed order, so results are deterministic.
struct Params {
  rows: u32,
  cols: u32,
  beta: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let c = gid.x + gid.y * nwg.x * WG;
  if (c >= p.cols) { return; }
  var s = 0.0;
  for (var r = 0u; r < p.rows; r++) { s += a[r * p.cols + c]; }
  if (p.beta != 0.0) { s += p.beta * out[c]; }
  out[c] = s;
}
