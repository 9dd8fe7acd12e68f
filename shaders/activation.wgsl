// Elementwise activations of Linear layers: ACT 0 = SiLU, 1 = ReLU, 2 = tanh.
//   forward:  out[i] = act(z[i])
//   backward: out[i] = dy[i] * act'(z[i])
override ACT: u32 = 0u;

struct Params {
  n: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> z: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

override WG: u32 = 256u;

fn act(v: f32) -> f32 {
  switch ACT {
    case 0u: { return v / (1.0 + exp(-v)); }
    case 1u: { return max(v, 0.0); }
    default: { return tanh(clamp(v, -15.0, 15.0)); }
  }
}

fn act_grad(v: f32) -> f32 {
  switch ACT {
    case 0u: {
      let s = 1.0 / (1.0 + exp(-v));
      return s * (1.0 + v * (1.0 - s));
    }
    case 1u: { return select(0.0, 1.0, v > 0.0); }
    default: {
      let t = tanh(clamp(v, -15.0, 15.0));
      return 1.0 - t * t;
    }
  }
}

@compute @workgroup_size(WG)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i < p.n) { out[i] = act(z[i]); }
}

@compute @workgroup_size(WG)
fn backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i < p.n) { out[i] = dy[i] * act_grad(z[i]); }
}
