// KAT's group-rational activation on its own, elementwise (basis/rational.wgsl prepended), so that
// RationalKAN runs as `fc(act(x))`: the linear map by the identity-basis (dense) layer kernels, the
// activation and its gradients here.
//   forward:  out[b, i] = phi_i(x[b, i])
//   backward: g = dY W (the dense input gradient of fc), then, for the rows
//             c * chunk_rows .. (c + 1) * chunk_rows - 1 of input i (one invocation each):
//               out[b, i] = g[b, i] * phi_i'(x[b, i])                     (when write_dx)
//               partial[c, q, i] = sum over those rows of g * d phi_i / d param_q  (when write_partials)
//             with q < 6 the numerator coefficient a_q and q >= 6 the coefficient b_(q - 6) of input i's
//             group; rational_group_sum.wgsl then sums them over the chunks and the inputs sharing
//             each coefficient. The one loop runs chunk_rows times, chosen within the loop-trip budget.
override NB: u32 = 1u;
override WG: u32 = 64u;

struct Params {
  rows: u32,
  in_dim: u32,
  chunk_rows: u32,
  chunks: u32,
  write_dx: u32,
  write_partials: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;            // [rows, in]
@group(0) @binding(2) var<storage, read> g: array<f32>;            // [rows, in] (backward)
@group(0) @binding(3) var<storage, read> basis_data: array<f32>;   // weight_numerator, weight_denominator
@group(0) @binding(4) var<storage, read_write> out: array<f32>;    // [rows, in]: phi(x), or dx
@group(0) @binding(5) var<storage, read_write> partial: array<f32>; // [chunks, 10, in]

@compute @workgroup_size(WG)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = gid.x + gid.y * nwg.x * WG;
  if (e >= p.rows * p.in_dim) { return; }
  out[e] = basis_value(e % p.in_dim, 0u, x[e]);
}

@compute @workgroup_size(WG)
fn backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = gid.x + gid.y * nwg.x * WG;
  if (e >= p.chunks * p.in_dim) { return; }
  let i = e % p.in_dim;
  let c = e / p.in_dim;
  let end = min(p.rows, (c + 1u) * p.chunk_rows);
  // sum g x^q / Q (q = 0..5), and sum -g P / Q^2 |x|^(k + 1) (k = 0..3).
  var n01 = vec2f(0.0);
  var n23 = vec2f(0.0);
  var n45 = vec2f(0.0);
  var d = vec4f(0.0);
  for (var b = c * p.chunk_rows; b < end; b++) {
    let k = b * p.in_dim + i;
    let xv = x[k];
    let gv = g[k];
    let r = rational(i, xv);
    if (p.write_dx != 0u) {
      out[k] = gv * (r.dp / r.q - r.dq * r.p / (r.q * r.q));
    }
    let s = gv / r.q;
    let x2 = xv * xv;
    n01 += s * vec2f(1.0, xv);
    n23 += (s * x2) * vec2f(1.0, xv);
    n45 += (s * x2 * x2) * vec2f(1.0, xv);
    let ax = abs(xv);
    let ax2 = ax * ax;
    d += (-s * r.p / r.q) * vec4f(ax, ax2, ax2 * ax, ax2 * ax2);
  }
  if (p.write_partials == 0u) { return; }
  let base = 6u + (i / GROUP_SIZE) * 4u;
  let signs = vec4f(
    sign_of(basis_data[base]),
    sign_of(basis_data[base + 1u]),
    sign_of(basis_data[base + 2u]),
    sign_of(basis_data[base + 3u]),
  );
  d *= signs;
  let row = c * 10u * p.in_dim + i;
  partial[row] = n01.x;
  partial[row + p.in_dim] = n01.y;
  partial[row + 2u * p.in_dim] = n23.x;
  partial[row + 3u * p.in_dim] = n23.y;
  partial[row + 4u * p.in_dim] = n45.x;
  partial[row + 5u * p.in_dim] = n45.y;
  partial[row + 6u * p.in_dim] = d.x;
  partial[row + 7u * p.in_dim] = d.y;
  partial[row + 8u * p.in_dim] = d.z;
  partial[row + 9u * p.in_dim] = d.w;
}
