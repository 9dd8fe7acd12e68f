#!/usr/bin/python3
"""Checkpoints of the originals' own model classes, for tests/checkpoint_formats_test.ts.

Builds each original's model class (efficient-kan `KAN`, fast-kan `FastKAN`,
faster-kan `FasterKAN`, ReLU-KAN `ReLUKAN`, pykan `KAN`/`MultKAN`, and
torch.nn.Sequential MLPs), trains it a few steps so that no value is an init
value, and writes for each fixture NAME:

- NAME.safetensors: the original's `state_dict()`, F32, written by this script;
- NAME.json: the format name, the original's class and arguments, the model this
  module builds for it (`model`: `{class, in, out, options}` per layer, API names),
  the original's keys and shapes, an input batch `x` (with rows outside the grids)
  and the original's output `y`.

With `--verify DIR`, it loads instead every DIR/NAME.VARIANT.safetensors that
tests/testdata/checkpoints/write_for_verify.ts wrote (`stateDict({ to })` then
`saveSafetensors`) into a fresh original model with `load_state_dict(strict=True)`,
runs the batch saved beside it (DIR/NAME.VARIANT.json) and compares with the
output this module computed: it prints the max relative difference per file and
exits 1 when one exceeds 1e-5 (or a file fails to load).

Run (see README.md here):
  /usr/bin/python3 tests/testdata/checkpoints/generate.py --efficient-kan DIR --fast-kan DIR \
      --faster-kan DIR --relu-kan DIR --pykan DIR [--out DIR]
  /usr/bin/python3 tests/testdata/checkpoints/generate.py (same flags) --verify DIR

It needs Debian's python3-torch, and for pykan python3-numpy, -sympy, -matplotlib,
-sklearn (scikit-learn), -pandas, -yaml, -tqdm, -seaborn; nothing from PyPI.
"""

import argparse
import importlib.util
import json
import os
import struct
import subprocess
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
BOUND = 1e-5

# The commits the fixtures were generated from (the parity vectors' commits, and
# pykan's newest commit in the store this project reads).
COMMITS = {
    "efficient-kan": ("Blealtan/efficient-kan", "7b6ce1c87f18c8bc90c208f6b494042344216b11"),
    "fast-kan": ("ZiyaoLi/fast-kan", "17b65401c252334fffb5e63c9852dd8316d29e69"),
    "faster-kan": ("AthanasiosDelis/faster-kan", "3bcabc25c1ed5bceb04d58a8c73756a9fe54e81b"),
    "relu-kan": ("quiqi/relu_kan", "79eab7a27392eb5f33e119710f0e75ec902764c0"),
    "pykan": ("KindXiaoming/pykan", "ecde4ec3274d3bef1ad737479cf126aed38ab530"),
}


# --- safetensors, written and read here (no package needed) -------------------


def write_safetensors(path, tensors):
    """Writes {name: float tensor} as F32 safetensors, names sorted."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        a = tensors[name].detach().cpu().numpy().astype("<f4").copy(order="C")  # keeps 0-d shapes
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        blobs.append(a.tobytes())
        offset += a.nbytes
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def read_safetensors(path):
    """Reads an F32 safetensors file into {name: float32 tensor}."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        if e["dtype"] != "F32":
            raise ValueError(f"{path}: {name} has dtype {e['dtype']}, expected F32")
        b, end = e["data_offsets"]
        a = np.frombuffer(raw[8 + n + b : 8 + n + end], dtype="<f4").reshape(e["shape"])
        out[name] = torch.from_numpy(a.copy())
    return out


# --- the originals ---------------------------------------------------------------


def load_file(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Originals:
    """The originals' modules, imported from the checkouts given on the command line."""

    def __init__(self, a):
        self.efficient = load_file("orig_efficient_kan", os.path.join(a.efficient_kan, "src/efficient_kan/kan.py"))
        self.fast = load_file("orig_fastkan", os.path.join(a.fast_kan, "fastkan/fastkan.py"))
        # faster-kan's modules import each other as the package `fasterkan`.
        sys.path.insert(0, a.faster_kan)
        import fasterkan  # noqa: E402
        import fasterkan.fasterkan_layers  # noqa: E402

        self.faster = fasterkan
        self.faster_layers = fasterkan.fasterkan_layers
        self.relu = load_file("orig_relu_kan", os.path.join(a.relu_kan, "torch_relu_kan.py"))
        sys.path.insert(0, a.pykan)
        import kan  # noqa: E402

        self.pykan = kan
        for project, path in [
            ("efficient-kan", a.efficient_kan),
            ("fast-kan", a.fast_kan),
            ("faster-kan", a.faster_kan),
            ("relu-kan", a.relu_kan),
            ("pykan", a.pykan),
        ]:
            head = subprocess.run(["git", "-C", path, "rev-parse", "HEAD"], capture_output=True, text=True)
            if head.returncode == 0 and head.stdout.strip() != COMMITS[project][1]:
                print(f"warning: {path} is at {head.stdout.strip()}, the fixtures record {COMMITS[project][1]}")


def pykan_model(o, **kw):
    return o.pykan.KAN(auto_save=False, **kw)


def mlp(*mods):
    return torch.nn.Sequential(*mods)


def bspline(i, o, **opts):
    return {"class": "BSplineKAN", "in": i, "out": o, "options": opts}


def layer(cls, i, o, **opts):
    return {"class": cls, "in": i, "out": o, "options": opts}


# Each fixture: format, the original's class and arguments (as text, for the JSON), a builder,
# how it runs a batch, this module's model, and what happens to it before it is saved.
FIXTURES = [
    {
        "name": "efficient_kan_342",
        "format": "efficient-kan",
        "class": "efficient_kan.KAN",
        "args": {"layers_hidden": [3, 4, 2], "grid_size": 4, "spline_order": 2, "grid_range": [-1.5, 1.5]},
        "build": lambda o: o.efficient.KAN([3, 4, 2], grid_size=4, spline_order=2, grid_range=[-1.5, 1.5]),
        "model": [bspline(3, 4, gridSize=4, splineOrder=2, gridRange=[-1.5, 1.5]),
                  bspline(4, 2, gridSize=4, splineOrder=2, gridRange=[-1.5, 1.5])],
        "update_grid": "efficient",
    },
    {
        "name": "fast_kan_352",
        "format": "fast-kan",
        "class": "fastkan.FastKAN",
        "args": {"layers_hidden": [3, 5, 2], "grid_min": -1.5, "grid_max": 1.5, "num_grids": 6},
        "build": lambda o: o.fast.FastKAN([3, 5, 2], grid_min=-1.5, grid_max=1.5, num_grids=6),
        "model": [layer("FastKAN", 3, 5, gridMin=-1.5, gridMax=1.5, numGrids=6),
                  layer("FastKAN", 5, 2, gridMin=-1.5, gridMax=1.5, numGrids=6)],
    },
    {
        "name": "fast_kan_no_base",
        "format": "fast-kan",
        "class": "fastkan.FastKAN",
        "args": {"layers_hidden": [3, 4, 2], "use_base_update": False},
        "build": lambda o: o.fast.FastKAN([3, 4, 2], use_base_update=False),
        "model": [layer("FastKAN", 3, 4, useBaseUpdate=False), layer("FastKAN", 4, 2, useBaseUpdate=False)],
    },
    {
        # fasterkan_layers.FasterKAN at its defaults: grid_max 0.2, inv_denominator 0.5 (its forward uses 1).
        "name": "faster_kan_default",
        "format": "faster-kan",
        "class": "fasterkan.fasterkan_layers.FasterKAN",
        "args": {"layers_hidden": [3, 4, 2]},
        "build": lambda o: o.faster_layers.FasterKAN([3, 4, 2]),
        "model": [layer("FasterKAN", 3, 4), layer("FasterKAN", 4, 2)],
    },
    {
        # The package's export fasterkan.FasterKAN (fasterkan.py, grid_max default 1.2), other options.
        "name": "faster_kan_options",
        "format": "faster-kan",
        "class": "fasterkan.FasterKAN",
        "args": {"layers_hidden": [3, 4, 2], "grid_min": -2.0, "grid_max": 2.0, "num_grids": 6,
                 "inv_denominator": 0.8, "train_grid": True},
        "build": lambda o: o.faster.FasterKAN([3, 4, 2], grid_min=-2.0, grid_max=2.0, num_grids=6,
                                              inv_denominator=0.8, train_grid=True),
        "model": [layer("FasterKAN", 3, 4, gridMin=-2, gridMax=2, numGrids=6),
                  layer("FasterKAN", 4, 2, gridMin=-2, gridMax=2, numGrids=6)],
    },
    {
        "name": "relu_kan_251",
        "format": "relu-kan",
        "class": "torch_relu_kan.ReLUKAN",
        "args": {"width": [2, 5, 1], "grid": 5, "k": 3},
        "build": lambda o: o.relu.ReLUKAN([2, 5, 1], 5, 3),
        "model": [layer("ReLUKAN", 2, 5, g=5, k=3), layer("ReLUKAN", 5, 1, g=5, k=3)],
        "relu": True,
    },
    {
        "name": "relu_kan_g4k2",
        "format": "relu-kan",
        "class": "torch_relu_kan.ReLUKAN",
        "args": {"width": [3, 4, 2], "grid": 4, "k": 2},
        "build": lambda o: o.relu.ReLUKAN([3, 4, 2], 4, 2),
        "model": [layer("ReLUKAN", 3, 4, g=4, k=2), layer("ReLUKAN", 4, 2, g=4, k=2)],
        "relu": True,
    },
    {
        # Trained, grids updated twice (non-uniform), one edge masked off, node and subnode
        # scales and biases trained and then set to random values: needs `bias: true` here.
        "name": "pykan_251",
        "format": "pykan",
        "class": "kan.KAN (MultKAN)",
        "args": {"width": [2, 5, 1], "grid": 5, "k": 3, "seed": 0, "affine_trainable": True},
        "build": lambda o: pykan_model(o, width=[2, 5, 1], grid=5, k=3, seed=0, affine_trainable=True),
        "model": [bspline(2, 5, gridSize=5, splineOrder=3, bias=True),
                  bspline(5, 1, gridSize=5, splineOrder=3, bias=True)],
        "update_grid": "pykan",
        "pykan_affine": True,
    },
    {
        # base_fun "identity", grid 3, k 2; node and subnode affines left at 1 and 0: loads
        # into a model without bias.
        "name": "pykan_identity",
        "format": "pykan",
        "class": "kan.KAN (MultKAN)",
        "args": {"width": [3, 4, 2], "grid": 3, "k": 2, "base_fun": "identity", "seed": 1},
        "build": lambda o: pykan_model(o, width=[3, 4, 2], grid=3, k=2, base_fun="identity", seed=1),
        "model": [bspline(3, 4, gridSize=3, splineOrder=2, baseActivation="identity"),
                  bspline(4, 2, gridSize=3, splineOrder=2, baseActivation="identity")],
        "update_grid": "pykan",
    },
    {
        # Refused: a symbolic function switched on (fix_symbolic(0, 1, 2, "sin")).
        "name": "pykan_symbolic",
        "format": "pykan",
        "class": "kan.KAN (MultKAN)",
        "args": {"width": [2, 3, 1], "grid": 3, "k": 3, "seed": 2, "then": "fix_symbolic(0, 1, 2, 'sin')"},
        "build": lambda o: pykan_model(o, width=[2, 3, 1], grid=3, k=3, seed=2),
        "model": [bspline(2, 3, gridSize=3), bspline(3, 1, gridSize=3)],
        "symbolic": (0, 1, 2, "sin"),
        "refused": "symbolic",
    },
    {
        # Refused: multiplication nodes (width [2, [3, 2], 1]: 3 sum and 2 product nodes).
        "name": "pykan_mult",
        "format": "pykan",
        "class": "kan.MultKAN",
        "args": {"width": [2, [3, 2], 1], "grid": 3, "k": 3, "seed": 3},
        "build": lambda o: o.pykan.MultKAN(width=[2, [3, 2], 1], grid=3, k=3, seed=3, auto_save=False),
        "model": [bspline(2, 5, gridSize=3), bspline(5, 1, gridSize=3)],
        "refused": "multiplication",
    },
    {
        "name": "mlp_silu",
        "format": "torch",
        "class": "torch.nn.Sequential",
        "args": {"modules": "Linear(3, 8), SiLU(), Linear(8, 8), SiLU(), Linear(8, 2)"},
        "build": lambda o: mlp(torch.nn.Linear(3, 8), torch.nn.SiLU(), torch.nn.Linear(8, 8), torch.nn.SiLU(),
                               torch.nn.Linear(8, 2)),
        "model": [layer("Linear", 3, 8, activation="silu"), layer("Linear", 8, 8, activation="silu"),
                  layer("Linear", 8, 2)],
    },
    {
        "name": "mlp_relu_tanh",
        "format": "torch",
        "class": "torch.nn.Sequential",
        "args": {"modules": "Linear(2, 6), ReLU(), Linear(6, 4), Tanh(), Linear(4, 1), Tanh()"},
        "build": lambda o: mlp(torch.nn.Linear(2, 6), torch.nn.ReLU(), torch.nn.Linear(6, 4), torch.nn.Tanh(),
                               torch.nn.Linear(4, 1), torch.nn.Tanh()),
        "model": [layer("Linear", 2, 6, activation="relu"), layer("Linear", 6, 4, activation="tanh"),
                  layer("Linear", 4, 1, activation="tanh")],
    },
    {
        # ReLU-KAN's own exp_fitting.py recipe (default Adam, 1,000 random points in [0, 1)^2,
        # f5 = exp(sin(pi x1) + x2^2), 3,000 steps): its phases drift from the start of g 20, k 3,
        # further than from the start of g 21, k 2, so no phase-based guess of the split is safe.
        "name": "relu_kan_drift",
        "format": "relu-kan",
        "class": "torch_relu_kan.ReLUKAN",
        "args": {"width": [2, 5, 1], "grid": 20, "k": 3, "then": "exp_fitting: Adam(), 1000 points, f5, 3000 steps"},
        "build": lambda o: o.relu.ReLUKAN([2, 5, 1], 20, 3),
        "model": [layer("ReLUKAN", 2, 5, g=20, k=3), layer("ReLUKAN", 5, 1, g=20, k=3)],
        "relu": True,
        "recipe": "exp_fitting",
    },
    {
        # Phases never trained (requires_grad False in every layer, as ReLUKANLayer(train_ab=False)):
        # they are exactly the start of g 4, k 2, which is how a split other than the model's is refused.
        "name": "relu_kan_fixed_phases",
        "format": "relu-kan",
        "class": "torch_relu_kan.ReLUKAN",
        "args": {"width": [3, 4, 2], "grid": 4, "k": 2, "then": "phase_low, phase_height requires_grad False"},
        "build": lambda o: o.relu.ReLUKAN([3, 4, 2], 4, 2),
        "model": [layer("ReLUKAN", 3, 4, g=4, k=2, trainBoundaries=False),
                  layer("ReLUKAN", 4, 2, g=4, k=2, trainBoundaries=False)],
        "relu": True,
        "fixed_phases": True,
    },
]


def run(spec, model, x):
    """The original's output for a batch `[B, in]`, as `[B, out]`."""
    with torch.no_grad():
        if spec.get("relu"):
            return model(x[:, :, None])[:, :, 0]
        return model(x)


def sample(gen, n, dim, lo, hi):
    return lo + (hi - lo) * torch.rand(n, dim, generator=gen)


def exp_fitting(model, gen):
    """ReLU-KAN's exp_fitting.py: default Adam, 1,000 points in [0, 1)^2, f5, MSE, 3,000 full-batch steps."""
    xs = torch.rand(1000, 2, 1, generator=gen)
    ys = torch.exp(torch.sin(torch.pi * xs[:, [0]]) + xs[:, [1]] * xs[:, [1]])
    opt = torch.optim.Adam(model.parameters())
    for _ in range(3000):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(xs), ys)
        loss.backward()
        opt.step()


def train(spec, model, o, gen):
    """A few Adam steps on a smooth target (grid updates in between where the original has them)."""
    if spec.get("recipe") == "exp_fitting":
        return exp_fitting(model, gen)
    if spec.get("fixed_phases"):
        for rk in model.rk_layers:
            rk.phase_low.requires_grad_(False)
            rk.phase_height.requires_grad_(False)
    dim = spec["model"][0]["in"]
    lo, hi = (0.0, 1.0) if spec.get("relu") else (-1.0, 1.0)
    xs = sample(gen, 64, dim, lo, hi)
    ys = torch.sin(3 * xs).sum(1, keepdim=True).repeat(1, spec["model"][-1]["out"]) * 0.5
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=2e-2)
    for step in range(30):
        if step in (10, 20) and spec.get("update_grid") == "efficient":
            with torch.no_grad():
                model(xs, update_grid=True)
        if step in (10, 20) and spec.get("update_grid") == "pykan":
            model.update_grid(xs)
        opt.zero_grad()
        out = model(xs[:, :, None])[:, :, 0] if spec.get("relu") else model(xs)
        loss = torch.mean((out - ys) ** 2)
        loss.backward()
        opt.step()
    with torch.no_grad():
        if spec.get("pykan_affine"):
            for l in range(model.depth):
                for name in ["node_scale", "subnode_scale"]:
                    p = getattr(model, f"{name}_{l}")
                    p.copy_(0.5 + torch.rand(p.shape, generator=gen))
                for name in ["node_bias", "subnode_bias"]:
                    p = getattr(model, f"{name}_{l}")
                    p.copy_(0.6 * torch.rand(p.shape, generator=gen) - 0.3)
            model.act_fun[0].mask[1, 2] = 0.0  # one edge pruned
        if spec.get("symbolic"):
            l, i, j, fun = spec["symbolic"]
            model.fix_symbolic(l, i, j, fun, fit_params_bool=False, verbose=False, log_history=False)


def batch(spec, gen):
    """16 rows: 12 inside the grids' range, 4 well outside it."""
    dim = spec["model"][0]["in"]
    if spec.get("relu"):
        inside, outside = sample(gen, 12, dim, -0.1, 1.1), sample(gen, 4, dim, 1.6, 2.5)
    else:
        inside, outside = sample(gen, 12, dim, -1.2, 1.2), sample(gen, 4, dim, 2.0, 3.0)
        outside[1::2] *= -1
    return torch.cat([inside, outside])


def tensor_json(t):
    t = t.detach().float()
    return {"shape": list(t.shape), "data": [float(v) for v in t.reshape(-1).tolist()]}


def generate(o, out, only):
    os.makedirs(out, exist_ok=True)
    for index, spec in enumerate(FIXTURES):
        if only and spec["name"] not in only:
            continue
        torch.manual_seed(1000 + index)
        gen = torch.Generator().manual_seed(index)
        model = spec["build"](o)
        train(spec, model, o, gen)
        state = model.state_dict()
        x = batch(spec, gen)
        y = run(spec, model, x)
        project, commit = COMMITS.get(spec["format"], ("pytorch/pytorch", None))
        fixture = {
            "name": spec["name"],
            "format": spec["format"],
            "original": {"project": project, "commit": commit, "class": spec["class"], "args": spec["args"],
                         "torch": torch.__version__},
            "model": spec["model"],
            "refused": spec.get("refused"),
            "keys": [[k, list(v.shape)] for k, v in state.items()],
            "x": tensor_json(x),
            "y": tensor_json(y),
        }
        write_safetensors(os.path.join(out, spec["name"] + ".safetensors"), state)
        with open(os.path.join(out, spec["name"] + ".json"), "w") as f:
            json.dump(fixture, f)
        print(f"{spec['name']}: {len(state)} entries, y max |{y.abs().max().item():.3g}|")


def verify(o, folder):
    specs = {s["name"]: s for s in FIXTURES}
    files = sorted(f for f in os.listdir(folder) if f.endswith(".safetensors"))
    if not files:
        print(f"no .safetensors files in {folder}")
        return 1
    worst, failed = 0.0, 0
    for f in files:
        stem = f[: -len(".safetensors")]
        spec = specs.get(stem.split(".")[0])
        if spec is None:
            print(f"{f}: no fixture named {stem.split('.')[0]}")
            failed += 1
            continue
        with open(os.path.join(folder, stem + ".json")) as g:
            ours = json.load(g)
        model = spec["build"](o)
        try:
            model.load_state_dict(read_safetensors(os.path.join(folder, f)), strict=True)
        except Exception as e:  # noqa: BLE001 - report any refusal of the original
            print(f"{f}: load_state_dict(strict=True) failed: {e}")
            failed += 1
            continue
        x = torch.tensor(ours["x"]["data"], dtype=torch.float32).reshape(ours["x"]["shape"])
        want = torch.tensor(ours["y"]["data"], dtype=torch.float32).reshape(ours["y"]["shape"])
        got = run(spec, model, x)
        rel = ((got - want).abs().max() / want.abs().max()).item()
        worst = max(worst, rel)
        bad = not rel <= BOUND
        failed += bad
        print(f"{f}: max relative difference {rel:.3e}{'  ABOVE ' + str(BOUND) if bad else ''}")
    print(f"{len(files)} files, worst {worst:.3e}, {failed} failed (bound {BOUND})")
    return 1 if failed else 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--efficient-kan", required=True, help="checkout of Blealtan/efficient-kan")
    p.add_argument("--fast-kan", required=True, help="checkout of ZiyaoLi/fast-kan")
    p.add_argument("--faster-kan", required=True, help="checkout of AthanasiosDelis/faster-kan")
    p.add_argument("--relu-kan", required=True, help="checkout of quiqi/relu_kan")
    p.add_argument("--pykan", required=True, help="checkout of KindXiaoming/pykan")
    p.add_argument("--out", default=HERE, help="where the fixtures go (default: this folder)")
    p.add_argument("--verify", metavar="DIR", help="check the files write_for_verify.ts wrote to DIR")
    p.add_argument("--only", metavar="NAMES", help="comma-separated fixture names to (re)write (default: all)")
    a = p.parse_args()
    only = set(a.only.split(",")) if a.only else set()
    unknown = only - {s["name"] for s in FIXTURES}
    if unknown:
        p.error(f"--only: no fixture named {', '.join(sorted(unknown))}")
    torch.set_default_dtype(torch.float32)
    o = Originals(a)
    if a.verify:
        sys.exit(verify(o, a.verify))
    generate(o, a.out, only)


if __name__ == "__main__":
    main()
