// pykan's sparsity regularization of one layer from its batch statistics (MultKAN.reg with
// reg_metric 'edge_forward_spline_n', at ecde4ec), elementwise steps between column sums
// (reduce_rows.wgsl); src/interpret/regularization.ts records them in order:
//   finalize_moments: stats = [mean (cols) | std (cols)] from shifted sums (torch.std: unbiased)
//   edge_vec:      vec[o, i] = std_phi[o, i] / (std_x[i] + 0.1), also as vec_t[i, o]
//   entropy:    the value terms of vec and p_row = vec / (R_o + 1), p_col = vec / (C_i + 1), and
//               h'(p) p for the row (u_t[i, o]) and column (w[o, i]) sums of the gradient
//   coef_value: the coefficient terms (pykan's coef [in, out, nb] is spline_w [out, in, nb]: its
//               mean over dim 1 is a mean over the outputs)
//   edge_coeffs: alpha[e] = dL/dstd_phi / ((n - 1) std_phi), mean, and z = dL/dstd_phi * vec
//   input_coeffs: beta_i = -sum_o z / ((n - 1) std_x), mean_x
//   apply_*:    adds the gradients into base_w, scaler and spline_w grads
// Everything is multiplied by lamb: L = lamb * reg.
override WG: u32 = 64u;

struct Params {
  in_dim: u32,
  out_dim: u32,
  nb: u32,
  n: u32,   // batch rows; finalize_moments: columns in `count`
  count: u32,
  lamb: f32,
  l1: f32,
  entropy: f32,
  coef: f32,
  coefdiff: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> c: array<f32>;
@group(0) @binding(4) var<storage, read> d: array<f32>;
@group(0) @binding(5) var<storage, read> f: array<f32>;
@group(0) @binding(6) var<storage, read_write> u: array<f32>;
@group(0) @binding(7) var<storage, read_write> v: array<f32>;
@group(0) @binding(8) var<storage, read_write> w: array<f32>;

const LN2: f32 = 0.6931471805599453;

fn index(gid: vec3u, nwg: vec3u) -> u32 {
  return gid.x + gid.y * nwg.x * WG;
}

fn h(q: f32) -> f32 {
  return q * log2(q + 1e-4);
}

fn dh(q: f32) -> f32 {
  return log2(q + 1e-4) + q / ((q + 1e-4) * LN2);
}

fn edges() -> u32 {
  return p.out_dim * p.in_dim;
}

// stats (a) of the edge and input columns: [mean (E + in) | std (E + in)].
fn vec_of(e: u32) -> f32 {
  let cols = edges() + p.in_dim;
  return a[cols + e] / (a[cols + edges() + e % p.in_dim] + 0.1);
}

// a: sums [2 count], b: shifts [count] -> u: [mean | std].
@compute @workgroup_size(WG)
fn finalize_moments(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let col = index(gid, nwg);
  if (col >= p.count) { return; }
  let n = f32(p.n);
  let s1 = a[col];
  let s2 = a[p.count + col];
  u[col] = b[col] + s1 / n;
  u[p.count + col] = sqrt(max(s2 - s1 * s1 / n, 0.0) / (n - 1.0));
}

// a: stats -> u: vec [out, in], v: vec_t [in, out].
@compute @workgroup_size(WG)
fn edge_vec(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = index(gid, nwg);
  if (e >= edges()) { return; }
  let value = vec_of(e);
  u[e] = value;
  v[(e % p.in_dim) * p.out_dim + e / p.in_dim] = value;
}

// a: stats, b: R [out], c: C [in] -> u: value terms [E + E nb], v: u_t [in, out], w: [out, in].
@compute @workgroup_size(WG)
fn entropy(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = index(gid, nwg);
  if (e >= edges()) { return; }
  let o = e / p.in_dim;
  let i = e % p.in_dim;
  let value = vec_of(e);
  let row = value / (b[o] + 1.0);
  let col = value / (c[i] + 1.0);
  u[e] = p.lamb * (p.l1 * value - p.entropy * (h(row) / f32(p.out_dim) + h(col) / f32(p.in_dim)));
  v[i * p.out_dim + o] = dh(row) * row;
  w[e] = dh(col) * col;
}

// a: spline_w [E, nb] -> u[E + t]: the coefficient terms of element t.
@compute @workgroup_size(WG)
fn coef_value(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = index(gid, nwg);
  if (t >= edges() * p.nb) { return; }
  let j = t % p.nb;
  var s = p.coef * abs(a[t]);
  if (j + 1u < p.nb) { s += p.coefdiff * abs(a[t + 1u] - a[t]); }
  u[edges() + t] = p.lamb * s / f32(p.out_dim);
}

// a: stats, b: R, c: C, d: Q_row [out], f: Q_col [in] -> u: coeffs (alpha [E], mean [E]), v: z [E].
@compute @workgroup_size(WG)
fn edge_coeffs(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = index(gid, nwg);
  if (e >= edges()) { return; }
  let o = e / p.in_dim;
  let i = e % p.in_dim;
  let cols = edges() + p.in_dim;
  let value = vec_of(e);
  let row = value / (b[o] + 1.0);
  let col = value / (c[i] + 1.0);
  let g = p.l1 - p.entropy * ((dh(row) - d[o]) / ((b[o] + 1.0) * f32(p.out_dim)) +
    (dh(col) - f[i]) / ((c[i] + 1.0) * f32(p.in_dim)));
  let grad_std = p.lamb * g / (a[cols + edges() + i] + 0.1);
  let sd = a[cols + e];
  u[e] = select(0.0, grad_std / ((f32(p.n) - 1.0) * sd), sd > 0.0);
  u[edges() + e] = a[e];
  v[e] = grad_std * value;
}

// a: stats, b: sum_o z [in] -> u[2E + i] = beta_i, u[2E + in + i] = mean_x.
@compute @workgroup_size(WG)
fn input_coeffs(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = index(gid, nwg);
  if (i >= p.in_dim) { return; }
  let cols = edges() + p.in_dim;
  let sd = a[cols + edges() + i];
  u[2u * edges() + i] = select(0.0, -b[i] / ((f32(p.n) - 1.0) * sd), sd > 0.0);
  u[2u * edges() + p.in_dim + i] = a[edges() + i];
}

// a: the edge sums [E, nb + 2] -> u[e] += a[e, 0] (base_w's gradient).
@compute @workgroup_size(WG)
fn apply_base(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = index(gid, nwg);
  if (e >= edges()) { return; }
  u[e] += a[e * (p.nb + 2u)];
}

// a: the edge sums -> u[e] += a[e, 1] (the scaler's gradient).
@compute @workgroup_size(WG)
fn apply_scaler(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = index(gid, nwg);
  if (e >= edges()) { return; }
  u[e] += a[e * (p.nb + 2u) + 1u];
}

fn sgn(q: f32) -> f32 {
  return select(select(0.0, -1.0, q < 0.0), 1.0, q > 0.0);
}

// a: the edge sums, b: scaler [E], c: spline_w [E, nb] -> u[t] += spline_w's gradient.
@compute @workgroup_size(WG)
fn apply_weight(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = index(gid, nwg);
  if (t >= edges() * p.nb) { return; }
  let e = t / p.nb;
  let j = t % p.nb;
  var coef = p.coef * sgn(c[t]);
  if (j > 0u) { coef += p.coefdiff * sgn(c[t] - c[t - 1u]); }
  if (j + 1u < p.nb) { coef -= p.coefdiff * sgn(c[t + 1u] - c[t]); }
  u[t] += b[e] * a[e * (p.nb + 2u) + 2u + j] + p.lamb * coef / f32(p.out_dim);
}
