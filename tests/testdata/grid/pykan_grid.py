"""Reference numbers for tests/grid_update_test.ts from pykan's own code.

Usage: PYTHONPATH=<pykan checkout> python3 tests/testdata/grid/pykan_grid.py > tests/testdata/grid/pykan_grid.json

pykan: KindXiaoming/pykan at ecde4ec (a checkout made with `git archive`,
outside this repository). Runs in float64; every input (batch, grid,
coefficients) is float32-representable so that the float32 module sees the
same numbers. Records, for a KANLayer(in_dim=3, out_dim=2, num=5, k=3):
  - `update_grid_from_samples(x)`: the new grid and the refitted coef;
  - `initialize_grid_from_parent(parent, x)` (what `refine` calls) from the
    updated layer to num=10 and num=7: the new grids.
"""
import json
import sys

import torch
from kan.KANLayer import KANLayer

torch.set_default_dtype(torch.float64)
torch.manual_seed(0)

IN, OUT, G, K, BATCH = 3, 2, 5, 3, 64


def f32(t):
    return t.float().double()


# A skewed, non-uniform batch: column 0 normal, column 1 squared uniform, column 2 exponential-ish.
x = torch.stack([
    0.6 * torch.randn(BATCH),
    torch.rand(BATCH) ** 2 * 1.6 - 0.8,
    torch.log(1 + 4 * torch.rand(BATCH)) - 0.7,
], dim=1)
x = f32(x)

layer = KANLayer(in_dim=IN, out_dim=OUT, num=G, k=K)
layer.grid.data = f32(layer.grid.data)
layer.coef.data = f32(torch.randn(IN, OUT, G + K) * 0.5)
old_grid = layer.grid.data.clone()
old_coef = layer.coef.data.clone()

layer.update_grid_from_samples(x)
new_grid = layer.grid.data.clone()
new_coef = layer.coef.data.clone()

refined = {}
for num in (10, 7):
    child = KANLayer(in_dim=IN, out_dim=OUT, num=num, k=K)
    child.initialize_grid_from_parent(layer, x)
    refined[str(num)] = child.grid.data.flatten().tolist()


def flat(t):
    return t.flatten().tolist()


json.dump({
    "source": "pykan ecde4ec KANLayer, float64; script tests/testdata/grid/pykan_grid.py",
    "in": IN, "out": OUT, "gridSize": G, "splineOrder": K, "batch": BATCH, "gridEps": layer.grid_eps,
    "x": flat(x),
    "oldGrid": flat(old_grid),
    "oldCoef": flat(old_coef),  # [in, out, G + k], pykan's layout
    "newGrid": flat(new_grid),
    "newCoef": flat(new_coef),
    "refinedGrid": refined,
}, sys.stdout)
