"""Parity vectors of SpaceLearner/JacobiKAN JacobiKANLayer (JacobiKANLayer.py).

usage: python3 generate_jacobikan.py CHECKOUT            # writes parity/family/jacobi_*.json
       python3 generate_jacobikan.py CHECKOUT --verify F.safetensors ...

Where tanh saturates, the original's d/dx is dP/dt * (1 - t^2) = 0, finite.
"""
import sys

import torch

from family_common import main, vector


def build(spec):
    from JacobiKANLayer import JacobiKANLayer
    o = spec["options"]
    return JacobiKANLayer(spec["in"], spec["out"], o.get("degree", 3), a=o.get("a", 1.0), b=o.get("b", 1.0))


def generate(checkout):
    torch.manual_seed(0)

    def layer(i, o, options):
        spec = {"class": "JacobiKAN", "in": i, "out": o, "options": options}
        return build(spec), spec

    vector("jacobi_default", [layer(4, 3, {})], torch.randn(6, 4) * 1.5, "JacobiKAN", checkout)
    vector("jacobi_legendre_two_layers", [layer(3, 4, {"degree": 5, "a": 0, "b": 0}),
                                          layer(4, 2, {"degree": 2, "a": 0, "b": 0})],
           torch.randn(5, 3), "JacobiKAN", checkout)
    x = torch.tensor([[0.0, 12.0, -12.0], [40.0, -40.0, 9.5], [3.0, -0.5, 1e-3], [-9.5, 20.0, 0.25]])
    vector("jacobi_asymmetric_saturated", [layer(3, 2, {"degree": 4, "a": -0.5, "b": 2.5})], x,
           "JacobiKAN", checkout)


if __name__ == "__main__":
    main(sys.argv, generate, build)
