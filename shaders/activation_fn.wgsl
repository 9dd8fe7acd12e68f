// The activations of Linear layers, value and derivative: ACT 0 = SiLU,
// 1 = ReLU, 2 = tanh. Used by activation.wgsl and by the fused step.
override ACT: u32 = 0u;

fn act(v: f32) -> f32 {
  switch ACT {
    case 0u: { return v / (1.0 + exp(-v)); }
    case 1u: { return max(v, 0.0); }
    default: { return tanh(clamp(v, -15.0, 15.0)); }
  }
}

fn act_grad(v: f32) -> f32 {
  switch ACT {
    case 0u: {
      let s = 1.0 / (1.0 + exp(-v));
      return s * (1.0 + v * (1.0 - s));
    }
    case 1u: { return select(0.0, 1.0, v > 0.0); }
    default: {
      let t = tanh(clamp(v, -15.0, 15.0));
      return 1.0 - t * t;
    }
  }
}
