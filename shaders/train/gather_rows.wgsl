// dst[r, :] = src[index[start + r], :] for r < rows: a shuffled minibatch.
struct Params {
  rows: u32,
  cols: u32,
  start: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read> index: array<u32>;
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = gid.x + gid.y * nwg.x * WG;
  if (e >= p.rows * p.cols) { return; }
  let r = e / p.cols;
  let c = e % p.cols;
  dst[e] = src[index[p.start + r] * p.cols + c];
}
