"""Reference numbers of pykan's symbolic fitting for tests/symbolic_fit_test.ts.

Usage: python3 make_pykan_reference.py PYKAN_CHECKOUT > pykan_reference.json

PYKAN_CHECKOUT is a checkout of github.com/KindXiaoming/pykan at ecde4ec (its
`kan` package is imported from there, never copied). For each curve below,
sampled at 201 evenly spaced points of [-1, 1], it records pykan's
`fit_params` (a, b, c, d, r2) for every function of `SYMBOLIC_LIB`, and the
ranking of `MultKAN.suggest_symbolic` (weight_simple 0.8, topk 5) on a [1, 1]
model whose single edge carries the curve.
"""
import contextlib
import io
import json
import math
import sys

sys.path.insert(0, sys.argv[1])
import numpy as np  # noqa: E402
import torch  # noqa: E402
from kan import KAN  # noqa: E402
from kan.utils import SYMBOLIC_LIB, fit_params  # noqa: E402

torch.set_default_dtype(torch.float64)

CURVES = {
    "2*sin(3*x - 1) + 0.5": lambda x: 2 * torch.sin(3 * x - 1) + 0.5,
    "0.3*(x + 0.5)^2 - 1": lambda x: 0.3 * (x + 0.5) ** 2 - 1,
    "exp(1.3*x)": lambda x: torch.exp(1.3 * x),
    "1/(x + 1.5)": lambda x: 1 / (x + 1.5),
    "exp(-(1.5*x - 0.3)^2)": lambda x: torch.exp(-((1.5 * x - 0.3) ** 2)),
    "tanh(2*x) + 0.1*x": lambda x: torch.tanh(2 * x) + 0.1 * x,
    "sin(pi*x)": lambda x: torch.sin(math.pi * x),
}


def suggest(x, y):
    model = KAN(width=[1, 1], grid=3, k=3, seed=0, auto_save=False)
    model(x[:, None])
    model.acts = [x[:, None]]
    model.spline_postacts = [y[:, None, None]]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        # suggest_symbolic prints its table with pandas; take the names from the return and the table
        best = model.suggest_symbolic(0, 0, 0, verbose=True, topk=5)
    names = [line.split()[1] for line in out.getvalue().splitlines()[1:6]]
    return best[0], names


reference = []
x = torch.linspace(-1, 1, 201)
for text, f in CURVES.items():
    y = f(x)
    fits = {}
    for name, content in SYMBOLIC_LIB.items():
        with contextlib.redirect_stdout(io.StringIO()):
            params, r2 = fit_params(x, y, content[0], verbose=False)
        a, b, c, d = (float(v) for v in params)
        fits[name] = {"a": a, "b": b, "c": c, "d": d, "r2": float(r2)}
    best, ranking = suggest(x, y)
    reference.append({"curve": text, "x": x.tolist(), "y": y.tolist(), "fits": fits, "best": best,
                      "ranking": ranking})
json.dump({"pykan": "ecde4ec", "points": 201, "curves": reference}, sys.stdout, indent=0)
