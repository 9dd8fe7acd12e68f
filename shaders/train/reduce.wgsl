// out[slot] = sum of a[0 .. n) in a fixed order: one workgroup, each thread
// sums a strided slice, then a tree over the workgroup. Deterministic. The
// host keeps n within 256 times the loop-trip budget (src/gpu/loop_trips.ts),
// summing chunks first when it is longer.
struct Params {
  n: u32,
  slot: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

const WG: u32 = 256u;
var<workgroup> partial: array<f32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) li: u32) {
  var s = 0.0;
  for (var i = li; i < p.n; i += WG) { s += a[i]; }
  partial[li] = s;
  workgroupBarrier();
  for (var width = WG / 2u; width > 0u; width /= 2u) {
    if (li < width) { partial[li] += partial[li + width]; }
    workgroupBarrier();
  }
  if (li == 0u) { out[p.slot] = partial[0]; }
}
