"""Parity vectors of GistNoesis/FourierKAN NaiveFourierKANLayer (fftKAN.py).

usage: python3 generate_fourierkan.py CHECKOUT            # writes parity/family/fourier_*.json
       python3 generate_fourierkan.py CHECKOUT --verify F.safetensors ...
"""
import sys

import torch

from family_common import main, vector


def build(spec):
    from fftKAN import NaiveFourierKANLayer
    o = spec["options"]
    return NaiveFourierKANLayer(spec["in"], spec["out"], o.get("gridsize", 5), addbias=o.get("addbias", True),
                                smooth_initialization=o.get("smoothInitialization", False))


def generate(checkout):
    torch.manual_seed(0)

    def layer(i, o, options):
        spec = {"class": "FourierKAN", "in": i, "out": o, "options": options}
        m = build(spec)
        if m.addbias:  # the original starts at zero; a non-zero bias shows where it lands
            with torch.no_grad():
                m.bias.copy_(torch.randn(m.bias.shape))
        return m, spec

    vector("fourier_default", [layer(4, 3, {})], torch.randn(6, 4) * 2, "FourierKAN", checkout)
    vector("fourier_two_layers", [layer(3, 4, {"gridsize": 3, "addbias": False}),
                                  layer(4, 2, {"gridsize": 7, "smoothInitialization": True})],
           torch.randn(5, 3), "FourierKAN", checkout)
    x = torch.tensor([[0.0, 100.0, -100.0], [31.4159265, -6.2831853, 1e-3], [1000.0, -0.5, 2.0]])
    vector("fourier_large_inputs", [layer(3, 2, {"gridsize": 4})], x, "FourierKAN", checkout)


if __name__ == "__main__":
    main(sys.argv, generate, build)
