// Wav-KAN's edge function (zavareh1/Wav-KAN KANLinear): phi(x) = w * psi((x - t) / s) with the edge's
// parameters th = [scale s, translation t, weight1 (unused by the forward), wavelet weight w], and
// psi chosen by WAVELET: 0 mexican_hat, 1 morlet, 2 dog, 3 meyer, 4 shannon. Derivatives as torch's
// autograd takes them: |u|' = sign(u) (0 at 0), torch.where differentiates the branch it picks,
// torch.sinc' (0) = 0.
override WAVELET: u32 = 0u;
const EDGE_PLANES: u32 = 4u;
const EDGE_DERIVS: u32 = 5u;
const PI: f32 = 3.14159265358979;
const MEXICAN_HAT_C: f32 = 0.8673250705840776; // 2 / (sqrt(3) * pi^0.25)

// Meyer's nu(t) = t^4 (35 - 84 t + 70 t^2 - 20 t^3) and its derivative.
fn meyer_nu(t: f32) -> vec2f {
  let t2 = t * t;
  let p = 35.0 - 84.0 * t + 70.0 * t2 - 20.0 * t2 * t;
  let dp = -84.0 + 140.0 * t - 60.0 * t2;
  return vec2f(t2 * t2 * p, 4.0 * t2 * t * p + t2 * t2 * dp);
}

// The Hamming window of the input index (torch.hamming_window(n_in, periodic=False)).
fn hamming(i: u32, n_in: u32) -> f32 {
  if (n_in == 1u) { return 1.0; }
  return 0.54 - 0.46 * cos(2.0 * PI * f32(i) / f32(n_in - 1u));
}

// psi(u) and dpsi/du.
fn wavelet_psi(u: f32, i: u32, n_in: u32) -> vec2f {
  switch WAVELET {
    case 0u: {
      let e = exp(-0.5 * u * u);
      return vec2f(MEXICAN_HAT_C * (u * u - 1.0) * e, MEXICAN_HAT_C * u * (3.0 - u * u) * e);
    }
    case 1u: {
      let e = exp(-0.5 * u * u);
      return vec2f(e * cos(5.0 * u), -e * (5.0 * sin(5.0 * u) + u * cos(5.0 * u)));
    }
    case 2u: {
      let e = exp(-0.5 * u * u);
      return vec2f(-u * e, (u * u - 1.0) * e);
    }
    case 3u: {
      let v = abs(u);
      var aux = 0.0;
      var daux = 0.0;
      if (v <= 0.5) {
        aux = 1.0;
      } else if (v < 1.0) {
        let n = meyer_nu(2.0 * v - 1.0);
        aux = cos(0.5 * PI * n.x);
        daux = -sin(0.5 * PI * n.x) * PI * n.y;
      }
      let dv = PI * cos(PI * v) * aux + sin(PI * v) * daux;
      return vec2f(sin(PI * v) * aux, sign(u) * dv);
    }
    default: {
      let h = hamming(i, n_in);
      if (abs(u) < 1e-3) { return vec2f(h * (1.0 - u * u / 6.0), -h * u / 3.0); }
      return vec2f(h * sin(u) / u, h * (u * cos(u) - sin(u)) / (u * u));
    }
  }
}

fn edge_value(x: f32, th: array<f32, EDGE_PLANES>, i: u32, n_in: u32) -> f32 {
  return th[3] * wavelet_psi((x - th[1]) / th[0], i, n_in).x;
}

fn edge_derivs(x: f32, th: array<f32, EDGE_PLANES>, i: u32, n_in: u32) -> array<f32, EDGE_DERIVS> {
  let u = (x - th[1]) / th[0];
  let f = wavelet_psi(u, i, n_in);
  let g = th[3] * f.y / th[0]; // w psi'(u) / s
  return array<f32, EDGE_DERIVS>(g, -g * u, -g, 0.0, f.x);
}
