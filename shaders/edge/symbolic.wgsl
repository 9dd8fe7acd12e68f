// pykan's symbolic edge (Symbolic_KANLayer): phi(x) = c * f(a * x + b) + d with the edge's parameters
// th = [f's index in SYMBOLIC_EDGE_FUNCTIONS (src/basis/symbolic_edge.ts; -1 = no function: phi = 0),
// a, b, c, d]. The functions are the exact ones (1/x at 0 is inf, as torch's), not the singularity-avoiding
// versions the fitting uses.
const EDGE_PLANES: u32 = 5u;
const EDGE_DERIVS: u32 = 6u;

// f(u) and f'(u) of function `id`.
fn symbolic_f(id: i32, u: f32) -> vec2f {
  switch id {
    case 0: { return vec2f(0.0, 0.0); } // 0
    case 1: { return vec2f(u, 1.0); } // x
    case 2: { return vec2f(u * u, 2.0 * u); } // x^2
    case 3: { return vec2f(u * u * u, 3.0 * u * u); } // x^3
    case 4: { return vec2f(u * u * u * u, 4.0 * u * u * u); } // x^4
    case 5: { let u2 = u * u; return vec2f(u2 * u2 * u, 5.0 * u2 * u2); } // x^5
    case 6: { return vec2f(1.0 / u, -1.0 / (u * u)); } // 1/x
    case 7: { return vec2f(1.0 / (u * u), -2.0 / (u * u * u)); } // 1/x^2
    case 8: { let u3 = u * u * u; return vec2f(1.0 / u3, -3.0 / (u3 * u)); } // 1/x^3
    case 9: { let u2 = u * u; return vec2f(1.0 / (u2 * u2), -4.0 / (u2 * u2 * u)); } // 1/x^4
    case 10: { let u2 = u * u; return vec2f(1.0 / (u2 * u2 * u), -5.0 / (u2 * u2 * u2)); } // 1/x^5
    case 11: { let s = sqrt(u); return vec2f(s, 0.5 / s); } // sqrt
    case 12: { let s = sqrt(u); return vec2f(s * s * s, 1.5 * s); } // x^1.5
    case 13: { let s = sqrt(u); return vec2f(1.0 / s, -0.5 / (s * s * s)); } // 1/sqrt(x)
    case 14: { let e = exp(u); return vec2f(e, e); } // exp
    case 15: { return vec2f(log(u), 1.0 / u); } // log
    case 16: { return vec2f(abs(u), sign(u)); } // abs
    case 17: { return vec2f(sin(u), cos(u)); } // sin
    case 18: { return vec2f(cos(u), -sin(u)); } // cos
    case 19: { let t = tan(u); return vec2f(t, 1.0 + t * t); } // tan
    case 20: { let t = tanh(u); return vec2f(t, 1.0 - t * t); } // tanh
    case 21: { return vec2f(sign(u), 0.0); } // sgn
    case 22: { return vec2f(asin(u), 1.0 / sqrt(1.0 - u * u)); } // arcsin
    case 23: { return vec2f(acos(u), -1.0 / sqrt(1.0 - u * u)); } // arccos
    case 24: { return vec2f(atan(u), 1.0 / (1.0 + u * u)); } // arctan
    case 25: { return vec2f(atanh(u), 1.0 / (1.0 - u * u)); } // arctanh
    case 26: { let e = exp(-u * u); return vec2f(e, -2.0 * u * e); } // gaussian
    default: { return vec2f(0.0, 0.0); }
  }
}

fn edge_value(x: f32, th: array<f32, EDGE_PLANES>, i: u32, n_in: u32) -> f32 {
  let id = i32(th[0]);
  if (id < 0) { return 0.0; }
  return th[3] * symbolic_f(id, th[1] * x + th[2]).x + th[4];
}

fn edge_derivs(x: f32, th: array<f32, EDGE_PLANES>, i: u32, n_in: u32) -> array<f32, EDGE_DERIVS> {
  let id = i32(th[0]);
  if (id < 0) { return array<f32, EDGE_DERIVS>(0.0, 0.0, 0.0, 0.0, 0.0, 0.0); }
  let f = symbolic_f(id, th[1] * x + th[2]);
  let g = th[3] * f.y; // c f'(a x + b)
  return array<f32, EDGE_DERIVS>(g * th[1], 0.0, g * x, g, f.x, 1.0);
}
