// torch.optim.SGD on up to 8 runs of a parameter block in one dispatch, one
// thread per float (thread e lies in the run its index reaches):
//   g = grad + weight_decay * p
//   buf = g on a parameter's first step, else momentum * buf + (1 - dampening) * g   (when momentum != 0)
//   p -= lr * (nesterov ? g + momentum * buf : buf)
// update_runs.wgsl (appended) finds the run and the gradient (summed from the
// fused step's partial gradients with FROM_PARTIALS).
struct Run {
  offset: u32,
  count: u32,
  first: u32, // 1 on the first step of the run's parameters
  pad: u32,
}

struct Params {
  runs: u32,
  nesterov: u32,
  lr: f32,
  momentum: f32,
  dampening: f32,
  weight_decay: f32,
  partial_rows: u32,   // FROM_PARTIALS: rows of partials, each partial_stride floats
  partial_stride: u32,
  run: array<Run, 8>,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> param: array<f32>;
@group(0) @binding(3) var<storage, read_write> buf: array<f32>;
@group(0) @binding(4) var<storage, read> partials: array<f32>;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let at = locate(gid.x + gid.y * nwg.x * WG);
  if (at.x >= p.runs) { return; }
  let r = at.x;
  let i = at.y;
  var g = gradient(i);
  if (p.weight_decay != 0.0) { g = fma(p.weight_decay, param[i], g); }
  var d = g;
  if (p.momentum != 0.0) {
    var b = g;
    if (p.run[r].first == 0u) { b = fma(p.momentum, buf[i], (1.0 - p.dampening) * g); }
    buf[i] = b;
    d = select(b, fma(p.momentum, b, g), p.nesterov != 0u);
  }
  param[i] = param[i] - p.lr * d;
}
