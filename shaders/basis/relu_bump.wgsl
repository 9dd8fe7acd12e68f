// ReLU-KAN bases (ReLU(e - x) * ReLU(x - s) * R)^2 with trainable phases.
// basis_data holds phase_low s [in, NB] then phase_height e [in, NB];
// R = 4 g^2 / (k + 1)^2 is fixed, as in the reference.
override R: f32 = 1.0;
const BASIS_PARAMS: u32 = 2u;

struct Bump {
  a: f32, // ReLU(x - s)
  c: f32, // ReLU(e - x)
  q: f32, // a * c * R
}

fn bump(i: u32, j: u32, x: f32) -> Bump {
  let s = basis_data[i * NB + j];
  let e = basis_data[(p.in_dim + i) * NB + j];
  let a = max(x - s, 0.0);
  let c = max(e - x, 0.0);
  return Bump(a, c, a * c * R);
}

fn basis_value(i: u32, j: u32, x: f32) -> f32 {
  let b = bump(i, j, x);
  return b.q * b.q;
}

fn basis_dx(i: u32, j: u32, x: f32) -> f32 {
  let b = bump(i, j, x);
  let da = select(0.0, 1.0, b.a > 0.0);
  let dc = select(0.0, 1.0, b.c > 0.0);
  return 2.0 * b.q * R * (da * b.c - b.a * dc);
}

// q = 0: d/d phase_low; q = 1: d/d phase_height.
fn basis_dparam(i: u32, j: u32, x: f32, q: u32) -> f32 {
  let b = bump(i, j, x);
  if (q == 0u) {
    return -2.0 * b.q * R * select(0.0, 1.0, b.a > 0.0) * b.c;
  }
  return 2.0 * b.q * R * b.a * select(0.0, 1.0, b.c > 0.0);
}

// Every function may be non-zero anywhere: the kernels visit all NB.
fn basis_range(i: u32, x: f32) -> vec2u {
  return vec2u(0u, NB);
}
