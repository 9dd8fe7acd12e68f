// The group sums of the group-rational basis's parameter gradients (basis/rational.wgsl):
// rational_activation.wgsl writes per-input partials partial[row, q, i], one row per chunk of the
// batch's rows (q < 6: numerator coefficient a_q, q >= 6: denominator coefficient b_(q - 6) of
// input i's group); this sums, for each coefficient t of weight_numerator [1, 6] then
// weight_denominator [groups, 4], its partials over the rows and the inputs that share it, in
// chunks of `chunk` (row, input) pairs so that the loop stays within the loop-trip budget
// (src/gpu/loop_trips.ts):
//   out[c, t] = sum over pairs c * chunk .. (c + 1) * chunk - 1 of coefficient t's pairs.
// reduce_rows.wgsl then sums the chunks into the gradient.
struct Params {
  rows: u32,
  in_dim: u32,
  group_size: u32,
  groups: u32,
  chunk: u32,
  chunks: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> partial: array<f32>;    // [rows, 10, in]
@group(0) @binding(2) var<storage, read_write> out: array<f32>;  // [chunks, 6 + 4 groups]

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let coefficients = 6u + 4u * p.groups;
  let e = gid.x + gid.y * nwg.x * 64u;
  if (e >= p.chunks * coefficients) { return; }
  let c = e / coefficients;
  let t = e % coefficients;
  var q = t;
  var first = 0u;
  var members = p.in_dim;
  if (t >= 6u) {
    q = 6u + (t - 6u) % 4u;
    first = ((t - 6u) / 4u) * p.group_size;
    members = p.group_size;
  }
  let end = min(p.rows * members, (c + 1u) * p.chunk);
  var s = 0.0;
  for (var k = c * p.chunk; k < end; k++) {
    s += partial[((k / members) * 10u + q) * p.in_dim + first + k % members];
  }
  out[e] = s;
}
