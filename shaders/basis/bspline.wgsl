// B-spline bases of order ORDER on a per-input knot vector (efficient-kan).
// basis_data holds the grid [in, NB + ORDER + 1] row-major. Knot intervals are
// half-open, so every basis is 0 at and past the last knot.
override ORDER: u32 = 3u;
const BASIS_PARAMS: u32 = 0u;
const MAX_ORDER: u32 = 7u;

// Value and d/dx of B_{j,ORDER}(x) for input i, by the Cox-de Boor recurrence
// carried forward with its derivative (what autograd computes through it).
fn bspline(i: u32, j: u32, x: f32) -> vec2f {
  let g0 = i * (NB + ORDER + 1u) + j;
  if (!(x >= basis_data[g0] && x < basis_data[g0 + ORDER + 1u])) {
    return vec2f(0.0, 0.0);
  }
  var v: array<f32, 8>;
  var d: array<f32, 8>;
  for (var m = 0u; m <= ORDER; m++) {
    v[m] = select(0.0, 1.0, x >= basis_data[g0 + m] && x < basis_data[g0 + m + 1u]);
    d[m] = 0.0;
  }
  for (var k = 1u; k <= ORDER; k++) {
    for (var m = 0u; m <= ORDER - k; m++) {
      let lo = basis_data[g0 + m];
      let lo1 = basis_data[g0 + m + 1u];
      let hi = basis_data[g0 + m + k];
      let hi1 = basis_data[g0 + m + k + 1u];
      let left = (x - lo) / (hi - lo);
      let right = (hi1 - x) / (hi1 - lo1);
      let nv = left * v[m] + right * v[m + 1u];
      let nd = v[m] / (hi - lo) + left * d[m] - v[m + 1u] / (hi1 - lo1) + right * d[m + 1u];
      v[m] = nv;
      d[m] = nd;
    }
  }
  return vec2f(v[0], d[0]);
}

// The value alone: the same recurrence without the derivative.
fn basis_value(i: u32, j: u32, x: f32) -> f32 {
  let g0 = i * (NB + ORDER + 1u) + j;
  if (!(x >= basis_data[g0] && x < basis_data[g0 + ORDER + 1u])) {
    return 0.0;
  }
  var v: array<f32, 8>;
  for (var m = 0u; m <= ORDER; m++) {
    v[m] = select(0.0, 1.0, x >= basis_data[g0 + m] && x < basis_data[g0 + m + 1u]);
  }
  for (var k = 1u; k <= ORDER; k++) {
    for (var m = 0u; m <= ORDER - k; m++) {
      let lo = basis_data[g0 + m];
      let hi1 = basis_data[g0 + m + k + 1u];
      v[m] = (x - lo) / (basis_data[g0 + m + k] - lo) * v[m] + (hi1 - x) / (hi1 - basis_data[g0 + m + 1u]) * v[m + 1u];
    }
  }
  return v[0];
}

fn basis_dx(i: u32, j: u32, x: f32) -> f32 {
  return bspline(i, j, x).y;
}

fn basis_dparam(i: u32, j: u32, x: f32, q: u32) -> f32 {
  return 0.0;
}

// Local support: the functions j in [range.x, range.y) are the only ones that
// may be non-zero at x, the ORDER + 1 whose knot span holds the interval
// t[m] <= x < t[m + 1], found by bisection. Empty outside the grid (or for NaN).
fn basis_range(i: u32, x: f32) -> vec2u {
  let g0 = i * (NB + ORDER + 1u);
  var lo = 0u;
  var hi = NB + ORDER;
  if (!(x >= basis_data[g0] && x < basis_data[g0 + hi])) {
    return vec2u(0u, 0u);
  }
  while (hi - lo > 1u) {
    let mid = (lo + hi) / 2u;
    if (x >= basis_data[g0 + mid]) { lo = mid; } else { hi = mid; }
  }
  return vec2u(max(lo, ORDER) - ORDER, min(lo + 1u, NB));
}
