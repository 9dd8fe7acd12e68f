// Jacobi polynomials of tanh x (JacobiKAN): phi_j(x) = P_j^(a,b)(tanh x) by JacobiKAN's
// three-term recurrence, with dP/dt carried through the same recurrence; d/dx = dP/dt * (1 - t^2).
// No basis_data.
override JACOBI_A: f32 = 1.0;
override JACOBI_B: f32 = 1.0;
const BASIS_PARAMS: u32 = 0u;

struct Jacobi {
  p: f32, // P_j(t)
  dp: f32, // dP_j/dt
}

fn jacobi_poly(j: u32, t: f32) -> Jacobi {
  if (j == 0u) {
    return Jacobi(1.0, 0.0);
  }
  let a = JACOBI_A;
  let b = JACOBI_B;
  var p0 = 1.0;
  var d0 = 0.0;
  var p1 = ((a - b) + (a + b + 2.0) * t) / 2.0;
  var d1 = (a + b + 2.0) / 2.0;
  for (var k = 2u; k <= j; k++) {
    let n = f32(k);
    let s = 2.0 * n + a + b;
    let tk = s * (s - 1.0) / (2.0 * n * (n + a + b));
    let tk1 = (s - 1.0) * (a * a - b * b) / (2.0 * n * (n + a + b) * (s - 2.0));
    let tk2 = (n + a - 1.0) * (n + b - 1.0) * s / (n * (n + a + b) * (s - 2.0));
    let p2 = (tk * t + tk1) * p1 - tk2 * p0;
    let d2 = tk * p1 + (tk * t + tk1) * d1 - tk2 * d0;
    p0 = p1;
    d0 = d1;
    p1 = p2;
    d1 = d2;
  }
  return Jacobi(p1, d1);
}

// tanh saturates to +-1 in f32 past |x| = 9; clamping keeps every implementation's tanh finite.
fn jacobi_t(x: f32) -> f32 {
  return tanh(clamp(x, -15.0, 15.0));
}

fn basis_value(i: u32, j: u32, x: f32) -> f32 {
  return jacobi_poly(j, jacobi_t(x)).p;
}

fn basis_dx(i: u32, j: u32, x: f32) -> f32 {
  let t = jacobi_t(x);
  return jacobi_poly(j, t).dp * (1.0 - t * t);
}

fn basis_dparam(i: u32, j: u32, x: f32, q: u32) -> f32 {
  return 0.0;
}

// Every function may be non-zero anywhere: the kernels visit all NB.
fn basis_range(i: u32, x: f32) -> vec2u {
  return vec2u(0u, NB);
}
