// torch.optim.SGD on params[offset .. offset + n) of a parameter block:
//   g = grad + weight_decay * p
//   buf = g on the first step, else momentum * buf + (1 - dampening) * g   (when momentum != 0)
//   p -= lr * (nesterov ? g + momentum * buf : buf)
struct Params {
  offset: u32,
  n: u32,
  first: u32,
  nesterov: u32,
  lr: f32,
  momentum: f32,
  dampening: f32,
  weight_decay: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> param: array<f32>;
@group(0) @binding(3) var<storage, read_write> buf: array<f32>;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let k = gid.x + gid.y * nwg.x * WG;
  if (k >= p.n) { return; }
  let i = p.offset + k;
  var g = grad[i];
  if (p.weight_decay != 0.0) { g = fma(p.weight_decay, param[i], g); }
  var d = g;
  if (p.momentum != 0.0) {
    var b = g;
    if (p.first == 0u) { b = fma(p.momentum, buf[i], (1.0 - p.dampening) * g); }
    buf[i] = b;
    d = select(b, fma(p.momentum, b, g), p.nesterov != 0u);
  }
  param[i] = param[i] - p.lr * d;
}
