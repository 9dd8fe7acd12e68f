// Column sums of a [rows, cols], a chunk of rows per invocation so that its
// loop stays within the loop-trip budget (src/gpu/loop_trips.ts):
//   out[q, c] = sum_{r in chunk q} a[r, c]  (+ bias[c % bias_period]) (+ beta * out[q, c])
// With more rows than one chunk, the host runs it again on the chunk sums until
// one chunk is left, and adds the bias and beta only on that last level. One
// thread per (chunk, column) sums in a fixed order, so results are
// deterministic. Used for bias gradients, the partial sums of split-K kernels
// and of the basis-parameter gradients.
struct Params {
  rows: u32,
  cols: u32,
  chunk_rows: u32,
  beta: f32,
  bias_period: u32, // 0: no bias
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = gid.x + gid.y * nwg.x * WG;
  let chunks = (p.rows + p.chunk_rows - 1u) / p.chunk_rows;
  if (e >= chunks * p.cols) { return; }
  let q = e / p.cols;
  let c = e % p.cols;
  var s = 0.0;
  for (var r = q * p.chunk_rows; r < min(p.rows, (q + 1u) * p.chunk_rows); r++) { s += a[r * p.cols + c]; }
  if (p.bias_period != 0u) { s += bias[c % p.bias_period]; }
  if (p.beta != 0.0) { s += p.beta * out[e]; }
  out[e] = s;
}
