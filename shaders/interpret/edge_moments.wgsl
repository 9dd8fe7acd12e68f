// Per-edge batch statistics of a B-spline KAN layer (or any layer of the family's basis form) and
// the gradient of a function of them, with the edge activations
//   phi[b, o, i] = base_w[o, i] * base(x[b, i]) + scaler[o, i] * sum_j spline_w[o, i, j] * B_j(x[b, i])
// evaluated on the fly: the [batch, out, in] tensor never exists. The basis file prepended to this
// one provides basis_value, basis_dx and basis_range (reading basis_data).
//
// Entry points (e = o * in + i, E = out * in, cols = E + in columns when `edges`, else in):
//   shifts:     out[c] = phi[0, e] for an edge column, x[0, i] for an input column
//   moments:    out[q, c] = sum_{b in chunk q} (v_b - shift[c]), out[q, cols + c] = its squares
//   grad_edges: out[q, e, 0] = sum_b d_b base(x_b), out[q, e, 1] = sum_b d_b spline(x_b),
//               out[q, e, 2 + j] = sum_b d_b B_j(x_b), with d_b = alpha[e] * (phi[b, e] - mean[e])
//   grad_input: out[q, b, i] = sum_{o in part q} alpha[e] (phi[b, e] - mean[e]) dphi[b, e] / dx
//               (+ beta_i (x[b, i] - mean_x[i]) in part 0) (+ p.beta * out[b, i])
// Each invocation loops over one chunk of rows (or one part of the outputs) so that it stays within
// the loop-trip budget (src/gpu/loop_trips.ts); src/interpret/reg_kernels.ts plans the split and
// sums the parts.
override NB: u32 = 1u;
override BASE: u32 = 2u; // 0: no base branch, 1: identity, 2: SiLU
override WG: u32 = 64u;

struct Params {
  batch: u32,
  in_dim: u32,
  out_dim: u32,
  edges: u32, // 1: edge and input columns; 0: input columns only
  chunk_rows: u32,
  part_base: u32,
  part_count: u32,
  part_o: u32,
  beta: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;          // [B, in]
@group(0) @binding(2) var<storage, read> basis_data: array<f32>; // the grid
@group(0) @binding(3) var<storage, read> base_w: array<f32>;     // [out, in]
@group(0) @binding(4) var<storage, read> spline_w: array<f32>;   // [out, in, NB]
@group(0) @binding(5) var<storage, read> scaler: array<f32>;     // [out, in]
@group(0) @binding(6) var<storage, read> coeffs: array<f32>;     // shifts, or alpha | mean | beta | mean_x
@group(0) @binding(7) var<storage, read_write> out: array<f32>;

fn base_value(v: f32) -> f32 {
  if (BASE == 2u) { return v / (1.0 + exp(-v)); }
  if (BASE == 1u) { return v; }
  return 0.0;
}

fn base_dx(v: f32) -> f32 {
  if (BASE == 2u) {
    let s = 1.0 / (1.0 + exp(-v));
    return s * (1.0 + v * (1.0 - s));
  }
  if (BASE == 1u) { return 1.0; }
  return 0.0;
}

// phi of edge e (input i) at v.
fn phi(e: u32, i: u32, v: f32) -> f32 {
  let r = basis_range(i, v);
  var s = 0.0;
  for (var j = r.x; j < r.y; j++) { s = fma(spline_w[e * NB + j], basis_value(i, j, v), s); }
  return base_w[e] * base_value(v) + scaler[e] * s;
}

fn index(gid: vec3u, nwg: vec3u) -> u32 {
  return gid.x + gid.y * nwg.x * WG;
}

fn columns() -> u32 {
  return p.edges * p.out_dim * p.in_dim + p.in_dim;
}

// The value of column c at row b.
fn column_value(c: u32, b: u32) -> f32 {
  let edges = p.edges * p.out_dim * p.in_dim;
  if (c < edges) {
    let i = c % p.in_dim;
    return phi(c, i, x[b * p.in_dim + i]);
  }
  return x[b * p.in_dim + c - edges];
}

@compute @workgroup_size(WG)
fn shifts(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let c = index(gid, nwg);
  if (c >= columns()) { return; }
  out[c] = column_value(c, 0u);
}

@compute @workgroup_size(WG)
fn moments(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = index(gid, nwg);
  let cols = columns();
  if (t >= p.part_count * cols) { return; }
  let q = t / cols;
  let c = t % cols;
  let first = (p.part_base + q) * p.chunk_rows;
  let last = min(p.batch, first + p.chunk_rows);
  let k = coeffs[c];
  var s1 = 0.0;
  var s2 = 0.0;
  for (var b = first; b < last; b++) {
    let v = column_value(c, b) - k;
    s1 += v;
    s2 = fma(v, v, s2);
  }
  out[q * 2u * cols + c] = s1;
  out[q * 2u * cols + cols + c] = s2;
}

@compute @workgroup_size(WG)
fn grad_edges(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = index(gid, nwg);
  let edges = p.out_dim * p.in_dim;
  if (t >= p.part_count * edges) { return; }
  let q = t / edges;
  let e = t % edges;
  let i = e % p.in_dim;
  let width = NB + 2u;
  let o0 = (q * edges + e) * width;
  for (var m = 0u; m < width; m++) { out[o0 + m] = 0.0; }
  let alpha = coeffs[e];
  let mean = coeffs[edges + e];
  let first = (p.part_base + q) * p.chunk_rows;
  let last = min(p.batch, first + p.chunk_rows);
  var acc_base = 0.0;
  var acc_spline = 0.0;
  for (var b = first; b < last; b++) {
    let v = x[b * p.in_dim + i];
    let r = basis_range(i, v);
    var s = 0.0;
    for (var j = r.x; j < r.y; j++) { s = fma(spline_w[e * NB + j], basis_value(i, j, v), s); }
    let base = base_value(v);
    let d = alpha * (base_w[e] * base + scaler[e] * s - mean);
    acc_base = fma(d, base, acc_base);
    acc_spline = fma(d, s, acc_spline);
    for (var j = r.x; j < r.y; j++) { out[o0 + 2u + j] = fma(d, basis_value(i, j, v), out[o0 + 2u + j]); }
  }
  out[o0] = acc_base;
  out[o0 + 1u] = acc_spline;
}

@compute @workgroup_size(WG)
fn grad_input(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = index(gid, nwg);
  let size = p.batch * p.in_dim;
  if (t >= p.part_count * size) { return; }
  let q = t / size;
  let at = t % size;
  let i = at % p.in_dim;
  let edges = p.out_dim * p.in_dim;
  let v = x[at];
  let r = basis_range(i, v);
  let base = base_value(v);
  let dbase = base_dx(v);
  let o_first = (p.part_base + q) * p.part_o;
  let o_last = min(p.out_dim, o_first + p.part_o);
  var acc = 0.0;
  for (var o = o_first; o < o_last; o++) {
    let e = o * p.in_dim + i;
    var s = 0.0;
    var ds = 0.0;
    for (var j = r.x; j < r.y; j++) {
      let w = spline_w[e * NB + j];
      s = fma(w, basis_value(i, j, v), s);
      ds = fma(w, basis_dx(i, j, v), ds);
    }
    let f = base_w[e] * base + scaler[e] * s;
    let df = base_w[e] * dbase + scaler[e] * ds;
    acc = fma(coeffs[e] * (f - coeffs[edges + e]), df, acc);
  }
  if (p.part_base + q == 0u) { acc = fma(coeffs[2u * edges + i], v - coeffs[2u * edges + p.in_dim + i], acc); }
  if (p.beta != 0.0) { acc += p.beta * out[q * size + at]; }
  out[q * size + at] = acc;
}
