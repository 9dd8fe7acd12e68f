// KAT's group-rational function (rational_kat_cu, the math of its CUDA and Triton kernels), one
// function per input (NB = 1):
//   phi(x) = P(x) / Q(x),  P(x) = a0 + a1 x + ... + a5 x^5,  Q(x) = 1 + |b0| |x| + ... + |b3| |x|^4
// with the numerator a shared by every input and the denominator b of input i's group.
// basis_data holds weight_numerator [1, 6] then weight_denominator [groups, 4]; input i is in group
// i / GROUP_SIZE. d|x|/dx at x = 0 and d|b|/db at b = 0 are +1, as the original's kernels take them.
// The parameter derivatives are per input: "parameter" q < 6 is a_q, q >= 6 is b_(q - 6) of the
// input's group; the layer sums them over the inputs that share each coefficient.
override GROUP_SIZE: u32 = 1u;
const BASIS_PARAMS: u32 = 10u;

struct Rational {
  p: f32,  // P(x)
  q: f32,  // Q(x)
  dp: f32, // P'(x)
  dq: f32, // Q'(x)
}

fn sign_of(v: f32) -> f32 {
  return select(1.0, -1.0, v < 0.0);
}

fn rational(i: u32, x: f32) -> Rational {
  let d = 6u + (i / GROUP_SIZE) * 4u;
  let ax = abs(x);
  let b0 = abs(basis_data[d]);
  let b1 = abs(basis_data[d + 1u]);
  let b2 = abs(basis_data[d + 2u]);
  let b3 = abs(basis_data[d + 3u]);
  var pv = basis_data[5];
  pv = fma(pv, x, basis_data[4]);
  pv = fma(pv, x, basis_data[3]);
  pv = fma(pv, x, basis_data[2]);
  pv = fma(pv, x, basis_data[1]);
  pv = fma(pv, x, basis_data[0]);
  var qv = b3;
  qv = fma(qv, ax, b2);
  qv = fma(qv, ax, b1);
  qv = fma(qv, ax, b0);
  qv = fma(qv, ax, 1.0);
  var dp = 5.0 * basis_data[5];
  dp = fma(dp, x, 4.0 * basis_data[4]);
  dp = fma(dp, x, 3.0 * basis_data[3]);
  dp = fma(dp, x, 2.0 * basis_data[2]);
  dp = fma(dp, x, basis_data[1]);
  var dq = 4.0 * b3;
  dq = fma(dq, ax, 3.0 * b2);
  dq = fma(dq, ax, 2.0 * b1);
  dq = fma(dq, ax, b0);
  return Rational(pv, qv, dp, sign_of(x) * dq);
}

fn basis_value(i: u32, j: u32, x: f32) -> f32 {
  let r = rational(i, x);
  return r.p / r.q;
}

fn basis_dx(i: u32, j: u32, x: f32) -> f32 {
  let r = rational(i, x);
  return r.dp / r.q - r.dq * r.p / (r.q * r.q);
}

// q < 6: d/d a_q = x^q / Q; q >= 6: d/d b_k = -P / Q^2 * sign(b_k) * |x|^(k + 1), k = q - 6.
fn basis_dparam(i: u32, j: u32, x: f32, q: u32) -> f32 {
  let r = rational(i, x);
  let x2 = x * x;
  if (q < 6u) {
    var powers = array<f32, 6>(1.0, x, x2, x2 * x, x2 * x2, x2 * x2 * x);
    return powers[q] / r.q;
  }
  let ax = abs(x);
  let ax2 = ax * ax;
  var absolute = array<f32, 4>(ax, ax2, ax2 * ax, ax2 * ax2);
  let b = basis_data[6u + (i / GROUP_SIZE) * 4u + q - 6u];
  return -r.p / (r.q * r.q) * sign_of(b) * absolute[q - 6u];
}

// One function per input, non-zero anywhere.
fn basis_range(i: u32, x: f32) -> vec2u {
  return vec2u(0u, NB);
}
