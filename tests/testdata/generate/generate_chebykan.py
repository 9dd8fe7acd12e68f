"""Parity vectors of SynodicMonth/ChebyKAN ChebyKANLayer (ChebyKANLayer.py).

usage: python3 generate_chebykan.py CHECKOUT            # writes parity/family/chebyshev_*.json
       python3 generate_chebykan.py CHECKOUT --verify F.safetensors ...

Where float32 tanh x is exactly +-1 (|x| above about 9), the original's autograd
through acos gives NaN for d/dx; the vector lists those entries
(`original_grad_x_nan`) and holds there the exact derivative, computed by the
recurrence T_{d+1} = 2t T_d - T_{d-1} with autograd (0 in float32), which this module returns.
"""
import sys

import torch

from family_common import main, vector


def recurrence_grad_x(layer):
    def grad_x(x, target):
        x = x.clone().requires_grad_(True)
        t = torch.tanh(x)
        ts = [torch.ones_like(t), t]
        for _ in range(2, layer.degree + 1):
            ts.append(2 * t * ts[-1] - ts[-2])
        basis = torch.stack(ts[: layer.degree + 1], dim=-1)
        y = torch.einsum("bid,iod->bo", basis, layer.cheby_coeffs.detach())
        ((y - target) ** 2).mean().backward()
        return x.grad
    return grad_x


def build(spec):
    from ChebyKANLayer import ChebyKANLayer
    return ChebyKANLayer(spec["in"], spec["out"], spec["options"].get("degree", 4))


def generate(checkout):
    torch.manual_seed(0)

    def layer(i, o, options):
        spec = {"class": "ChebyKAN", "in": i, "out": o, "options": options}
        return build(spec), spec

    l = layer(4, 3, {})
    vector("chebyshev_default", [l], torch.randn(6, 4) * 1.5, "ChebyKAN", checkout)
    vector("chebyshev_two_layers", [layer(3, 5, {"degree": 2}), layer(5, 2, {"degree": 6})],
           torch.randn(5, 3), "ChebyKAN", checkout)
    l = layer(3, 2, {"degree": 5})
    x = torch.tensor([[0.0, 12.0, -12.0], [40.0, -40.0, 9.5], [3.0, -0.5, 1e-3], [-9.5, 20.0, 0.25]])
    vector("chebyshev_saturated", [l], x, "ChebyKAN", checkout, fix_grad_x=recurrence_grad_x(l[0]),
           note="tanh x is exactly +-1 in float32 at |x| >= 9.5: the original's grad_x is NaN there")


if __name__ == "__main__":
    main(sys.argv, generate, build)
