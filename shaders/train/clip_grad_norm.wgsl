// torch.nn.utils.clip_grad_norm_ over runs of gradient buffers, in two kernels
// with a sum between them (src/train/clip_grad_norm.ts records them):
//   sum_squares: out[out_at + q] = sum of grad[offset + i]^2 over the q-th chunk of
//                `chunk` floats of a run (one invocation per chunk, so that its loop
//                stays within the loop-trip budget, src/gpu/loop_trips.ts);
//   (the host sums every run's chunk sums into one float, the squared norm)
//   scale:       grad[offset + i] *= min(1, max_norm / (sqrt(out[0]) + 1e-6)),
//                torch 1.13's clip_coef clamped to 1, with out the squared norm.
// Both read the norm on the GPU: nothing waits for the CPU.
struct Params {
  offset: u32,    // the run's first float in the gradient buffer
  count: u32,     // floats of the run
  chunk: u32,     // sum_squares: floats per invocation
  out_at: u32,    // sum_squares: where the run's chunk sums start in out
  max_norm: f32,  // scale
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn sum_squares(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let q = gid.x + gid.y * nwg.x * WG;
  if (q >= (p.count + p.chunk - 1u) / p.chunk) { return; }
  var s = 0.0;
  for (var i = q * p.chunk; i < min(p.count, (q + 1u) * p.chunk); i++) {
    let g = grad[p.offset + i];
    s += g * g;
  }
  out[p.out_at + q] = s;
}

@compute @workgroup_size(WG)
fn scale(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.count) { return; }
  let coef = min(1.0, p.max_norm / (sqrt(out[0]) + 1e-6));
  grad[p.offset + i] *= coef;
}
