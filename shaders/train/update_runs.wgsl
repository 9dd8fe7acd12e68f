// What the optimizer kernels (adam.wgsl, sgd.wgsl, which declare p, grad and
// partials) share: where a thread's float lies among the dispatch's runs, and
// its gradient, summed first (in a fixed order, then stored) from the fused
// step's partial gradients when FROM_PARTIALS.
override FROM_PARTIALS: u32 = 0u;

// x: the run of float `thread` of this dispatch (p.runs when past them); y: its index in the block.
fn locate(thread: u32) -> vec2u {
  var k = thread;
  var r = 0u;
  for (; r < p.runs; r++) {
    if (k < p.run[r].count) { break; }
    k -= p.run[r].count;
  }
  if (r >= p.runs) { return vec2u(r, 0u); }
  return vec2u(r, p.run[r].offset + k);
}

fn gradient(i: u32) -> f32 {
  if (FROM_PARTIALS == 0u) { return grad[i]; }
  var g = 0.0;
  for (var w = 0u; w < p.partial_rows; w++) { g += partials[w * p.partial_stride + i]; }
  grad[i] = g;
  return g;
}
