// torch.optim.Adam / AdamW on up to 8 runs of a parameter block in one
// dispatch, one thread per float (thread e lies in the run its index reaches):
//   AdamW: p *= 1 - lr * weight_decay          Adam: g = grad + weight_decay * p
//   m = m + (g - m) * (1 - beta1);  v = beta2 * v + (1 - beta2) * g^2
//   p -= (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps),  bc_i = 1 - beta_i^step
// Each run carries its own step's corrections (torch counts steps per parameter).
// update_runs.wgsl (appended) finds the run and the gradient (summed from the
// fused step's partial gradients with FROM_PARTIALS).
struct Run {
  offset: u32,
  count: u32,
  step_size: f32, // lr / bc1
  bc2_sqrt: f32,  // sqrt(bc2)
}

struct Params {
  runs: u32,
  decoupled: u32,
  lr: f32,
  beta1: f32,
  beta2: f32,
  eps: f32,
  weight_decay: f32,
  one_minus_beta1: f32, // 1 - beta1 and 1 - beta2, rounded from float64 (as torch's float32 Adam sees them)
  one_minus_beta2: f32,
  partial_rows: u32,   // FROM_PARTIALS: rows of partials, each partial_stride floats
  partial_stride: u32,
  pad: u32,
  run: array<Run, 8>,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> param: array<f32>;
@group(0) @binding(3) var<storage, read_write> m: array<f32>;
@group(0) @binding(4) var<storage, read_write> v: array<f32>;
@group(0) @binding(5) var<storage, read> partials: array<f32>;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let at = locate(gid.x + gid.y * nwg.x * WG);
  if (at.x >= p.runs) { return; }
  let r = at.x;
  let i = at.y;
  var x = param[i];
  var g = gradient(i);
  if (p.weight_decay != 0.0) {
    if (p.decoupled != 0u) {
      x = x * (1.0 - p.lr * p.weight_decay);
    } else {
      g = fma(p.weight_decay, x, g);
    }
  }
  let mi = m[i] + (g - m[i]) * p.one_minus_beta1;
  let vi = fma(p.beta2, v[i], p.one_minus_beta2 * g * g);
  m[i] = mi;
  v[i] = vi;
  param[i] = x - p.run[r].step_size * mi / (sqrt(vi) / p.run[r].bc2_sqrt + p.eps);
}
