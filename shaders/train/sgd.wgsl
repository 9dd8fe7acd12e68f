// torch.optim.SGD on up to 8 runs of a parameter block in one dispatch, one
// thread per float (thread e lies in the run its index reaches):
//   g = grad + weight_decay * p
//   buf = g on a parameter's first step, else momentum * buf + (1 - dampening) * g   (when momentum != 0)
//   p -= lr * (nesterov ? g + momentum * buf : buf)
// With FROM_PARTIALS (the fused step), the gradient is first summed from the
// partial gradients of the step's workgroups, in a fixed order, and stored.
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
override FROM_PARTIALS: u32 = 0u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  var k = gid.x + gid.y * nwg.x * WG;
  var r = 0u;
  for (; r < p.runs; r++) {
    if (k < p.run[r].count) { break; }
    k -= p.run[r].count;
  }
  if (r >= p.runs) { return; }
  let i = p.run[r].offset + k;
  var g = 0.0;
  if (FROM_PARTIALS != 0u) {
    for (var w = 0u; w < p.partial_rows; w++) { g += partials[w * p.partial_stride + i]; }
    grad[i] = g;
  } else {
    g = grad[i];
  }
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
