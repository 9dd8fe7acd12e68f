// Fourier terms (FourierKAN): with G = NB / 2, phi_j(x) = cos((j + 1) x) for j < G and
// sin((j - G + 1) x) for j >= G, k x rounded to f32 first as the original's k * x is.
// No basis_data.
const BASIS_PARAMS: u32 = 0u;

// k * x reduced to [-pi, pi] (2 pi split in two parts so that n * 6.28125 is exact), so that
// cos and sin stay accurate on GPUs whose cos and sin are only accurate near 0.
fn fourier_angle(j: u32, x: f32) -> f32 {
  let g = NB / 2u;
  let a = f32(j % g + 1u) * x;
  let n = round(a * 0.15915494);
  return (a - n * 6.28125) - n * 0.0019353072;
}

fn basis_value(i: u32, j: u32, x: f32) -> f32 {
  let r = fourier_angle(j, x);
  return select(sin(r), cos(r), j < NB / 2u);
}

fn basis_dx(i: u32, j: u32, x: f32) -> f32 {
  let r = fourier_angle(j, x);
  let k = f32(j % (NB / 2u) + 1u);
  return select(k * cos(r), -k * sin(r), j < NB / 2u);
}

fn basis_dparam(i: u32, j: u32, x: f32, q: u32) -> f32 {
  return 0.0;
}

// Every function may be non-zero anywhere: the kernels visit all NB.
fn basis_range(i: u32, x: f32) -> vec2u {
  return vec2u(0u, NB);
}
