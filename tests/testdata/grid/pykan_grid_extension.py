"""pykan's own grid-extension run under the protocol of src/experiments/grid_extension.ts, for comparison.

Usage (in a scratch folder with a ./model folder, where pykan writes its history):
  PYTHONPATH=<pykan checkout> python3 tests/testdata/grid/pykan_grid_extension.py [STEPS] [GRIDS]
(e.g. 50 3,5,10,20,50,100). pykan: KindXiaoming/pykan at ecde4ec, float32 on the CPU.
f(x, y) = exp(sin(pi x) + y^2), create_dataset (1,000 train / 1,000 test on [-1, 1]^2),
KAN([2, 5, 1], grid=3, k=3, seed=0), model.fit(opt="LBFGS", steps=STEPS) (its defaults:
update_grid=True, grid_update_num=10, stop_grid_update_step=50), then model.refine(G) and fit again.
Prints one line per grid size: G, train RMSE, test RMSE, seconds.
"""
import sys
import time

import torch
from kan import KAN, create_dataset

steps = int(sys.argv[1]) if len(sys.argv) > 1 else 50
grids = [int(g) for g in (sys.argv[2] if len(sys.argv) > 2 else "3,5,10,20,50").split(",")]
torch.manual_seed(0)
f = lambda x: torch.exp(torch.sin(torch.pi * x[:, [0]]) + x[:, [1]] ** 2)
dataset = create_dataset(f, n_var=2, seed=0)
model = None
for i, g in enumerate(grids):
    model = KAN(width=[2, 5, 1], grid=g, k=3, seed=0, auto_save=False) if i == 0 else model.refine(g)
    start = time.time()
    r = model.fit(dataset, opt="LBFGS", steps=steps, log=steps + 1)
    print(f"G {g} train RMSE {r['train_loss'][-1]:.3e} test RMSE {r['test_loss'][-1]:.3e} "
          f"({time.time() - start:.1f} s)", flush=True)
