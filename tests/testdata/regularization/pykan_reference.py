"""pykan's own regularization, its autograd gradients and attribution scores, in float64.

Usage: python3 pykan_reference.py PYKAN_CHECKOUT > pykan_reference.json

PYKAN_CHECKOUT is a checkout of github.com/KindXiaoming/pykan (commit ecde4ec), e.g. made with
`git --git-dir=... archive HEAD | tar -x -C DIR`. The script builds a MultKAN [3, 4, 2] (grid 5, k 3),
gives it random float32-representable weights (masks, node and subnode scales 1), runs `forward` with
`save_act` on a float32-representable batch of 40 rows, then `reg('edge_forward_spline_n', ...)` and
`backward()`, and `attribute()`. It writes the weights in this module's state-dict names
(layers.<l>.grid / base_weight / spline_weight / spline_scaler) with pykan's values and gradients.
"""
import json
import sys

import numpy as np
import torch

sys.path.insert(0, sys.argv[1])
from kan.MultKAN import MultKAN  # noqa: E402

torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(11)


def f32(a):
    return torch.tensor(np.asarray(a, dtype=np.float32).astype(np.float64))


widths = [3, 4, 2]
batch = 40
settings = {"lambL1": 1.0, "lambEntropy": 2.0, "lambCoef": 0.5, "lambCoefdiff": 0.3}
model = MultKAN(width=list(widths), grid=5, k=3, seed=0, auto_save=False, save_act=True)
state = {}
for l, layer in enumerate(model.act_fun):
    n, m = layer.in_dim, layer.out_dim
    with torch.no_grad():
        layer.grid.data = f32(layer.grid.detach().numpy())
        layer.coef.data = f32(rng.normal(0, 0.6, size=(n, m, layer.coef.shape[2])))
        layer.scale_base.data = f32(rng.uniform(-1, 1, size=(n, m)))
        layer.scale_sp.data = f32(rng.uniform(0.2, 1.5, size=(n, m)))
        layer.mask.data = torch.ones(n, m)
    state[f"layers.{l}.grid"] = layer.grid.detach().numpy().ravel().tolist()
    state[f"layers.{l}.base_weight"] = layer.scale_base.detach().numpy().T.ravel().tolist()
    state[f"layers.{l}.spline_weight"] = layer.coef.detach().numpy().transpose(1, 0, 2).ravel().tolist()
    state[f"layers.{l}.spline_scaler"] = layer.scale_sp.detach().numpy().T.ravel().tolist()

x = f32(rng.uniform(-1, 1, size=(batch, widths[0]))).requires_grad_(True)
model(x)
reg = model.reg("edge_forward_spline_n", settings["lambL1"], settings["lambEntropy"], settings["lambCoef"],
                settings["lambCoefdiff"])
reg.backward()
grads = {}
for l, layer in enumerate(model.act_fun):
    grads[f"layers.{l}.base_weight"] = layer.scale_base.grad.numpy().T.ravel().tolist()
    grads[f"layers.{l}.spline_weight"] = layer.coef.grad.numpy().transpose(1, 0, 2).ravel().tolist()
    grads[f"layers.{l}.spline_scaler"] = layer.scale_sp.grad.numpy().T.ravel().tolist()

# Each layer's reg alone (the value a per-layer recorder writes).
layer_reg = []
for l in range(len(model.act_fun)):
    vec = model.acts_scale_spline[l]
    l1 = torch.sum(vec)
    p_row = vec / (torch.sum(vec, dim=1, keepdim=True) + 1)
    p_col = vec / (torch.sum(vec, dim=0, keepdim=True) + 1)
    entropy_row = -torch.mean(torch.sum(p_row * torch.log2(p_row + 1e-4), dim=1))
    entropy_col = -torch.mean(torch.sum(p_col * torch.log2(p_col + 1e-4), dim=0))
    coef = model.act_fun[l].coef
    coeff_l1 = torch.sum(torch.mean(torch.abs(coef), dim=1))
    coeff_diff_l1 = torch.sum(torch.mean(torch.abs(torch.diff(coef)), dim=1))
    layer_reg.append(float(settings["lambL1"] * l1 + settings["lambEntropy"] * (entropy_row + entropy_col)
                           + settings["lambCoef"] * coeff_l1 + settings["lambCoefdiff"] * coeff_diff_l1))

with torch.no_grad():
    model(x)
    model.attribute(plot=False)
out = {
    "pykan": "ecde4ec",
    "widths": widths,
    "gridSize": 5,
    "splineOrder": 3,
    "batch": batch,
    "settings": settings,
    "x": x.detach().numpy().ravel().tolist(),
    "state": state,
    "reg": float(reg),
    "layerReg": layer_reg,
    "grads": grads,
    "dx": x.grad.numpy().ravel().tolist(),
    "edgeActscale": [a.numpy().ravel().tolist() for a in model.edge_actscale],
    "subnodeActscale": [a.numpy().ravel().tolist() for a in model.subnode_actscale],
    "layerInputs": [a.detach().numpy().ravel().tolist() for a in model.acts],
    "edgeScores": [a.detach().numpy().ravel().tolist() for a in model.edge_scores],
    "nodeScores": [a.detach().numpy().ravel().tolist() for a in model.node_scores],
}
json.dump(out, sys.stdout)
