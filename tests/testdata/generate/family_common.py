"""Shared parts of the parity generators of ChebyKAN, JacobiKAN and FourierKAN.

Each generator imports the ORIGINAL layer from a checkout given on its command
line, runs it in float32 with torch, and writes vectors in the format of
tests/testdata/README.md into tests/testdata/parity/family/.

`--verify FILE.safetensors` instead loads a state dict written by this module
(see verify_family.ts) into the original with load_state_dict(strict=True) and
compares the original's output on the file's `x` with the file's `y`.
"""
import json
import os
import struct
import subprocess
import sys

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "parity", "family")


def tensor(t):
    t = t.detach().to(torch.float32).contiguous()
    return {"shape": list(t.shape), "data": [float(v) for v in t.reshape(-1).tolist()]}


def commit(checkout):
    try:
        return subprocess.check_output(["git", "-C", checkout, "rev-parse", "HEAD"], text=True, stderr=subprocess.DEVNULL).strip()
    except Exception:
        return os.environ.get("ORIGINAL_COMMIT", "unknown")


def vector(name, layers, x, original, checkout, fix_grad_x=None, note=None):
    """Runs `layers` (a list of (module, {class, in, out, options})) on x, MSE against a seeded target."""
    model = torch.nn.Sequential(*[m for m, _ in layers])
    x = x.clone().requires_grad_(True)
    y = model(x)
    g = torch.Generator().manual_seed(1234)
    target = torch.randn(y.shape, generator=g)
    loss = ((y - target) ** 2).mean()
    model.zero_grad()
    loss.backward()
    grad_x = x.grad.clone()
    extra = {}
    nan = torch.isnan(grad_x).reshape(-1).nonzero().reshape(-1).tolist()
    if nan:
        extra["original_grad_x_nan"] = nan
        if fix_grad_x is None:
            raise SystemExit(f"{name}: the original's grad_x has NaN at {nan} and no replacement was given")
        grad_x = fix_grad_x(x.detach(), target)
    state = {}
    grads = {}
    for i, (m, _) in enumerate(layers):
        for k, v in m.state_dict().items():
            state[f"layers.{i}.{k}"] = tensor(v.float())
        for k, p in m.named_parameters():
            if p.requires_grad:
                grads[f"layers.{i}.{k}"] = tensor(p.grad)
    out = {
        "name": name,
        "model": [spec for _, spec in layers],
        "state": state,
        "x": tensor(x),
        "y": tensor(y),
        "target": tensor(target),
        "loss_mse": float(loss),
        "grad": grads,
        "grad_x": tensor(grad_x),
        "reference": {"torch": torch.__version__, "peers": {original: commit(checkout)}},
        **extra,
    }
    if note:
        out["note"] = note
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump(out, f)
    print(f"wrote {name}.json: loss {float(loss):.6f}" + (f", original grad_x NaN at {nan}" if nan else ""))


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    body = raw[8 + n:]
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        if v["dtype"] != "F32":
            raise SystemExit(f"{k}: dtype {v['dtype']}")
        a, b = v["data_offsets"]
        out[k] = torch.from_numpy(np.frombuffer(body[a:b], dtype="<f4").copy()).reshape(v["shape"])
    return out


def verify(path, build):
    """Loads `path` (a Sequential's state, `layers.<i>.<name>`) into the original and compares y."""
    dict_ = read_safetensors(path)
    with open(path + ".json") as f:
        info = json.load(f)
    layers = [build(spec) for spec in info["model"]]
    model = torch.nn.Sequential(*layers)
    state = {k.removeprefix("layers."): v for k, v in dict_.items()}
    # A state dict's dtype follows the module's: ChebyKAN's arange buffer is int64.
    own = model.state_dict()
    state = {k: v.to(own[k].dtype) if k in own else v for k, v in state.items()}
    result = model.load_state_dict(state, strict=True)
    x = torch.tensor(info["x"]["data"], dtype=torch.float32).reshape(info["x"]["shape"])
    y = model(x).detach().reshape(-1)
    want = torch.tensor(info["y"]["data"], dtype=torch.float32)
    diff = float((y - want).abs().max() / want.abs().max())
    print(f"{path}: load_state_dict(strict=True) -> {result}; max |y - ours| / max |y| = {diff:.3e}")
    if diff > 1e-4:
        raise SystemExit("mismatch")


def main(argv, generate, build):
    if len(argv) < 2:
        raise SystemExit(f"usage: {argv[0]} ORIGINAL_CHECKOUT [--verify FILE.safetensors ...]")
    sys.path.insert(0, os.path.abspath(argv[1]))
    torch.set_num_threads(1)
    if len(argv) > 2 and argv[2] == "--verify":
        for path in argv[3:]:
            verify(path, build)
    else:
        generate(argv[1])
