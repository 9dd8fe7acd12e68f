// One basis per input: x itself (a dense layer, the MLP baseline).
const BASIS_PARAMS: u32 = 0u;

fn basis_value(i: u32, j: u32, x: f32) -> f32 {
  return x;
}

fn basis_dx(i: u32, j: u32, x: f32) -> f32 {
  return 1.0;
}

fn basis_dparam(i: u32, j: u32, x: f32, q: u32) -> f32 {
  return 0.0;
}

// Every function may be non-zero anywhere: the kernels visit all NB.
fn basis_range(i: u32, x: f32) -> vec2u {
  return vec2u(0u, NB);
}
